"""PSNR and SSIM with the super-resolution literature's conventions.

The published tables measure on the luma (Y) channel of MATLAB's `rgb2ycbcr`,
after cropping `scale` pixels from every border, on 8-bit images. MATLAB's
`rgb2ycbcr` on uint8 input returns uint8 Y, i.e. Y rounded to integers
(`round_y=True`, the default: it reproduces the tables, e.g. Set5 x4 bicubic
28.42 dB). BasicSR's `to_y_channel` computes Y in floating point and does not
round it: `round_y=False` matches BasicSR (+0.013 dB on Set5 x4 bicubic). Both
score 8-bit images, i.e. the SR image rounded to 8 bits (`quantize=True`). Each
convention is a switch, so that notebook 01 can show what each one is worth in dB.

Every image entering a metric passes through `as_hwc`, the one place where
images are checked: see its docstring for what is accepted.
"""
from __future__ import annotations

import operator

import numpy as np
import torch
from scipy.ndimage import correlate1d

from .errors import SrlibError

RANGE_MARGIN = 0.5
"""How far outside [0, 1] a float image may reach and still count as a [0, 1] image.

An upscaler's float output overshoots [0, 1] at sharp edges (MATLAB bicubic
reaches -0.135 and 1.095 on Set14 x4; an untrained or GAN generator more);
the literature clips such values when it saves 8-bit images, and so do
`quantize=True` and `save_image`. Data in 0..255 exceed 1.5 as soon as one pixel
is brighter than 1.5 grey levels, and data in -1..1 go below -0.5 as soon as one
pixel is darker than 25 % grey: both are refused, not mis-scored.
"""

_INT_PEAKS = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def _range_hint(lo: float, hi: float) -> str:
    if hi > 1 + RANGE_MARGIN and lo >= -RANGE_MARGIN and hi <= 255.5:
        return " It looks like 0..255 data: divide by 255 (or pass a uint8 array)."
    if lo < -RANGE_MARGIN and lo >= -1.5 and hi <= 1 + RANGE_MARGIN:
        return " It looks like -1..1 data: use (x + 1) / 2."
    return ""


def as_hwc(img, name: str = "image") -> np.ndarray:
    """Any course image -> float64 (H, W, C) array in [0, 1] (C = 1 or 3), checked.

    Accepts arrays or tensors shaped (1, C, H, W), (C, H, W) (tensors), (H, W, C)
    or (H, W) (arrays). uint8 is scaled by 1/255 and uint16 by 1/65535; floats must
    lie in [0, 1] up to `RANGE_MARGIN` (overshoot is kept, not clipped). NaN, inf,
    other integer types and empty images are refused with a `SrlibError` naming `name`.
    """
    if isinstance(img, torch.Tensor):
        t = img.detach().cpu()
        if t.dim() == 4:
            if t.shape[0] != 1:
                raise SrlibError(f"expected one image, got a batch of {t.shape[0]}: pass one at a time (img[i]).")
            t = t[0]
        if t.dim() == 3:
            t = t.permute(1, 2, 0)
        a = t.double().numpy() if t.is_floating_point() else t.numpy()
    else:
        a = np.asarray(img)
    if a.dtype in _INT_PEAKS:
        a = a.astype(np.float64) / _INT_PEAKS[a.dtype]
    elif a.dtype.kind == "f":
        a = a.astype(np.float64)
    else:
        raise SrlibError(
            f"the {name} has dtype {a.dtype}; course images are floats in [0, 1], uint8 (0..255) or uint16 "
            "(0..65535). Convert it, e.g. img.astype(np.uint8) for 0..255 integers."
        )
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3):
        raise SrlibError(f"expected an RGB or grayscale image, got shape {a.shape}.")
    if a.size == 0:
        raise SrlibError(f"the {name} is empty (shape {a.shape}).")
    finite = np.isfinite(a)
    if not finite.all():
        bad = int((~finite).sum())
        raise SrlibError(
            f"the {name} holds {bad} NaN or infinite value(s) of {a.size}: a model that diverged, or a division "
            "by zero upstream. Fix the source (e.g. a lower learning rate), do not score it."
        )
    lo, hi = float(a.min()), float(a.max())
    if lo < -RANGE_MARGIN or hi > 1 + RANGE_MARGIN:
        raise SrlibError(
            f"the {name} holds values from {lo:.4g} to {hi:.4g}, but float images are in [0, 1] "
            f"(up to {RANGE_MARGIN} outside is allowed as an upscaler's overshoot).{_range_hint(lo, hi)}"
        )
    return a


def check_crop(crop) -> int:
    """The border crop as an int >= 0 (SrlibError otherwise)."""
    try:
        c = operator.index(crop)
    except TypeError:
        raise SrlibError(f"crop must be a whole number of pixels, got {crop!r}.") from None
    if isinstance(crop, bool) or c < 0:
        raise SrlibError(f"crop must be a whole number of pixels >= 0 (the literature uses the scale), got {crop!r}.")
    return c


def rgb_to_y(img: np.ndarray, round_y: bool = True) -> np.ndarray:
    """Luma of MATLAB's rgb2ycbcr on RGB in [0, 1], in [16, 235] (8-bit scale)."""
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    y = 16.0 + img @ np.array([65.481, 128.553, 24.966])
    return np.round(y) if round_y else y


def _prepare(sr, hr, crop: int, y_channel: bool, round_y: bool, quantize: bool) -> tuple[np.ndarray, np.ndarray]:
    crop = check_crop(crop)
    a, b = as_hwc(sr, "SR image"), as_hwc(hr, "HR image")
    if a.shape[:2] != b.shape[:2]:
        raise SrlibError(f"SR is {a.shape[1]}x{a.shape[0]} but HR is {b.shape[1]}x{b.shape[0]}: crop HR to a multiple of the scale.")
    if quantize:  # the literature measures saved 8-bit images
        a, b = (np.round(np.clip(x, 0, 1) * 255) / 255 for x in (a, b))
    if y_channel:
        a, b = rgb_to_y(a, round_y)[..., None], rgb_to_y(b, round_y)[..., None]
    else:
        if a.shape[2] != b.shape[2]:
            a, b = (np.repeat(x, 3, axis=2) if x.shape[2] == 1 else x for x in (a, b))
        a, b = a * 255, b * 255
    if crop:
        if 2 * crop >= min(a.shape[:2]):
            raise SrlibError(f"a border crop of {crop} px leaves nothing of a {a.shape[1]}x{a.shape[0]} image.")
        a, b = a[crop:-crop, crop:-crop], b[crop:-crop, crop:-crop]
    return a, b


def psnr(sr, hr, crop: int = 0, y_channel: bool = True, round_y: bool = True, quantize: bool = True) -> float:
    """Peak signal-to-noise ratio in dB (peak 255). Images as `as_hwc` takes them (floats in [0, 1], uint8, uint16).

    crop: pixels removed from each border (the literature uses the scale).
    y_channel: measure on MATLAB Y (else on RGB). round_y: round Y to integers
    (MATLAB's uint8 behaviour; False is BasicSR's float Y).
    quantize: round both images to 8 bits first, as a saved PNG would be.
    """
    a, b = _prepare(sr, hr, crop, y_channel, round_y, quantize)
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def _gaussian_1d(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    g = np.exp(-((np.arange(size) - size // 2) ** 2) / (2 * sigma**2))
    return g / g.sum()


def _filter_valid(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 2-D correlation with g (x) g, keeping only the 'valid' part (MATLAB filter2 'valid')."""
    r = len(g) // 2
    y = correlate1d(correlate1d(x, g, axis=0, mode="constant"), g, axis=1, mode="constant")
    return y[r:-r, r:-r]


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SSIM map of two single-channel images in [0, 255] (Wang et al. 2004: 11x11 Gaussian, sigma 1.5, 'valid')."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    g = _gaussian_1d()
    mu_x, mu_y = _filter_valid(a, g), _filter_valid(b, g)
    sxx = _filter_valid(a * a, g) - mu_x**2
    syy = _filter_valid(b * b, g) - mu_y**2
    sxy = _filter_valid(a * b, g) - mu_x * mu_y
    return ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))


def ssim(sr, hr, crop: int = 0, y_channel: bool = True, round_y: bool = True, quantize: bool = True) -> float:
    """Structural similarity (MATLAB/BasicSR convention); RGB is the mean over channels."""
    a, b = _prepare(sr, hr, crop, y_channel, round_y, quantize)
    if min(a.shape[:2]) < 11:
        raise SrlibError(f"SSIM needs at least 11x11 pixels after cropping; got {a.shape[1]}x{a.shape[0]}.")
    return float(np.mean([ssim_map(a[..., c], b[..., c]).mean() for c in range(a.shape[2])]))
