"""The Real-ESRGAN second-order degradation model (and BSRGAN's shuffled order), seeded, on torch tensors.

Wang et al. 2021 (Real-ESRGAN, section 3): blur -> resize -> noise -> JPEG, twice, then
[resize to the LR size + sinc] and JPEG in random order. Zhang et al. 2021 (BSRGAN, section 3.4):
the same kinds of operation in a random permutation, JPEG last. Every draw comes from a
torch.Generator, one per image, so an image's degradation is a function of its seed alone and
does not depend on the other images in its batch.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..errors import SrlibError
from .kernels import KERNEL_TYPES, bivariate_kernel, filter2d, sinc_kernel
from .noise import add_gaussian_noise, add_poisson_noise, jpeg_compress

YML = "Real-ESRGAN options/train_realesrgan_x4plus.yml"
ORDERS = ("realesrgan", "bsrgan")
RESIZE_MODES = ("area", "bilinear", "bicubic")  # realesrgan_model.py: random.choice(['area', 'bilinear', 'bicubic'])


@dataclass(frozen=True)
class PassOptions:
    """Ranges of one degradation pass; the defaults are the first pass of train_realesrgan_x4plus.yml."""

    kernel_sizes: tuple = tuple(range(7, 22, 2))  # BasicSR realesrgan_dataset.py: kernel_range = [2v+1 for v in range(3, 11)]
    kernel_list: tuple = KERNEL_TYPES  # yml datasets.train.kernel_list
    kernel_prob: tuple = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)  # yml datasets.train.kernel_prob
    sinc_prob: float = 0.1  # yml datasets.train.sinc_prob
    blur_sigma: tuple = (0.2, 3.0)  # yml datasets.train.blur_sigma (sigma_x and sigma_y alike)
    rotation_range: tuple = (-math.pi, math.pi)  # realesrgan_dataset.py: random_mixed_kernels(..., [-math.pi, math.pi])
    betag_range: tuple = (0.5, 4.0)  # yml datasets.train.betag_range (generalised Gaussian shape)
    betap_range: tuple = (1.0, 2.0)  # yml datasets.train.betap_range (plateau shape)
    resize_prob: tuple = (0.2, 0.7, 0.1)  # yml resize_prob: up, down, keep
    resize_range: tuple = (0.15, 1.5)  # yml resize_range
    gaussian_noise_prob: float = 0.5  # yml gaussian_noise_prob (else Poisson)
    noise_range: tuple = (1.0, 30.0)  # yml noise_range (Gaussian sigma, 0..255 scale)
    poisson_scale_range: tuple = (0.05, 3.0)  # yml poisson_scale_range
    gray_noise_prob: float = 0.4  # yml gray_noise_prob
    jpeg_range: tuple = (30, 95)  # yml jpeg_range (quality)

    def __post_init__(self):
        for name in ("blur_sigma", "rotation_range", "betag_range", "betap_range", "resize_range", "noise_range",
                     "poisson_scale_range", "jpeg_range"):
            lo, hi = getattr(self, name)
            if not lo <= hi:
                raise SrlibError(f"degradation option {name} = {(lo, hi)} must be (low, high) with low <= high.")
        for name in ("kernel_prob", "resize_prob"):
            p = getattr(self, name)
            if min(p) < 0 or abs(sum(p) - 1) > 1e-6:
                raise SrlibError(f"degradation option {name} = {p} must be probabilities that sum to 1.")
        if len(self.kernel_prob) != len(self.kernel_list) or len(self.resize_prob) != 3:
            raise SrlibError("kernel_prob needs one probability per kernel_list entry, resize_prob three (up, down, keep).")
        if not 1 <= self.jpeg_range[0] <= self.jpeg_range[1] <= 100:
            raise SrlibError(f"jpeg_range {self.jpeg_range} must lie in 1..100.")
        if any(k < 1 or k % 2 == 0 for k in self.kernel_sizes):
            raise SrlibError(f"kernel_sizes {self.kernel_sizes} must be odd positive integers.")


SECOND_PASS = PassOptions(  # the yml's "*2" keys (datasets.train.*2 for the kernels)
    sinc_prob=0.1,  # yml sinc_prob2
    blur_sigma=(0.2, 1.5),  # yml blur_sigma2
    betag_range=(0.5, 4.0),  # yml betag_range2
    betap_range=(1.0, 2.0),  # yml betap_range2
    resize_prob=(0.3, 0.4, 0.3),  # yml resize_prob2
    resize_range=(0.3, 1.2),  # yml resize_range2
    gaussian_noise_prob=0.5,  # yml gaussian_noise_prob2
    noise_range=(1.0, 25.0),  # yml noise_range2
    poisson_scale_range=(0.05, 2.5),  # yml poisson_scale_range2
    gray_noise_prob=0.4,  # yml gray_noise_prob2
    jpeg_range=(30, 95),  # yml jpeg_range2
)


@dataclass(frozen=True)
class RealESRGANOptions:
    """All ranges of the degradation model, from Real-ESRGAN's train_realesrgan_x4plus.yml and code."""

    first: PassOptions = field(default_factory=PassOptions)  # yml first-degradation keys
    second: PassOptions = SECOND_PASS  # yml "*2" keys
    second_blur_prob: float = 0.8  # yml second_blur_prob
    final_sinc_prob: float = 0.8  # yml datasets.train.final_sinc_prob
    final_sinc_cutoff: tuple = (math.pi / 3, math.pi)  # realesrgan_dataset.py: final sinc omega_c
    sinc_cutoff_small: tuple = (math.pi / 3, math.pi)  # realesrgan_dataset.py: omega_c for kernel_size < 13
    sinc_cutoff_large: tuple = (math.pi / 5, math.pi)  # realesrgan_dataset.py: omega_c for kernel_size >= 13
    resize_then_jpeg_prob: float = 0.5  # realesrgan_model.py: np.random.uniform() < 0.5 -> [resize back + sinc] first

    def replace(self, **changes) -> "RealESRGANOptions":
        return dataclasses.replace(self, **changes)


# ---- drawing -------------------------------------------------------------------------------------


def _u(g: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=g, dtype=torch.float64))


def _bern(g: torch.Generator, p: float) -> bool:
    return float(torch.rand((), generator=g, dtype=torch.float64)) < p


def _choice(g: torch.Generator, items, probs=None):
    if probs is None:
        return items[int(torch.randint(len(items), (), generator=g))]
    u, acc = float(torch.rand((), generator=g, dtype=torch.float64)), 0.0
    for item, p in zip(items, probs):
        acc += p
        if u < acc:
            return item
    return items[-1]


def _beta(g: torch.Generator, lo: float, hi: float) -> float:
    """BasicSR's shape draw: half the time in [lo, 1], half in [1, hi]."""
    return _u(g, lo, 1.0) if _bern(g, 0.5) else _u(g, 1.0, hi)


def draw_kernel(g: torch.Generator, p: PassOptions, opts: RealESRGANOptions) -> dict:
    """Parameters of one blur kernel (realesrgan_dataset.py: sinc with sinc_prob, else random_mixed_kernels)."""
    size = _choice(g, p.kernel_sizes)
    if _bern(g, p.sinc_prob):
        cutoff = _u(g, *(opts.sinc_cutoff_small if size < 13 else opts.sinc_cutoff_large))
        return {"type": "sinc", "size": size, "cutoff": cutoff}
    kind = _choice(g, p.kernel_list, p.kernel_prob)
    sx = _u(g, *p.blur_sigma)
    iso = not kind.endswith("aniso")
    sy, theta = (sx, 0.0) if iso else (_u(g, *p.blur_sigma), _u(g, *p.rotation_range))
    d = {"type": kind, "size": size, "sigma_x": sx, "sigma_y": sy, "theta": theta}
    if kind.startswith("generalized"):
        d["beta"] = _beta(g, *p.betag_range)
    elif kind.startswith("plateau"):
        d["beta"] = _beta(g, *p.betap_range)
    return d


def make_kernel(d: dict) -> torch.Tensor:
    """The kernel tensor for parameters from `draw_kernel`."""
    if d["type"] == "sinc":
        return sinc_kernel(d["size"], d["cutoff"])
    return bivariate_kernel(d["type"], d["size"], d["sigma_x"], d["sigma_y"], d["theta"], d.get("beta", 1.0))


def _draw_resize(g: torch.Generator, p: PassOptions) -> dict:
    direction = _choice(g, ("up", "down", "keep"), p.resize_prob)
    factor = {"up": lambda: _u(g, 1.0, p.resize_range[1]), "down": lambda: _u(g, p.resize_range[0], 1.0),
              "keep": lambda: 1.0}[direction]()
    return {"direction": direction, "factor": factor, "mode": _choice(g, RESIZE_MODES)}


def _draw_noise(g: torch.Generator, p: PassOptions) -> dict:
    if _bern(g, p.gaussian_noise_prob):
        d = {"type": "gaussian", "sigma": _u(g, *p.noise_range)}
    else:
        d = {"type": "poisson", "scale": _u(g, *p.poisson_scale_range)}
    d["gray"] = _bern(g, p.gray_noise_prob)
    return d


def _draw_jpeg(g: torch.Generator, p: PassOptions) -> dict:
    lo, hi = p.jpeg_range
    return {"quality": int(torch.randint(int(lo), int(hi) + 1, (), generator=g))}


# ---- operations ------------------------------------------------------------------------------------


def _resize(x: torch.Tensor, mode: str, size=None, factor=None) -> torch.Tensor:
    kw = {} if mode == "area" else {"align_corners": False}
    if size is not None:
        return F.interpolate(x, size=tuple(max(1, s) for s in size), mode=mode, **kw)
    if factor == 1.0:
        return x
    h, w = x.shape[-2:]
    if int(h * factor) < 1 or int(w * factor) < 1:
        return F.interpolate(x, size=(max(1, int(h * factor)), max(1, int(w * factor))), mode=mode, **kw)
    return F.interpolate(x, scale_factor=factor, mode=mode, **kw)


def _blur(x, g, p, opts):
    d = draw_kernel(g, p, opts)
    k = make_kernel(d)
    return filter2d(x, k), {**d, "kernel": k}


def _noise(x, g, p):
    d = _draw_noise(g, p)
    if d["type"] == "gaussian":
        return add_gaussian_noise(x, d["sigma"], d["gray"], g), d
    return add_poisson_noise(x, d["scale"], d["gray"], g), d


def _jpeg(x, g, p):
    d = _draw_jpeg(g, p)
    return jpeg_compress(x, d["quality"]), d


def _final_sinc(x, g, opts, lr_size):
    """[resize to the LR size + sinc] (realesrgan_model.py); the sinc with final_sinc_prob, else none (a pulse)."""
    mode = _choice(g, RESIZE_MODES)
    x = _resize(x, mode, size=lr_size)
    d = {"mode": mode, "size": tuple(lr_size)}
    if _bern(g, opts.final_sinc_prob):
        size = _choice(g, opts.first.kernel_sizes)
        d.update(sinc_size=size, cutoff=_u(g, *opts.final_sinc_cutoff))
        d["kernel"] = sinc_kernel(size, d["cutoff"])
        x = filter2d(x, d["kernel"])
    return x, d


def _realesrgan(x, scale, g, opts, record):
    h, w = x.shape[-2:]
    lr_size = (h // scale, w // scale)
    for i, p in ((1, opts.first), (2, opts.second)):
        if i == 1 or _bern(g, opts.second_blur_prob):
            x, d = _blur(x, g, p, opts)
        else:
            d = {"type": "none (second_blur_prob)"}
        record(f"blur {i}", x, d)
        d = _draw_resize(g, p)
        if i == 1:
            x = _resize(x, d["mode"], factor=d["factor"])
        else:  # realesrgan_model.py: size = int(ori_h / scale * factor)
            x = _resize(x, d["mode"], size=(int(h / scale * d["factor"]), int(w / scale * d["factor"])))
        record(f"resize {i}", x, d)
        x, d = _noise(x, g, p)
        record(f"noise {i}", x, d)
        x, d = _jpeg(x, g, p)
        record(f"jpeg {i}", x, d)
    if _bern(g, opts.resize_then_jpeg_prob):
        x, d = _final_sinc(x, g, opts, lr_size)
        record("resize to LR + sinc", x, d)
        x, d = _jpeg(x, g, opts.second)
        record("jpeg final", x, d)
    else:
        x, d = _jpeg(x, g, opts.second)
        record("jpeg final", x, d)
        x, d = _final_sinc(x, g, opts, lr_size)
        record("resize to LR + sinc", x, d)
    return x


BSRGAN_OPS = ("blur 1", "blur 2", "random resize", "resize to LR", "noise", "jpeg")


def _bsrgan(x, scale, g, opts, record):
    """BSRGAN's order (utils_blindsr.py degradation_bsrgan): the operations shuffled, the random resize kept
    before the resize to the LR size, JPEG once more at the end; each operation draws from Real-ESRGAN's ranges."""
    h, w = x.shape[-2:]
    order = [BSRGAN_OPS[int(j)] for j in torch.randperm(len(BSRGAN_OPS), generator=g)]
    a, b = order.index("random resize"), order.index("resize to LR")
    if a > b:
        order[a], order[b] = order[b], order[a]
    for name in order:
        if name in ("blur 1", "blur 2"):
            x, d = _blur(x, g, opts.first if name == "blur 1" else opts.second, opts)
        elif name == "random resize":
            d = _draw_resize(g, opts.first)
            x = _resize(x, d["mode"], factor=d["factor"])
        elif name == "resize to LR":
            d = {"mode": _choice(g, RESIZE_MODES), "size": (h // scale, w // scale)}
            x = _resize(x, d["mode"], size=d["size"])
        elif name == "noise":
            x, d = _noise(x, g, opts.first)
        else:
            x, d = _jpeg(x, g, opts.first)
        record(name, x, {**d, "order": order})
    x, d = _jpeg(x, g, opts.second)
    record("jpeg final", x, d)
    return x


# ---- public ----------------------------------------------------------------------------------------


def _check_hr(hr, scale: int) -> torch.Tensor:
    if not isinstance(hr, torch.Tensor):
        raise SrlibError(f"degrade_realesrgan takes a torch tensor (N, 3, H, W) in [0, 1], got {type(hr).__name__}; "
                         "use srlib.data.to_tensor(img).")
    if hr.dim() == 3:
        hr = hr.unsqueeze(0)
    if hr.dim() != 4 or hr.shape[1] != 3:
        raise SrlibError(f"expected RGB images shaped (N, 3, H, W), got {tuple(hr.shape)}.")
    if not hr.is_floating_point():
        raise SrlibError(f"expected float images in [0, 1], got dtype {hr.dtype}; divide uint8 by 255.")
    if isinstance(scale, bool) or int(scale) != scale or scale < 1:
        raise SrlibError(f"scale must be a positive integer, got {scale!r}.")
    h, w = hr.shape[-2:]
    if h % scale or w % scale or h < scale or w < scale:
        raise SrlibError(f"image size {h}x{w} is not a multiple of the scale {scale}; crop it first "
                         "(srlib.degrade.crop_to_multiple).")
    x = hr.detach().cpu().float()
    if not torch.isfinite(x).all():
        raise SrlibError(f"the HR images hold {int((~torch.isfinite(x)).sum())} NaN or infinite value(s); fix the source.")
    lo, hi = float(x.min()), float(x.max())
    if lo < -1e-3 or hi > 1 + 1e-3:
        hint = " They look like 0..255 values: divide by 255." if hi > 2 else ""
        raise SrlibError(f"HR images must lie in [0, 1], got values from {lo:.4g} to {hi:.4g}.{hint}")
    return x.clamp(0, 1)


def _generators(n: int, seed, generator, generators) -> list[torch.Generator]:
    given = sum(v is not None for v in (seed, generator, generators))
    if given != 1:
        raise SrlibError("pass exactly one of seed=, generator= or generators= (one per image): the degradation is random "
                         "and must be seeded to be reproducible.")
    if generators is not None:
        if len(generators) != n:
            raise SrlibError(f"got {len(generators)} generators for {n} images; pass one per image.")
        return list(generators)
    g = generator if generator is not None else torch.Generator().manual_seed(int(seed))
    return [g] * n


def _degrade_one(x: torch.Tensor, scale: int, g: torch.Generator, opts: RealESRGANOptions, order: str, record) -> torch.Tensor:
    run = {"realesrgan": _realesrgan, "bsrgan": _bsrgan}[order]
    out = run(x, scale, g, opts, record)
    out = torch.round(out.clamp(0, 1) * 255) / 255  # realesrgan_model.py: clamp((out * 255).round(), 0, 255) / 255
    record("8-bit", out, {})
    return out


def degrade_realesrgan(hr: torch.Tensor, scale: int = 4, *, seed: int | None = None, generator: torch.Generator | None = None,
                       generators=None, options: RealESRGANOptions | None = None, order: str = "realesrgan",
                       return_params: bool = False):
    """Degrade HR images (N, 3, H, W) in [0, 1] to LR (N, 3, H/scale, W/scale) on the 8-bit grid, Real-ESRGAN style.

    Seeded: the same seed gives the same output bit for bit. With `seed` or `generator` the images draw one
    after another from one stream; `generators` (one per image) makes each image depend on its own stream only
    (what RealWorldPatchDataset uses). order="bsrgan" shuffles the operations as BSRGAN does. With
    return_params, also returns one list of (step name, params) per image.
    """
    if order not in ORDERS:
        raise SrlibError(f"unknown degradation order {order!r}; known: {', '.join(ORDERS)}.")
    x = _check_hr(hr, scale)
    opts = options or RealESRGANOptions()
    gens = _generators(x.shape[0], seed, generator, generators)
    outs, params = [], []
    for img, g in zip(x.split(1), gens):
        steps = []
        outs.append(_degrade_one(img, scale, g, opts, order, lambda n, _x, d: steps.append((n, d))))
        params.append(steps)
    lr = torch.cat(outs).to(hr.device)  # computed on the CPU: JPEG is PIL's
    return (lr, params) if return_params else lr


def degrade_realesrgan_steps(hr: torch.Tensor, scale: int = 4, *, seed: int = 0, options: RealESRGANOptions | None = None,
                             order: str = "realesrgan") -> list[tuple[str, torch.Tensor, dict]]:
    """One image's degradation step by step: [(name, image (3, h, w) after the step, params drawn)], input first.

    The last image equals degrade_realesrgan(hr, scale, seed=seed, ...) for that image.
    """
    if order not in ORDERS:
        raise SrlibError(f"unknown degradation order {order!r}; known: {', '.join(ORDERS)}.")
    x = _check_hr(hr, scale)
    if x.shape[0] != 1:
        raise SrlibError(f"degrade_realesrgan_steps shows one image; got a batch of {x.shape[0]} (pass hr[i]).")
    steps = [("input", x[0], {})]
    g = torch.Generator().manual_seed(int(seed))
    _degrade_one(x, scale, g, options or RealESRGANOptions(), order, lambda n, img, d: steps.append((n, img[0].clone(), d)))
    return steps
