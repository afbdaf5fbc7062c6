"""Saving and loading generator weights with what is needed to rebuild the network.

A weights file is a plain dict {"preset", "scale", "state_dict", "meta"} saved
atomically (temporary file + rename) and read back only with
`torch.load(weights_only=True)`, so a file cannot run code when it is opened.
Before it is read, its zip entries are measured: a file may not unpack to much
more than its own size (see MAX_UNPACK_FACTOR), so a small compressed file
cannot allocate gigabytes.
"""
from __future__ import annotations

import errno
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

import torch
from torch import nn

from ..data.root import REPO_ROOT
from ..errors import SrlibError
from .presets import build_generator

# torch.save stores its zip entries uncompressed, so a genuine file unpacks to at most its own size
MAX_UNPACK_FACTOR = 2
MAX_UNPACK_MARGIN = 16 * 2**20  # bytes allowed on top, for tiny files


def checkpoint_dir() -> Path:
    """Where trained course models go: `$SRLIB_CHECKPOINT_DIR`, else `data/checkpoints` in the repository."""
    env = os.environ.get("SRLIB_CHECKPOINT_DIR", "").strip()
    return Path(env).expanduser().resolve() if env else REPO_ROOT / "data" / "checkpoints"


def _write_failed(path: Path, err: OSError, existed: bool) -> SrlibError:
    full = " (the disk is full)" if err.errno in (errno.ENOSPC, errno.EDQUOT) else ""
    kept = f"the previous {path.name} there is kept unchanged" if existed else "nothing was written there"
    return SrlibError(f"could not write {path}: {err.strerror or err}{full}; {kept}. "
                      "Free some space (or choose another folder) and try again.")


def new_file_mode(path: Path) -> int:
    """The permissions a replaced file keeps, or a new file's usual ones (0o666 less the umask).

    mkstemp's temporary files are private (0o600); without this every atomically written file would be.
    """
    if path.exists():
        return path.stat().st_mode & 0o7777
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(data: bytes, path: str | Path) -> Path:
    """Write bytes to a temporary file in the same folder, fsync, then rename: never a half-written file.

    A failed write (a full disk) leaves the previous file untouched and is an SrlibError saying so. The file
    gets a replaced file's permissions, or the usual ones for a new file.
    """
    path = Path(path)
    existed = path.exists()
    mode = new_file_mode(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise _write_failed(path, e, existed) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise _write_failed(path, e, existed) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(text: str, path: str | Path) -> Path:
    return atomic_write_bytes(text.encode("utf-8"), path)


def atomic_save(obj, path: str | Path) -> Path:
    """torch.save, atomically (serialised in memory first, so a write error is a plain OSError, not torch's)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return atomic_write_bytes(buf.getbuffer(), path)


def remove_stale_temporaries(folder: str | Path, names) -> list[Path]:
    """Delete `.NAME.*.tmp` files that a killed save left in `folder` (for each NAME in `names`)."""
    removed = []
    for name in names:
        for tmp in Path(folder).glob(f".{name}.*.tmp"):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def save_generator(model: nn.Module, path: str | Path, preset: str, scale: int, **meta) -> Path:
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return atomic_save({"preset": preset, "scale": int(scale), "state_dict": state, "meta": meta}, path)


def _damaged(path: Path, detail: str) -> SrlibError:
    return SrlibError(f"{path} is damaged or incomplete ({detail}): a save or a copy that was cut off? "
                      "Delete it, then save, download or train it again (for a run: resume from another checkpoint).")


def _check_unpacked_size(path: Path) -> None:
    """Refuse a zip whose entries unpack to far more than the file's size (a decompression bomb)."""
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as z:
            unpacked = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise _damaged(path, f"not a complete zip archive: {e}") from None
    limit = MAX_UNPACK_FACTOR * size + MAX_UNPACK_MARGIN
    if unpacked > limit:
        raise SrlibError(
            f"refusing to load {path}: its {size / 2**20:.1f} MiB unpack to {unpacked / 2**20:.0f} MiB (compressed "
            f"entries). srlib reads weights files that unpack to at most {MAX_UNPACK_FACTOR}x their size + "
            f"{MAX_UNPACK_MARGIN // 2**20} MiB (torch.save writes them uncompressed); re-save it with torch.save.")


def load_weights_file(path: str | Path) -> dict:
    """Read a weights file safely; a missing, damaged, oversized or code-carrying file is a clear error."""
    path = Path(path)
    if not path.is_file():
        raise SrlibError(f"no weights at {path}. Train the model first (its notebook saves it there) or fix the path.")
    if not zipfile.is_zipfile(path):
        raise _damaged(path, "no zip directory at its end, which every torch.save file since PyTorch 1.6 has")
    _check_unpacked_size(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle errors come in many types
        found = re.search(r"GLOBAL (\S+)", str(e))
        if found:
            raise SrlibError(
                f"refusing to load {path}: it holds more than tensors and plain values (it names {found.group(1)}, "
                "code that would run when it is opened). Only plain weights files are read, so a file cannot run "
                "code; use a file saved by srlib or torch.save of a state dict.") from None
        first = (str(e).splitlines() or [""])[0][:160]
        raise _damaged(path, f"{type(e).__name__}: {first}") from None


def describe_mismatch(model: nn.Module, state) -> str | None:
    """None if `state` fits `model`'s state dict exactly; else what differs (keys, shapes), in words."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        return "it is not a dict of tensors"
    mine = model.state_dict()
    missing, unexpected = [k for k in mine if k not in state], [k for k in state if k not in mine]
    shapes = [k for k in mine if k in state and state[k].shape != mine[k].shape]
    if shapes:
        k = shapes[0]
        more = f" (and {len(shapes) - 1} more)" if len(shapes) > 1 else ""
        return (f"{k} has shape {tuple(state[k].shape)} in the file but {tuple(mine[k].shape)} in the network{more}")
    if missing:
        return f"the file lacks {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}"
    if unexpected:
        return f"the file has extra {', '.join(unexpected[:3])}{' ...' if len(unexpected) > 3 else ''}"
    return None


def load_generator(path: str | Path, preset: str | None = None, scale: int | None = None) -> tuple[nn.Module, dict]:
    """Rebuild and load a generator saved by save_generator; checks preset and scale when given."""
    ckpt = load_weights_file(path)
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "preset" not in ckpt:
        raise SrlibError(f"{path} is not an srlib generator file (no preset/state_dict inside).")
    got_preset, got_scale = ckpt["preset"], ckpt.get("scale")
    if not isinstance(got_preset, str) or type(got_scale) is not int:
        raise SrlibError(f"{path} is not a valid srlib generator file: preset={got_preset!r} and scale={got_scale!r} "
                         "should be a preset name and a whole number (e.g. 'srresnet-cpu' and 4).")
    for what, want in (("preset", preset), ("scale", scale)):
        if want is not None and ckpt[what] != want:
            raise SrlibError(f"{path} holds a {got_preset} x{got_scale} model, but {what} {want} was expected.")
    model = build_generator(got_preset, got_scale)
    problem = describe_mismatch(model, ckpt["state_dict"])
    if problem:
        raise SrlibError(f"{path} does not fit preset {got_preset} x{got_scale}: {problem}.")
    model.load_state_dict(ckpt["state_dict"])
    meta = ckpt.get("meta", {})
    return model.eval(), meta if isinstance(meta, dict) else {}
