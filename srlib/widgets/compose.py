"""Pure image composition for the comparison widgets: arrays in, arrays (or image bytes) out.

Unit tests check these pixel by pixel; the widgets (`srlib.widgets.views`) use
them to prepare what they send to the browser once: every image at the size it
is shown (the largest one's), or at its own size when an integer nearest-neighbour
enlargement gives that (the browser then enlarges it, `image-rendering: pixelated`).

Images are (H, W, 3) or (H, W) arrays in [0, 1], uint8 arrays, or tensors
((1, 3, H, W) or (3, H, W)) in [0, 1].
"""
from __future__ import annotations

import io
from typing import Mapping

import numpy as np
from PIL import Image as PILImage
from PIL import features

from ..errors import SrlibError
from ..metrics import as_hwc

Box = tuple[int, int, int, int]  # (top, left, height, width)
LINE_COLOR = (255, 214, 0)  # a yellow that reads on dark and light images

__all__ = [
    "LINE_COLOR", "as_display", "common_size", "crop_box", "decode_png", "draw_box", "encode_png", "encode_webp",
    "enlarge", "match_size", "wipe", "zoom_crop",
]


def as_display(img) -> np.ndarray:
    """Any course image -> (H, W, 3) uint8 array, ready to show.

    Floats (arrays or tensors) must be in [0, 1] (`srlib.metrics.as_hwc` checks
    them and uint16); they are clipped and rounded. uint8 arrays pass through;
    grayscale becomes RGB.
    """
    if isinstance(img, np.ndarray) and img.dtype == np.uint8:
        a = img[..., None] if img.ndim == 2 else img
        if a.ndim != 3 or a.shape[2] not in (1, 3):
            raise SrlibError(f"expected an RGB or grayscale image, got shape {img.shape}.")
    else:
        a = np.clip(np.round(as_hwc(img) * 255.0), 0, 255).astype(np.uint8)
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    return np.ascontiguousarray(a)


def enlarge(img: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor: each pixel becomes a factor x factor block."""
    factor = int(factor)
    if factor < 1:
        raise SrlibError(f"the enlargement factor must be a whole number >= 1, got {factor}.")
    return img if factor == 1 else np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)


def match_size(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an HWC array to `shape` = (height, width).

    Output row i takes input row floor(i * h / H) (columns likewise), so an
    integer ratio gives exactly `enlarge(img, ratio)`.
    """
    h, w = img.shape[:2]
    th, tw = int(shape[0]), int(shape[1])
    if (h, w) == (th, tw):
        return img
    rows = np.arange(th) * h // th
    cols = np.arange(tw) * w // tw
    return img[rows][:, cols]


def common_size(images: Mapping[str, np.ndarray]) -> tuple[int, int]:
    """The size every image is shown at: the largest one's. Checks the others are smaller copies of it.

    Raises `SrlibError` when two images cannot be the same picture at two
    scales (e.g. one is wider but the other taller).
    """
    if not images:
        raise SrlibError("no images to compare: pass at least one.")
    th = max(a.shape[0] for a in images.values())
    tw = max(a.shape[1] for a in images.values())
    for name, a in images.items():
        fh, fw = th / a.shape[0], tw / a.shape[1]
        if abs(fh - fw) > 0.05 * max(fh, fw):
            sizes = ", ".join(f"{n} {b.shape[1]}x{b.shape[0]}" for n, b in images.items())
            raise SrlibError(
                f"cannot line up the images ({sizes}): {name!r} is not a scaled copy of the largest. "
                "Crop HR to a multiple of the scale (srlib.degrade.crop_to_multiple) or pass same-sized images."
            )
    return th, tw


def _prepare_all(images: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Convert to uint8 RGB and enlarge every image to the common (largest) size."""
    arrays = {str(k): as_display(v) for k, v in images.items()}
    size = common_size(arrays)
    return {k: match_size(a, size) for k, a in arrays.items()}


def whole_factor(shape: tuple[int, ...], size: tuple[int, int]) -> int:
    """The whole number f with (h * f, w * f) == size, or 0 when there is none."""
    h, w = int(shape[0]), int(shape[1])
    f = size[0] // h
    return f if f >= 1 and (h * f, w * f) == tuple(size) else 0


def to_send(images: Mapping[str, object]) -> tuple[dict[str, np.ndarray], tuple[int, int]]:
    """Each image as the browser receives it, and the (height, width) all of them are shown at.

    An image that a whole-number nearest-neighbour enlargement takes to the
    common size is sent at its own size: the browser enlarges it pixelated,
    which gives the pixels of `enlarge`, from a file up to f * f times smaller.
    Any other is resized here with `match_size` (the rule of `_prepare_all`).
    Either is then `shrink`-ed, so an image passed already enlarged is sent small too.
    """
    arrays = {str(k): as_display(v) for k, v in images.items()}
    size = common_size(arrays)
    return {k: shrink(a if whole_factor(a.shape, size) else match_size(a, size)) for k, a in arrays.items()}, size


def shrink(img: np.ndarray, largest: int = 16) -> np.ndarray:
    """The smallest image whose nearest-neighbour enlargement is `img` (by a whole factor up to `largest`).

    An image enlarged before it is passed (`enlarge(lr, 4)`, a zoomed crop)
    is sent at its small size and shows the same pixels, from a smaller file.
    """
    h, w = img.shape[:2]
    if h < 2 or w < 2 or not (np.array_equal(img[0], img[1]) and np.array_equal(img[:, 0], img[:, 1])):
        return img  # any enlargement repeats the first row and column
    for f in range(min(largest, h, w), 1, -1):
        if h % f == 0 and w % f == 0 and np.array_equal(enlarge(img[::f, ::f], f), img):
            return img[::f, ::f]
    return img


def wipe(left: np.ndarray, right: np.ndarray, fraction: float, line_width: int = 1, line_color=LINE_COLOR) -> np.ndarray:
    """Before/after composite: columns < round(fraction * W) from `left`, the rest from `right`.

    A vertical line `line_width` pixels wide is drawn over the split (centred
    on it, kept inside the image); `line_width=0` draws none.
    """
    if left.shape != right.shape:
        raise SrlibError(f"wipe needs two images of one size, got {left.shape} and {right.shape}.")
    w = left.shape[1]
    split = int(round(min(max(float(fraction), 0.0), 1.0) * w))
    out = right.copy()
    out[:, :split] = left[:, :split]
    if line_width > 0:
        lw = min(int(line_width), w)
        c0 = min(max(split - lw // 2, 0), w - lw)
        out[:, c0 : c0 + lw] = np.asarray(line_color, dtype=out.dtype)
    return out


def crop_box(center: tuple[int, int], size: int, shape: tuple[int, int]) -> Box:
    """A size x size box (top, left, height, width) centred at (y, x), shifted to lie inside `shape`."""
    hh, ww = int(shape[0]), int(shape[1])
    h, w = min(int(size), hh), min(int(size), ww)
    top = min(max(int(center[0]) - h // 2, 0), hh - h)
    left = min(max(int(center[1]) - w // 2, 0), ww - w)
    return top, left, h, w


def zoom_crop(img: np.ndarray, box: Box, factor: int) -> np.ndarray:
    """Crop `box` (top, left, height, width) and enlarge it `factor` times with nearest neighbour."""
    top, left, h, w = box
    return enlarge(img[top : top + h, left : left + w], factor)


def draw_box(img: np.ndarray, box: Box, color=LINE_COLOR, thickness: int = 1) -> np.ndarray:
    """A copy of `img` with the outline of `box` drawn inside its edges."""
    out = img.copy()
    top, left, h, w = box
    t = max(1, min(int(thickness), h, w))
    c = np.asarray(color, dtype=out.dtype)
    out[top : top + t, left : left + w] = c
    out[top + h - t : top + h, left : left + w] = c
    out[top : top + h, left : left + t] = c
    out[top : top + h, left + w - t : left + w] = c
    return out


def encode_png(img) -> bytes:
    """PNG bytes of an image (lossless, fast compression)."""
    buf = io.BytesIO()
    PILImage.fromarray(as_display(img)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def encode_webp(img) -> bytes:
    """Lossless WebP bytes of an image: what the widgets send, 30-45 % smaller than `encode_png` on Set5/Set14.

    Pillow built without WebP gives PNG instead (browsers read both).
    """
    if not features.check("webp"):  # pragma: no cover - Pillow's wheels include WebP
        return encode_png(img)
    buf = io.BytesIO()
    PILImage.fromarray(as_display(img)).save(buf, format="WEBP", lossless=True, quality=50, method=4)
    return buf.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """(H, W, 3) uint8 array of PNG bytes (the inverse of `encode_png`; also reads `encode_webp`'s WebP)."""
    with PILImage.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB")).copy()
