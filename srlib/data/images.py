"""Reading and writing images as RGB float arrays in [0, 1].

Every image in the course passes through `load_image`, so grayscale, palette,
RGBA and 16-bit files all arrive in one form: an (H, W, 3) float32 array.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import SrlibError


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


def load_image(path: str | Path) -> np.ndarray:
    """Load an image file as RGB float32 in [0, 1], shape (H, W, 3).

    Transparent pixels are composited on white. Raises `SrlibError` naming the
    file when it is missing or cannot be decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise SrlibError(f"image not found: {path}. Check the path (and the data root: python -m srlib info).")
    try:
        with Image.open(path) as im:
            im.load()
            arr = _to_rgb_array(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise SrlibError(
            f"cannot read {path}: not a valid image ({type(e).__name__}: {e}). "
            "Re-download it (python -m srlib download NAME) or remove it."
        ) from None
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise SrlibError(f"{path} is only {arr.shape[1]}x{arr.shape[0]} pixels; the course needs images of at least 2x2.")
    return arr


def save_image(path: str | Path, img) -> Path:
    """Save an RGB image (array or (3, H, W)/(1, 3, H, W) tensor in [0, 1]) as 8-bit PNG/JPEG."""
    path = Path(path)
    arr = to_uint8(img)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path


def to_uint8(img) -> np.ndarray:
    """Round an image in [0, 1] (array or tensor, HWC or CHW or NCHW with N=1) to uint8 HWC."""
    if isinstance(img, torch.Tensor):
        t = img.detach().cpu().float()
        if t.dim() == 4:
            t = t[0]
        arr = t.permute(1, 2, 0).numpy()
    else:
        arr = np.asarray(img, dtype=np.float64)
    return np.clip(np.round(arr * 255.0), 0, 255).astype(np.uint8)


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """(H, W, 3) array in [0, 1] -> (1, 3, H, W) float32 tensor."""
    return torch.from_numpy(np.array(img, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0)  # a copy: samples are read-only


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) tensor -> (H, W, 3) float32 array."""
    t = t.detach().cpu().float()
    if t.dim() == 4:
        t = t[0]
    return t.permute(1, 2, 0).numpy()
