"""Reading and writing images as RGB float arrays in [0, 1].

Every image in the course passes through `load_image`, so grayscale, palette,
RGBA and 16-bit files all arrive in one form: an (H, W, 3) float32 array.
Arrays going the other way (`save_image`, `to_uint8`, `to_tensor`) are checked
by `srlib.metrics.as_hwc`, the one place that knows what an image may hold.

A file's pixel count is checked before it is decoded, against `MAX_PIXELS`
(40 megapixels; `$SRLIB_MAX_PIXELS` raises it): a small PNG can claim
50000x50000 pixels and would take gigabytes to decode.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import SrlibError
from ..metrics import as_hwc

MAX_PIXELS = 40_000_000
"""Largest image (width x height) `load_image` decodes: 480 MB as float32 RGB. The sets are below 0.4 MP."""
MAX_PIXELS_ENV = "SRLIB_MAX_PIXELS"
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}


def max_pixels() -> int:
    """The pixel limit in force: `$SRLIB_MAX_PIXELS` when set, else `MAX_PIXELS`."""
    env = os.environ.get(MAX_PIXELS_ENV, "").strip().replace("_", "")
    if not env:
        return MAX_PIXELS
    if not env.isdigit() or int(env) < 1:
        raise SrlibError(f"{MAX_PIXELS_ENV}={os.environ[MAX_PIXELS_ENV]!r} is not a whole number of pixels, e.g. 100000000.")
    return int(env)


def _to_rgb_array(im: Image.Image) -> np.ndarray:
    """Convert any PIL mode to an (H, W, 3) float32 array in [0, 1]."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(im, dtype=np.float64)
        peak = 65535.0 if a.max() > 255 or im.mode.startswith("I;16") else 255.0
        a = np.clip(a / peak, 0, 1)
        return np.repeat(a[..., None], 3, axis=2).astype(np.float32)
    if im.mode == "F":
        a = np.clip(np.asarray(im, dtype=np.float32), 0, 1)
        return np.repeat(a[..., None], 3, axis=2)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        rgba = np.asarray(im, dtype=np.float32) / 255.0
        alpha = rgba[..., 3:4]
        return rgba[..., :3] * alpha + (1.0 - alpha)  # composite on white
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.float32) / 255.0


def _redownload_hint(path: Path) -> str:
    """'python -m srlib download NAME' when `path` lies in a data set of the data root."""
    from .registry import DATASETS
    from .root import data_root

    try:
        rel = path.resolve().relative_to(data_root().resolve()).as_posix()
    except (ValueError, OSError):
        return "Replace the file"
    for spec in DATASETS.values():
        if rel.startswith(spec.folder + "/"):
            return f"Re-download it (python -m srlib download {spec.name}; a damaged file is fetched again)"
    return "Replace the file"


def open_image(path: Path) -> Image.Image:
    """PIL image of `path`, opened but not decoded, refused (SrlibError) above `max_pixels()`.

    PIL's own decompression-bomb check is replaced by this one, which says what to do.
    """
    limit = max_pixels()
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
    except Image.DecompressionBombError as e:  # another thread restored PIL's limit meanwhile
        raise _too_large(path, str(e), limit) from None
    finally:
        Image.MAX_IMAGE_PIXELS = old
    w, h = im.size
    if w * h > limit:
        im.close()
        raise _too_large(path, f"{w}x{h} = {w * h / 1e6:g} megapixels", limit)
    return im


def _too_large(path: Path, what: str, limit: int) -> SrlibError:
    return SrlibError(
        f"{path} is too large to load ({what}; the course limit is {limit / 1e6:g} megapixels, "
        f"so that a small file claiming a huge size cannot fill the memory). Resize the image first, or, "
        f"if you trust the file and have the memory, raise the limit: {MAX_PIXELS_ENV}=100000000."
    )


def load_image(path: str | Path) -> np.ndarray:
    """Load an image file as RGB float32 in [0, 1], shape (H, W, 3).

    Transparent pixels are composited on white. Raises `SrlibError` naming the
    file when it is missing, a folder, unreadable, larger than `max_pixels()`,
    or cannot be decoded.
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise SrlibError(f"{path} is a folder, not an image file: pass one of the images inside it.")
        if not path.is_file():
            raise SrlibError(f"image not found: {path}. Check the path (and the data root: python -m srlib info).")
        with open_image(path) as im:
            im.load()
            arr = _to_rgb_array(im)
    except PermissionError:
        raise SrlibError(
            f"cannot read {path}: permission denied. Give yourself read access (chmod u+r on the file and "
            "u+rx on its folders) or copy it somewhere you can read."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise SrlibError(
            f"cannot read {path}: not a valid image ({type(e).__name__}: {e}). {_redownload_hint(path)}, or remove it."
        ) from None
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise SrlibError(f"{path} is only {arr.shape[1]}x{arr.shape[0]} pixels; the course needs images of at least 2x2.")
    return arr


def save_image(path: str | Path, img) -> Path:
    """Save an image (as `as_hwc` takes it: array or tensor, floats in [0, 1]) as an 8-bit file, atomically.

    The format follows the extension (`SAVE_FORMATS`). Float overshoot within
    `RANGE_MARGIN` is clipped, as any 8-bit export does; a file already at
    `path` is replaced only once the new one is complete.
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SrlibError(f"cannot save {path.name}: unknown image extension {path.suffix!r}; use one of {', '.join(SAVE_FORMATS)}.")
    arr = to_uint8(img)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if path.is_dir():
        raise SrlibError(f"cannot save to {path}: it is a folder; give a file name such as {path / 'image.png'}.")
    from ..models.weights import new_file_mode

    mode = new_file_mode(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise SrlibError(f"cannot write to {path.parent} ({e.strerror or e}); choose a folder you can write to.") from None
    try:
        with os.fdopen(fd, "wb") as f:
            Image.fromarray(arr).save(f, format=fmt)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as e:
        raise SrlibError(f"cannot write {path} ({e.strerror or e}); nothing was changed. Check the free space.") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def to_uint8(img) -> np.ndarray:
    """Round an image (floats in [0, 1], HWC array or CHW/NCHW tensor; see `as_hwc`) to uint8 HWC.

    A 2-D array stays 2-D. Overshoot within `RANGE_MARGIN` is clipped.
    """
    a = np.clip(np.round(as_hwc(img) * 255.0), 0, 255).astype(np.uint8)
    return a[..., 0] if np.ndim(img) == 2 else a


def to_tensor(img) -> torch.Tensor:
    """(H, W, 3) image (see `as_hwc`: floats in [0, 1], uint8, uint16) -> (1, 3, H, W) float32 tensor."""
    return torch.from_numpy(as_hwc(img).astype(np.float32)).permute(2, 0, 1).unsqueeze(0)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) tensor -> (H, W, 3) float32 array."""
    t = t.detach().cpu().float()
    if t.dim() == 4:
        t = t[0]
    return t.permute(1, 2, 0).numpy()
