"""MATLAB-compatible image resizing, the degradation the literature's tables use.

`imresize` reproduces MATLAB's `imresize(img, scale, 'bicubic')`: Keys' cubic
kernel (a = -0.5), antialiasing when shrinking (the kernel is stretched by
1/scale), and mirrored borders. Each axis becomes one matrix product with a
precomputed weight matrix, so it is exact, batched and differentiable.
"""
from __future__ import annotations

import math
import numbers
from functools import lru_cache

import numpy as np
import torch

from .errors import SrlibError


def cubic(x: np.ndarray, a: float = -0.5) -> np.ndarray:
    """Keys' cubic convolution kernel; MATLAB uses a = -0.5."""
    ax = np.abs(x)
    ax2, ax3 = ax**2, ax**3
    return ((a + 2) * ax3 - (a + 3) * ax2 + 1) * (ax <= 1) + (a * ax3 - 5 * a * ax2 + 8 * a * ax - 4 * a) * (
        (ax > 1) & (ax <= 2)
    )


@lru_cache(maxsize=256)
def resize_matrix(in_len: int, out_len: int, scale: float, antialias: bool = True) -> np.ndarray:
    """(out_len, in_len) float64 matrix M such that out = M @ in along one axis (MATLAB's contributions())."""
    kernel_width = 4.0
    if scale < 1 and antialias:
        h = lambda x: scale * cubic(scale * x)  # noqa: E731
        kernel_width = kernel_width / scale
    else:
        h = cubic
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)  # output pixel centres in input coordinates (1-based)
    left = np.floor(u - kernel_width / 2)
    taps = int(math.ceil(kernel_width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]
    w = h(u[:, None] - idx)
    w = w / w.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])  # symmetric padding
    idx = mirror[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    m = np.zeros((out_len, in_len), dtype=np.float64)
    np.add.at(m, (np.repeat(np.arange(out_len), taps), idx.ravel()), w.ravel())
    return m


def _out_size(h: int, w: int, scale, size) -> tuple[int, int, float, float]:
    if size is not None:
        oh, ow = int(size[0]), int(size[1])
        return oh, ow, oh / h, ow / w
    if scale is None:
        raise SrlibError("imresize needs scale=... (e.g. 1/4 to shrink by 4) or size=(height, width).")
    scale = float(scale)
    if scale <= 0:
        raise SrlibError(f"imresize scale must be positive, got {scale}.")
    return int(math.ceil(h * scale)), int(math.ceil(w * scale)), scale, scale


_INT_PEAKS = {"uint8": 255, "uint16": 65535}  # integer images are read as [0, 1], like metrics.as_hwc


def imresize(
    img,
    scale: float | None = None,
    size: tuple[int, int] | None = None,
    antialias: bool = True,
    uint8_passes: bool = False,
):
    """Resize like MATLAB's `imresize(img, scale, 'bicubic')`.

    img: torch tensor (..., C, H, W) or numpy array (H, W) / (H, W, C): floats, or
    uint8 / uint16, which are read as [0, 1] (divided by 255 / 65535) and give floats.
    Returns the same type and layout. Pass `scale` (0.25 shrinks by 4; the
    output size is ceil(scale * size) as in MATLAB) or `size=(height, width)`.

    By default nothing is clamped or rounded (differentiable). With
    `uint8_passes=True` the image is taken to be in [0, 1] and rounded to the
    8-bit grid after each axis, as MATLAB does for uint8 input (it resizes the
    rows first, then the columns): this matches MATLAB's own LR files almost
    exactly.
    """
    is_numpy = isinstance(img, np.ndarray)
    if is_numpy or isinstance(img, torch.Tensor):
        floating = img.dtype.kind == "f" if is_numpy else img.is_floating_point()
        peak = 1 if floating else _INT_PEAKS.get(str(img.dtype).replace("torch.", ""))
        if peak is None:
            raise SrlibError(f"imresize takes float, uint8 or uint16 images, not {img.dtype}.")
    if is_numpy:
        arr = img.astype(np.float64) / peak
        chw = torch.from_numpy(arr[None] if arr.ndim == 2 else np.moveaxis(arr, -1, 0))
    elif isinstance(img, torch.Tensor):
        if img.dim() < 2:
            raise SrlibError(f"imresize expects an image (..., H, W); got a tensor of shape {tuple(img.shape)}.")
        chw = img if floating else img.float() / peak
    else:
        raise SrlibError(f"imresize expects a numpy array or a torch tensor, got {type(img).__name__}.")
    h, w = chw.shape[-2:]
    oh, ow, sh, sw = _out_size(h, w, scale, size)
    if oh < 1 or ow < 1:
        raise SrlibError(f"resizing {h}x{w} by {scale} gives an empty image; use a larger image or a smaller factor.")
    mh = torch.from_numpy(resize_matrix(h, oh, sh, antialias)).to(chw.device, chw.dtype)
    mw = torch.from_numpy(resize_matrix(w, ow, sw, antialias)).to(chw.device, chw.dtype)
    if uint8_passes:
        out = quantize(quantize(mh @ chw) @ mw.T)
    else:
        out = mh @ chw @ mw.T
    if is_numpy:
        o = out.numpy()
        return (o[0] if img.ndim == 2 else np.moveaxis(o, 0, -1)).astype(img.dtype if img.dtype.kind == "f" else np.float64)
    return out


def quantize(x):
    """Round to the 8-bit grid (as saving to PNG does): x in [0, 1] -> round(255 x) / 255."""
    if isinstance(x, torch.Tensor):
        return torch.round(x.clamp(0, 1) * 255) / 255
    return np.round(np.clip(x, 0, 1) * 255) / 255


def bicubic_downsample(hr, scale: int, as_uint8: bool = True):
    """The course's standard degradation: MATLAB bicubic by 1/scale.

    With `as_uint8` (default) it reproduces MATLAB on 8-bit images, rounding
    like a saved PNG; without it the result is the exact, differentiable float.
    """
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not scale >= 1:
        raise SrlibError(f"bicubic_downsample shrinks by `scale` >= 1 (4 for x4 SR); got {scale!r}.")
    return imresize(hr, 1.0 / scale, uint8_passes=as_uint8)


def crop_to_multiple(img, scale: int):
    """Crop an HR image (H, W, C array or (..., H, W) tensor) so both sides divide by `scale`."""
    if isinstance(img, torch.Tensor):
        h, w = img.shape[-2:]
        return img[..., : h - h % scale, : w - w % scale]
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]
