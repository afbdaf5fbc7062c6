"""Texture statistics that need no pretrained network.

PSNR rewards the conditional mean, which is blurry. These statistics ask the
other question: does the output hold as much fine detail as a real photo?
Frequencies above the LR grid's Nyquist limit (|f| >= 0.5 / scale cycles per
HR pixel, in x or y) are exactly what an upscaler must invent; a PSNR model
leaves little power there, a GAN puts it back (right or wrong).

These are a spectral picture, not a texture measure: they count energy,
whatever made it. Blocks and noise are high-frequency energy too. On Set5 x4,
nearest-neighbour upscaling scores about 0 dB on `hf_power_ratio_db` (+0.05 dB
on the real set, -3.0 dB on the embedded samples: closer to HR than the course
PSNR model's -4.1 / -6.8 dB), and bicubic + white noise (sigma 0.03) about the
PSNR model (-4.4 / -6.9 dB), though both are worse than bicubic in PSNR. So
never read them alone as "more realistic texture": compare distributions with
`srlib.quality.swd` (per pyramid level) and `srlib.quality.niqe`, and look at
the crops (notebook 05, section 2).
"""
from __future__ import annotations

import numpy as np

from .errors import SrlibError
from .metrics import as_hwc, check_crop, rgb_to_y


def _luma(img, crop: int) -> np.ndarray:
    crop = check_crop(crop)
    a = np.clip(as_hwc(img), 0, 1)
    y = rgb_to_y(a, round_y=False)
    if crop:
        if 2 * crop >= min(y.shape):
            raise SrlibError(f"a border crop of {crop} px leaves nothing of a {y.shape[1]}x{y.shape[0]} image.")
        y = y[crop:-crop, crop:-crop]
    return y


def power_spectrum(img, crop: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fy, fx, power): the 2-D power spectrum of the luma, Hann-windowed so that the borders add no edges.

    Frequencies are in cycles per pixel, from -0.5 to 0.5 (fftshift order).
    """
    y = _luma(img, crop)
    y = y - y.mean()
    window = np.outer(np.hanning(y.shape[0]), np.hanning(y.shape[1]))
    power = np.abs(np.fft.fftshift(np.fft.fft2(y * window))) ** 2 / window.sum() ** 2
    fy = np.fft.fftshift(np.fft.fftfreq(y.shape[0]))
    fx = np.fft.fftshift(np.fft.fftfreq(y.shape[1]))
    return fy, fx, power


def radial_spectrum(img, crop: int = 0, bins: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(frequency, mean power) in `bins` rings from 0 to 0.5 cycles/pixel: the picture of a spectrum."""
    fy, fx, power = power_spectrum(img, crop)
    r = np.hypot(*np.meshgrid(fy, fx, indexing="ij"))
    edges = np.linspace(0, 0.5, bins + 1)
    idx = np.digitize(r.ravel(), edges) - 1
    keep = (idx >= 0) & (idx < bins)
    total = np.bincount(idx[keep], power.ravel()[keep], bins)
    count = np.bincount(idx[keep], minlength=bins)
    return (edges[:-1] + edges[1:]) / 2, total / np.maximum(count, 1)


def high_frequency_power(img, scale: int, crop: int = 0) -> float:
    """Power of the luma at frequencies the LR image cannot hold (max(|fx|, |fy|) >= 0.5 / scale)."""
    fy, fx, power = power_spectrum(img, crop)
    band = np.maximum(*np.meshgrid(np.abs(fy), np.abs(fx), indexing="ij")) >= 0.5 / scale
    return float(power[band].sum())


def hf_power_ratio_db(sr, hr, scale: int, crop: int | None = None) -> float:
    """10 log10(high-frequency power of SR / of HR): 0 dB = as much high-frequency energy as the real image.

    Negative: smoother than real (bicubic, PSNR models); positive: more
    high-frequency energy than real (noise, over-sharpening, GAN artefacts).
    Blind spots: it rewards blockiness and noise (nearest-neighbour scores
    near 0 dB, bicubic + noise about a PSNR model: module docstring), so it is
    never a texture measure alone: read it next to SWD (per level) and NIQE
    (srlib.quality), which compare distributions.
    """
    crop = scale if crop is None else crop
    a, b = as_hwc(sr, "SR image"), as_hwc(hr, "HR image")
    if a.shape[:2] != b.shape[:2]:
        raise SrlibError(f"SR is {a.shape[1]}x{a.shape[0]} but HR is {b.shape[1]}x{b.shape[0]}.")
    p_sr, p_hr = high_frequency_power(a, scale, crop), high_frequency_power(b, scale, crop)
    if p_hr <= 0:
        raise SrlibError("the HR image has no high-frequency power (a flat image): the ratio is undefined.")
    return float(10 * np.log10(max(p_sr, 1e-30) / p_hr))


def texture_gap_db(sr, hr, scale: int, crop: int | None = None) -> float:
    """|hf_power_ratio_db|: how far the fine-detail energy is from the real image's, either way (lower is better)."""
    return abs(hf_power_ratio_db(sr, hr, scale, crop))
