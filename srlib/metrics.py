"""PSNR and SSIM with the super-resolution literature's conventions (as in BasicSR).

The published tables measure on the luma (Y) channel of MATLAB's `rgb2ycbcr`,
after cropping `scale` pixels from every border, on 8-bit images; MATLAB rounds Y
to integers for uint8 input. Each convention is a switch, so that notebook 01 can
show what each one is worth in dB.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import correlate1d

from .errors import SrlibError


def as_hwc(img) -> np.ndarray:
    """Array or tensor ((1, C, H, W), (C, H, W), (H, W, C) or (H, W)) -> float64 (H, W, C) array."""
    if isinstance(img, torch.Tensor):
        t = img.detach().cpu().double()
        if t.dim() == 4:
            if t.shape[0] != 1:
                raise SrlibError(f"metrics take one image at a time; got a batch of {t.shape[0]}.")
            t = t[0]
        if t.dim() == 3:
            t = t.permute(1, 2, 0)
        a = t.numpy()
    else:
        a = np.asarray(img, dtype=np.float64)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3):
        raise SrlibError(f"expected an RGB or grayscale image, got shape {a.shape}.")
    return a


def rgb_to_y(img: np.ndarray, round_y: bool = True) -> np.ndarray:
    """Luma of MATLAB's rgb2ycbcr on RGB in [0, 1], in [16, 235] (8-bit scale)."""
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    y = 16.0 + img @ np.array([65.481, 128.553, 24.966])
    return np.round(y) if round_y else y


def _prepare(sr, hr, crop: int, y_channel: bool, round_y: bool, quantize: bool) -> tuple[np.ndarray, np.ndarray]:
    a, b = as_hwc(sr), as_hwc(hr)
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
    """Peak signal-to-noise ratio in dB (peak 255). Images in [0, 1].

    crop: pixels removed from each border (the literature uses the scale).
    y_channel: measure on MATLAB Y (else on RGB). round_y: round Y to integers.
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
