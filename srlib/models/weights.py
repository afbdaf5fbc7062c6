"""Saving and loading generator weights with what is needed to rebuild the network.

A weights file is a plain dict {"preset", "scale", "state_dict", "meta"} saved
atomically (temporary file + rename) and read back only with
`torch.load(weights_only=True)`, so a file cannot run code when it is opened.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch import nn

from ..data.root import REPO_ROOT
from ..errors import SrlibError
from .presets import build_generator


def checkpoint_dir() -> Path:
    """Where trained course models go: `$SRLIB_CHECKPOINT_DIR`, else `data/checkpoints` in the repository."""
    env = os.environ.get("SRLIB_CHECKPOINT_DIR", "").strip()
    return Path(env).expanduser().resolve() if env else REPO_ROOT / "data" / "checkpoints"


def atomic_save(obj, path: str | Path) -> Path:
    """torch.save to a temporary file in the same folder, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_generator(model: nn.Module, path: str | Path, preset: str, scale: int, **meta) -> Path:
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return atomic_save({"preset": preset, "scale": int(scale), "state_dict": state, "meta": meta}, path)


def load_weights_file(path: str | Path) -> dict:
    """Read a weights file safely; a missing, broken or code-carrying file is a clear error."""
    path = Path(path)
    if not path.is_file():
        raise SrlibError(f"no weights at {path}. Train the model first (its notebook saves it there) or fix the path.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle errors come in many types
        raise SrlibError(
            f"refusing to load {path}: it is not a plain weights file ({type(e).__name__}). "
            "Only tensors and plain values are accepted, so a file cannot run code."
        ) from None


def load_generator(path: str | Path, preset: str | None = None, scale: int | None = None) -> tuple[nn.Module, dict]:
    """Rebuild and load a generator saved by save_generator; checks preset and scale when given."""
    ckpt = load_weights_file(path)
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "preset" not in ckpt:
        raise SrlibError(f"{path} is not an srlib generator file (no preset/state_dict inside).")
    for what, want in (("preset", preset), ("scale", scale)):
        if want is not None and ckpt[what] != want:
            raise SrlibError(f"{path} holds a {ckpt['preset']} x{ckpt['scale']} model, but {what} {want} was expected.")
    model = build_generator(ckpt["preset"], ckpt["scale"])
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as e:
        raise SrlibError(f"{path} does not fit preset {ckpt['preset']}: {str(e).splitlines()[0]}") from None
    return model.eval(), ckpt.get("meta", {})
