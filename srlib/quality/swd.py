"""Sliced Wasserstein distance (SWD) between the patch distributions of two image sets (Karras et al. 2018, ProGAN).

Each image is split into a Laplacian pyramid: level k holds the detail at
1/2**k of the full resolution (level - upsampled next level, with the
[1 4 6 4 1]^2/256 filter, reflect padding and zero-stuffing, as ProGAN's
`pyr_down`/`pyr_up`, i.e. OpenCV's pyrDown/pyrUp), the last level the coarsest
Gaussian level. From each level, 7x7x3 neighbourhoods at random positions
are the descriptors (147 numbers). As ProGAN's `finalize_descriptors` does,
each colour channel of a level's descriptors is normalised to mean 0 and std 1
over all descriptors (all positions, all 49 pixels) of that level, for each set
separately. Both sets are then projected onto random unit directions; for each
direction the sorted projections are compared (the 1-D Wasserstein-1 distance
between the two empirical distributions), averaged over directions, and
multiplied by 1e3 as ProGAN reports it.

SR and HR are compared as distributions, not pixel by pixel: the question is
whether the SR set's local textures look like the HR set's, at every scale.
Because of the per-set normalisation, a mere change of contrast of a level
counts for nothing; what counts is the shape of the patch distribution (how
pixels of a neighbourhood co-vary, how heavy its tails are).

One deviation from ProGAN, for less sampling noise: when the two sets hold
images of the same shapes in the same order (an SR set and its HR set), both
take their patches at the same positions (`paired=True`). Sorting still
compares the two distributions, but the noise of where the patches fell
cancels, and identical sets give exactly 0. `paired=False` draws the two sets
independently, as ProGAN does for real and generated images.

What it sees, on Set5 x4 (real and embedded samples, tests/test_swd.py): the
course PSNR model scores lower (better) than bicubic, and far lower than
bicubic + noise (sigma 0.03: worse at every level). Nearest-neighbour is worse
than the PSNR model at 1/2, 1/4 and 1/8 resolution, where its 4-px blocks are
sharp steps, but better at full resolution and hence on the mean of the
levels, which the full-resolution level dominates: there, a 7x7 patch of
nearest's block edges has the sharp, sparse look of HR detail and the PSNR
model's smooth edges do not. Read the levels, not only the mean.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import correlate1d

from ..errors import SrlibError
from ..metrics import as_hwc

PATCH = 7
MIN_SIZE = 16
"""The coarsest level keeps at least this many pixels on the shorter side (ProGAN went down to 16x16)."""

DEFAULT_PATCHES = 8192
"""Descriptors per set and level that the default patches_per_image aims at."""

_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


@dataclass(frozen=True)
class SwdResult:
    """SWD x 1e3 per pyramid level (finest first) and their mean.

    factors: each level's downscaling factor (1 = full resolution, 2, 4, ...);
    sides: each level's smallest and largest image side in px over both sets;
    descriptors: patches per set and level that were compared.
    """

    levels: tuple[float, ...]
    mean: float
    factors: tuple[int, ...]
    sides: tuple[tuple[int, int], ...]
    descriptors: int

    def __str__(self) -> str:
        parts = [f"1/{f} ({lo}-{hi} px): {v:.2f}" if lo != hi else f"1/{f} ({lo} px): {v:.2f}"
                 for f, (lo, hi), v in zip(self.factors, self.sides, self.levels)]
        return f"SWD x1e3 mean {self.mean:.2f}; per level " + ", ".join(parts) + f"; {self.descriptors} patches per level"


def _as_set(images, name: str) -> list[np.ndarray]:
    """One image or a list of them -> list of float32 (3, H, W) arrays, each checked by as_hwc."""
    single = (isinstance(images, np.ndarray) and images.ndim in (2, 3)) or (
        isinstance(images, torch.Tensor) and images.dim() == 3)
    try:
        items = [images] if single else list(images)
    except TypeError:
        raise SrlibError(f"the {name} set must be an image or a list of images, got {type(images).__name__}.") from None
    if not items:
        raise SrlibError(f"the {name} set is empty: pass an image or a list of images.")
    out = []
    for i, img in enumerate(items):
        a = as_hwc(img, f"{name} image {i}")
        if a.shape[2] == 1:
            a = np.repeat(a, 3, axis=2)
        if min(a.shape[:2]) < MIN_SIZE:
            raise SrlibError(f"the {name} image {i} is {a.shape[1]}x{a.shape[0]}; SWD needs at least "
                             f"{MIN_SIZE} px on each side (7x7 patches on a pyramid).")
        out.append(np.ascontiguousarray(a.transpose(2, 0, 1), dtype=np.float32))
    return out


def _blur(x: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """[1 4 6 4 1]^2/256 * gain**2 on a (3, H, W) array, reflect-padded (scipy's "mirror", ProGAN's mode); separable."""
    k = (_BINOMIAL * gain).astype(x.dtype)
    return correlate1d(correlate1d(x, k, axis=1, mode="mirror"), k, axis=2, mode="mirror")


def laplacian_pyramid(img: np.ndarray, levels: int) -> list[np.ndarray]:
    """(3, H, W) -> `levels` arrays: Laplacian levels finest first, then the coarsest Gaussian level.

    Down: blur, keep every 2nd pixel (sizes round up). Up: zero-stuff into the
    finer level's size, blur with 4x the filter (gain 2 per axis).
    """
    pyramid, g = [], img
    for _ in range(levels - 1):
        down = _blur(g)[:, ::2, ::2]
        up = np.zeros_like(g)
        up[:, ::2, ::2] = down
        pyramid.append(g - _blur(up, 2.0))
        g = down
    pyramid.append(g)
    return pyramid


def _level_sides(h: int, w: int, levels: int) -> list[tuple[int, int]]:
    sides = [(h, w)]
    for _ in range(levels - 1):
        h, w = (h + 1) // 2, (w + 1) // 2
        sides.append((h, w))
    return sides


def _max_levels(h: int, w: int, min_size: int) -> int:
    n, s = 1, min(h, w)
    while (s + 1) // 2 >= min_size:
        s, n = (s + 1) // 2, n + 1
    return n


def _positions(rng: np.random.Generator, h: int, w: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres of n 7x7 patches lying wholly inside an h x w level."""
    r = PATCH // 2
    return rng.integers(r, h - r, n), rng.integers(r, w - r, n)


def _patches(level: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """(3, H, W) level, n centres -> (n, 3, 7, 7) neighbourhoods."""
    off = np.arange(PATCH) - PATCH // 2
    rows, cols = ys[:, None] + off, xs[:, None] + off
    return level[:, rows[:, :, None], cols[:, None, :]].transpose(1, 0, 2, 3)


def _channel_stats(desc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per colour channel mean and std over all descriptors and their 49 pixels (a flat channel gets std 1, not NaN)."""
    mean = desc.mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    std = desc.std(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    return mean, np.where(std > 0, std, 1.0)


def _normalise(desc: np.ndarray, stats) -> np.ndarray:
    mean, std = stats
    return ((desc - mean) / std).astype(np.float32).reshape(desc.shape[0], -1)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, rng: np.random.Generator,
                       dir_repeats: int = 4, dirs_per_repeat: int = 128) -> float:
    """Mean over random unit directions of mean |sorted(a.d) - sorted(b.d)|; a, b are float32 (n, D) with equal n."""
    results = []
    for _ in range(dir_repeats):
        dirs = rng.standard_normal((dirs_per_repeat, a.shape[1]))
        dirs = (dirs / np.sqrt((dirs**2).sum(axis=1, keepdims=True))).astype(np.float32)
        pa, pb = np.sort(dirs @ a.T, axis=1), np.sort(dirs @ b.T, axis=1)  # numpy's sort is ~4x torch's here
        results.append(float(np.abs(pa - pb).mean()))
    return float(np.mean(results))


def _check_count(value, what: str, least: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise SrlibError(f"{what} must be a whole number >= {least}, got {value!r}.")
    return int(value)


def _choose_levels(shapes, levels) -> int:
    most = min(_max_levels(h, w, MIN_SIZE) for s in shapes for h, w in s)
    if levels is None:
        return most
    if _check_count(levels, "levels") > most:
        h, w = min((hw for s in shapes for hw in s), key=min)
        raise SrlibError(f"levels={levels} would take the smallest image ({w}x{h}) below {MIN_SIZE} px; "
                         f"at most {most} level(s) fit (or leave levels=None).")
    return levels


def _descriptors(images, draws, levels: int) -> list[np.ndarray]:
    """Per level, the (n, 3, 7, 7) neighbourhoods of all images at their drawn positions."""
    per_level: list[list[np.ndarray]] = [[] for _ in range(levels)]
    for img, positions in zip(images, draws):
        for k, (level, (ys, xs)) in enumerate(zip(laplacian_pyramid(img, levels), positions)):
            per_level[k].append(_patches(level, ys, xs))
    return [np.concatenate(d) for d in per_level]


def swd(sr_images, hr_images, *, seed: int = 0, patches_per_image: int | None = None, levels: int | None = None,
        dir_repeats: int = 4, dirs_per_repeat: int = 128, paired: bool = True) -> SwdResult:
    """Sliced Wasserstein distance x 1e3 between the 7x7 patch distributions of two sets, per pyramid level.

    sr_images, hr_images: an image or a list of images (HWC floats in [0, 1] or
    uint8, as `srlib.metrics.as_hwc` takes them; sizes may differ; grey is
    repeated to RGB). Lower is closer to HR's texture statistics; 0 = same.
    levels: pyramid levels; None = as many as keep the coarsest level of the
    smallest image at >= MIN_SIZE (16) px. patches_per_image: descriptors per
    image and level; None = enough for DEFAULT_PATCHES per level, at least 128
    per image (ProGAN's number): Set5 1639, Set14 586, BSD100 128. The larger
    set is subsampled so that both compare equally many. dir_repeats x
    dirs_per_repeat random directions per level (ProGAN: 4 x 128), new ones per
    level. Deterministic for a seed. paired: the same positions in SR image i
    and HR image i when the two sets have the same shapes (module docstring);
    False draws them independently, as ProGAN.
    """
    seed = _check_count(seed, "seed", 0)
    dir_repeats = _check_count(dir_repeats, "dir_repeats")
    dirs_per_repeat = _check_count(dirs_per_repeat, "dirs_per_repeat")
    sets = _as_set(sr_images, "SR"), _as_set(hr_images, "HR")
    fewest = min(len(s) for s in sets)
    if patches_per_image is None:
        patches_per_image = max(128, -(-DEFAULT_PATCHES // fewest))
    per_image = _check_count(patches_per_image, "patches_per_image")
    shapes = [[a.shape[1:] for a in s] for s in sets]
    levels = _choose_levels(shapes, levels)
    pos_seq, dir_seq, pick_seq = np.random.SeedSequence(seed).spawn(3)
    pos_rng, pick_rng, dir_rng = (np.random.default_rng(q) for q in (pos_seq, pick_seq, dir_seq))
    draws = [[[_positions(pos_rng, h, w, per_image) for h, w in _level_sides(*hw, levels)] for hw in shapes[0]]]
    if paired and shapes[0] == shapes[1]:
        draws.append(draws[0])
    else:
        draws.append([[_positions(pos_rng, h, w, per_image) for h, w in _level_sides(*hw, levels)] for hw in shapes[1]])
    descs = [_descriptors(images, d, levels) for images, d in zip(sets, draws)]
    n = fewest * per_image
    values = []
    for a, b in zip(*descs):
        a, b = (_normalise(x, _channel_stats(x)) for x in (a, b))  # each set by its own statistics, as ProGAN
        a, b = (x if len(x) == n else x[np.sort(pick_rng.choice(len(x), n, replace=False))] for x in (a, b))
        values.append(1e3 * sliced_wasserstein(a, b, dir_rng, dir_repeats, dirs_per_repeat))
    sides = []
    for k in range(levels):
        at_k = [_level_sides(h, w, levels)[k] for s in shapes for h, w in s]
        sides.append((min(min(hw) for hw in at_k), max(max(hw) for hw in at_k)))
    return SwdResult(tuple(values), float(np.mean(values)), tuple(2**k for k in range(levels)), tuple(sides), n)
