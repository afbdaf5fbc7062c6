"""Sensor noise and JPEG compression of the Real-ESRGAN degradation model.

Noise follows BasicSR's basicsr/data/degradations.py (add_gaussian_noise_pt, add_poisson_noise_pt):
sigma on the 0..255 scale; Poisson noise at 2^ceil(log2(#grey levels)) photon levels, times `scale`;
grey noise is one channel shared by R, G and B. JPEG is a real codec (PIL's libjpeg), not a
differentiable imitation, so its 8x8 blocks, ringing and chroma subsampling are the real ones.
"""
from __future__ import annotations

import io
import math

import numpy as np
import torch
from PIL import Image

from ..errors import SrlibError

GRAY_WEIGHTS = (0.2989, 0.587, 0.114)  # torchvision rgb_to_grayscale, which BasicSR's Poisson noise uses


def _gray(img: torch.Tensor) -> torch.Tensor:
    w = torch.tensor(GRAY_WEIGHTS, dtype=img.dtype).view(1, 3, 1, 1)
    return (img * w).sum(1, keepdim=True)


def add_gaussian_noise(img: torch.Tensor, sigma: float, gray: bool = False, generator: torch.Generator | None = None) -> torch.Tensor:
    """img + N(0, (sigma/255)^2) per pixel (one shared channel if `gray`), clipped to [0, 1]."""
    n, c, h, w = img.shape
    noise = torch.randn(n, 1 if gray else c, h, w, generator=generator, dtype=img.dtype) * (sigma / 255.0)
    return (img + noise).clamp(0, 1)


def add_poisson_noise(img: torch.Tensor, scale: float, gray: bool = False, generator: torch.Generator | None = None) -> torch.Tensor:
    """img + scale * (Poisson shot noise), per image, clipped to [0, 1].

    The photon count of a pixel is its value times 2^ceil(log2(number of distinct 8-bit levels in the image)),
    BasicSR's rule; with `gray` the noise is computed on the luma and shared by all channels.
    """
    out = []
    for x in img.split(1):
        base = _gray(x) if gray else x
        base = torch.round(base.clamp(0, 1) * 255) / 255
        vals = 2.0 ** math.ceil(math.log2(max(int(torch.unique(base).numel()), 1)))
        noise = torch.poisson(base * vals, generator=generator) / vals - base
        out.append(x + scale * noise)
    return torch.cat(out).clamp(0, 1)


def to_uint8_hwc(img: torch.Tensor) -> np.ndarray:
    """(3, H, W) float in [0, 1] -> (H, W, 3) uint8, clamped and rounded."""
    return (img.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def jpeg_compress(img: torch.Tensor, quality) -> torch.Tensor:
    """Encode and decode (N, 3, H, W) images in [0, 1] with PIL's JPEG at `quality` (an int, or one per image).

    As in Real-ESRGAN the input is clamped to [0, 1] first; the codec sees 8-bit pixels and uses its
    default 4:2:0 chroma subsampling (as OpenCV's imencode in BasicSR's add_jpg_compression).
    """
    n = img.shape[0]
    qs = [quality] * n if np.isscalar(quality) else list(quality)
    if len(qs) != n:
        raise SrlibError(f"jpeg_compress got {len(qs)} qualities for {n} images; pass one, or one per image.")
    out = []
    for x, q in zip(img, qs):
        q = int(q)
        if not 1 <= q <= 100:
            raise SrlibError(f"JPEG quality must be an integer in 1..100, got {q}.")
        buf = io.BytesIO()
        Image.fromarray(to_uint8_hwc(x)).save(buf, format="JPEG", quality=q)
        buf.seek(0)
        dec = np.asarray(Image.open(buf).convert("RGB"), dtype=np.float32) / 255.0
        out.append(torch.from_numpy(dec).permute(2, 0, 1))
    return torch.stack(out).to(img.dtype)
