"""Upscaling a learner's own images: `python -m srlib upscale IN... [-o OUT] [--model M] [--tile N]`.

A photo carries more than RGB pixels, and all of it is kept:
- alpha: the colour goes through the network, the alpha channel is upscaled by MATLAB bicubic;
- greyscale stays greyscale (replicated to RGB for the network, back to luma after);
- 16-bit PNG and TIFF are read and written at 16 bits (PIL would drop 16-bit RGB to 8:
  pypng and tifffile do not);
- the EXIF orientation is applied to the pixels and removed from the tag, and the ICC
  profile, EXIF (JPEG, PNG, WebP) and DPI are written into the output.
Inputs are never overwritten, nor existing outputs unless asked; every file is written
atomically; the pixel limit of `load_image` (`max_pixels()`, `$SRLIB_MAX_PIXELS`) refuses
decompression bombs; a folder run goes on past a bad file and lists the failures at the end.
"""
from __future__ import annotations

import io
import sys
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, UnidentifiedImageError
from torch import nn

from .data.images import open_image
from .errors import SrlibError

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}
"""What `upscale` reads from a folder and writes (by extension)."""
JPEG_QUALITY = 95  # 4:4:4 chroma: an upscaled image is about its fine detail
WEBP_QUALITY = 95
DEFAULT_MODELS = ("realesrgan_x4-cpu", "esrgan_x4-cpu")
"""The default --model: the first of these course models that is available."""
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as PIL's convert("L")
ORIENTATION = 0x0112
_ORIENT = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1], 5: lambda a: a.swapaxes(0, 1),
           6: lambda a: np.rot90(a, -1), 7: lambda a: np.rot90(a, 2).swapaxes(0, 1), 8: lambda a: np.rot90(a, 1)}


@dataclass
class Picture:
    """An image as `upscale` handles it: colour and alpha as floats in [0, 1], plus what the file carried."""

    pixels: np.ndarray  # (H, W, 1) grey or (H, W, 3) RGB, float32
    alpha: np.ndarray | None  # (H, W) float32, or None
    bits: int  # 8 or 16 per channel
    icc: bytes | None = None
    exif: bytes | None = None  # without the orientation tag
    dpi: tuple | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]


# ---- reading -------------------------------------------------------------------------------------------------


def read_picture(path: str | Path) -> Picture:
    """Read PNG / JPEG / WebP / TIFF (and what else PIL opens) at its bit depth, upright, with its metadata.

    Refused with an SrlibError naming the file: missing, unreadable, larger than `max_pixels()`, undecodable.
    """
    import png
    import tifffile

    path = Path(path)
    if not path.is_file():
        raise SrlibError(f"{path}: no such image file.")
    try:
        with open_image(path) as im:
            info = _metadata(im)
            bits = _bit_depth(path, im)
            arr = _read16(path, im.format) if bits == 16 else _pil_array(im)
    except PermissionError:
        raise SrlibError(f"cannot read {path}: permission denied (chmod u+r on it).") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, png.Error,
            tifffile.TiffFileError) as e:
        raise SrlibError(f"cannot read {path}: not a valid image ({type(e).__name__}: {e}).") from None
    arr = _ORIENT.get(info.pop("orientation"), lambda a: a)(arr)
    arr = np.ascontiguousarray(arr, dtype=np.float32) / (65535.0 if bits == 16 else 255.0)
    c = arr.shape[2]
    colour, alpha = (arr[..., :-1], arr[..., -1]) if c in (2, 4) else (arr, None)
    if info["icc"] and _icc_space(info["icc"]) != (b"GRAY" if colour.shape[2] == 1 else b"RGB "):
        info["icc"] = None  # e.g. a CMYK profile of a CMYK JPEG, which PIL converted to RGB
    return Picture(colour, alpha, bits, **info)


def _metadata(im: Image.Image) -> dict:
    exif = im.getexif()
    orientation = exif.get(ORIENTATION, 1)
    exif_bytes = None
    if im.format != "TIFF":  # a TIFF's "EXIF" is its own structure (strips, sizes): only ICC and DPI are carried
        exif.pop(ORIENTATION, None)
        try:
            exif_bytes = exif.tobytes() if len(exif) else None
        except Exception:  # a malformed EXIF block costs the metadata, not the image
            exif_bytes = None
    dpi = im.info.get("dpi")
    return {"icc": im.info.get("icc_profile") or None, "exif": exif_bytes, "dpi": tuple(dpi) if dpi else None,
            "orientation": orientation if orientation in _ORIENT else 1}


def _icc_space(icc: bytes) -> bytes:
    return bytes(icc[16:20])  # the profile header's data colour space


def _bit_depth(path: Path, im: Image.Image) -> int:
    if im.format == "PNG":
        with open(path, "rb") as f:
            head = f.read(26)
        return 16 if len(head) == 26 and head[24] == 16 else 8
    if im.format == "TIFF":
        bps = im.tag_v2.get(258, 8)
        return 16 if max(bps if isinstance(bps, tuple) else (bps,)) > 8 else 8
    return 16 if im.mode.startswith("I;16") else 8


def _read16(path: Path, fmt: str) -> np.ndarray:
    """(H, W, C) uint16 of a 16-bit PNG (pypng) or TIFF (tifffile)."""
    if fmt == "PNG":
        import png

        w, h, rows, info = png.Reader(filename=str(path)).asDirect()
        return np.vstack([np.asarray(r, dtype=np.uint16) for r in rows]).reshape(h, w, info["planes"])
    if fmt != "TIFF":
        raise ValueError(f"16-bit {fmt} is not read; save it as 16-bit PNG or TIFF")
    import tifffile

    with tifffile.TiffFile(path) as tf:
        page = tf.pages[0]
        a = page.asarray()
        if a.ndim == 3 and page.planarconfig == tifffile.PLANARCONFIG.SEPARATE:
            a = np.moveaxis(a, 0, -1)
    if a.dtype != np.uint16:
        raise ValueError(f"a {a.dtype} TIFF; srlib reads 8- and 16-bit integer images")
    a = a[..., None] if a.ndim == 2 else a
    if a.ndim != 3 or a.shape[2] > 4:
        raise ValueError(f"a TIFF of shape {a.shape}; srlib reads grey, grey+alpha, RGB and RGBA")
    return a


def _pil_array(im: Image.Image) -> np.ndarray:
    """(H, W, C) uint8 with C = 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA)."""
    mode = im.mode
    if mode in ("1", "L"):
        mode = "L"
    elif mode in ("LA", "La"):
        mode = "LA"
    elif mode in ("RGBA", "RGBa", "PA") or (mode == "P" and "transparency" in im.info):
        mode = "RGBA"
    else:
        mode = "RGB"
    a = np.asarray(im.convert(mode))
    return a[..., None] if a.ndim == 2 else a


# ---- upscaling -----------------------------------------------------------------------------------------------


def upscale_picture(pic: Picture, upscale_rgb: Callable[..., np.ndarray], scale: int) -> Picture:
    """Colour through `upscale_rgb(img, bits)` ((H, W, 3) -> (sH, sW, 3), floats in [0, 1]), alpha by bicubic,
    grey kept grey. `bits` is the picture's depth, so that 16-bit pictures are not computed in half precision."""
    from .degrade import imresize

    rgb = pic.pixels if pic.pixels.shape[2] == 3 else np.repeat(pic.pixels, 3, axis=2)
    sr = np.asarray(upscale_rgb(np.ascontiguousarray(rgb), pic.bits), dtype=np.float32)
    h, w = rgb.shape[:2]
    if sr.shape != (h * scale, w * scale, 3):
        raise SrlibError(f"the model returned {sr.shape[1]}x{sr.shape[0]} for a {w}x{h} image, not x{scale}.")
    sr = sr if sr.flags.writeable else sr.copy()
    np.clip(sr, 0, 1, out=sr)  # in place: a 12 MP photo gives a 2.3 GB float output at x4
    if pic.pixels.shape[2] == 1:
        sr = (sr @ LUMA)[..., None]
    alpha = None if pic.alpha is None else np.clip(imresize(pic.alpha.astype(np.float32), scale), 0, 1)
    return replace(pic, pixels=sr, alpha=alpha)


# ---- writing -------------------------------------------------------------------------------------------------


def encode_picture(pic: Picture, fmt: str) -> bytes:
    """The file bytes of `pic` as PNG / JPEG / WEBP / TIFF: 16 bits where the picture and the format have them."""
    if pic.alpha is not None and fmt == "JPEG":
        raise SrlibError("JPEG has no alpha channel, and this image has one: write .png, .webp or .tiff instead.")
    planes = pic.pixels if pic.alpha is None else np.concatenate([pic.pixels, pic.alpha[..., None]], axis=2)
    if pic.bits == 16 and fmt in ("PNG", "TIFF"):
        arr = _quantize(planes, 65535, np.uint16)
        return _png16(arr, pic) if fmt == "PNG" else _tiff16(arr, pic)
    arr = _quantize(planes, 255, np.uint8)
    im = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr, mode={1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[arr.shape[2]])
    kwargs = {k: v for k, v in (("icc_profile", pic.icc), ("exif", pic.exif), ("dpi", pic.dpi)) if v}
    if fmt == "JPEG":
        kwargs.update(quality=JPEG_QUALITY, subsampling=0)
    elif fmt == "WEBP":
        kwargs.update(quality=WEBP_QUALITY, method=4)
        kwargs.pop("dpi", None)
    elif fmt == "TIFF":
        kwargs.update(compression="tiff_deflate")
        kwargs.pop("exif", None)
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def _quantize(planes: np.ndarray, peak: int, dtype) -> np.ndarray:
    q = planes * np.float32(peak)  # one float temporary, rounded in place
    np.rint(q, out=q)
    return q.astype(dtype)


def _png16(arr: np.ndarray, pic: Picture) -> bytes:
    import png

    h, w, c = arr.shape
    extra = {}
    if pic.dpi:
        extra = {"x_pixels_per_unit": round(pic.dpi[0] / 0.0254), "y_pixels_per_unit": round(pic.dpi[1] / 0.0254),
                 "unit_is_meter": True}
    writer = png.Writer(w, h, greyscale=c < 3, alpha=c in (2, 4), bitdepth=16, compression=6, **extra)
    buf = io.BytesIO()
    writer.write_array(buf, arr.reshape(-1))
    chunks = list(png.Reader(bytes=buf.getvalue()).chunks())
    added = []
    if pic.icc:
        added.append((b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(pic.icc)))
    if pic.exif:
        added.append((b"eXIf", pic.exif[6:] if pic.exif.startswith(b"Exif\x00\x00") else pic.exif))
    out = io.BytesIO()
    png.write_chunks(out, chunks[:1] + added + chunks[1:])  # after IHDR, before the image data
    return out.getvalue()


def _tiff16(arr: np.ndarray, pic: Picture) -> bytes:
    import tifffile

    c = arr.shape[2]
    kwargs = {"photometric": "rgb" if c >= 3 else "minisblack", "planarconfig": "contig", "compression": "zlib",
              "extrasamples": ("unassalpha",) if c in (2, 4) else None, "iccprofile": pic.icc, "metadata": None}
    if pic.dpi:
        kwargs.update(resolution=tuple(pic.dpi), resolutionunit="inch")
    buf = io.BytesIO()
    tifffile.imwrite(buf, arr[..., 0] if c == 1 else arr, **kwargs)
    return buf.getvalue()


# ---- files and folders ---------------------------------------------------------------------------------------


def collect_inputs(inputs) -> list[Path]:
    """The image files named, and those in the folders named (not recursive; by FORMATS extension)."""
    files = []
    for spec in inputs:
        p = Path(spec).expanduser()
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in FORMATS
                           and not f.name.startswith("."))
            if not found:
                raise SrlibError(f"{p} holds no {', '.join(sorted({v for v in FORMATS.values()}))} files to upscale.")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise SrlibError(f"{p}: no such file or folder.")
    unique: dict[Path, Path] = {}
    for f in files:
        unique.setdefault(f.resolve(), f)  # each file once, however it was named
    return list(unique.values())


def plan_outputs(files: list[Path], out: str | Path | None, scale: int, overwrite: bool = False) -> list[tuple[Path, Path]]:
    """(input, output) pairs, checked before any work: no input is ever an output, nothing exists unless `overwrite`.

    The output of IN is IN's stem + `_xS` + its extension (PNG for other extensions), next to
    IN or in the folder `out`; with one input, `out` may be the output file itself.
    """
    target = Path(out).expanduser() if out is not None else None
    as_file = target is not None and target.suffix.lower() in FORMATS and not target.is_dir()
    if as_file and len(files) > 1:
        raise SrlibError(f"-o {target} is one file but there are {len(files)} images: give a folder for -o.")
    if target is not None and not as_file and target.exists() and not target.is_dir():
        raise SrlibError(f"-o {target} is a file, not a folder; give a folder, or an image file name for one input.")
    pairs, seen = [], {}
    inputs = {f.resolve() for f in files}
    for f in files:
        suffix = f.suffix if f.suffix.lower() in FORMATS else ".png"
        dst = target if as_file else (target or f.parent) / f"{f.stem}_x{scale}{suffix}"
        key = dst.resolve()
        if key in inputs:
            raise SrlibError(f"refusing to write {dst}: it is an input of this run (the output of {f.name} would "
                             "replace an original; an input is never replaced, even with --overwrite). Choose another -o.")
        if key in seen:
            raise SrlibError(f"{seen[key]} and {f} would both be written to {dst}; upscale them into different -o folders.")
        seen[key] = f
        pairs.append((f, dst))
    existing = [str(d) for _, d in pairs if d.exists()]
    if existing and not overwrite:
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        raise SrlibError(f"{', '.join(existing[:3])}{more} already exist{'s' if len(existing) == 1 else ''}; nothing "
                         "was written. Choose another -o, or pass --overwrite to replace them.")
    return pairs


def upscale_file(src: Path, dst: Path, upscale_rgb, scale: int, overwrite: bool = False) -> tuple[Picture, Picture]:
    """Read, upscale, write atomically; an output that appeared meanwhile is not replaced unless `overwrite`."""
    from .models.weights import atomic_write_bytes

    fmt = FORMATS.get(dst.suffix.lower(), "PNG")
    pic = read_picture(src)
    if pic.alpha is not None and fmt == "JPEG":
        encode_picture(pic, fmt)  # refuses before the network runs
    out = upscale_picture(pic, upscale_rgb, scale)
    data = encode_picture(out, fmt)
    existed = dst.exists()
    if existed and not overwrite:
        raise SrlibError(f"{dst} appeared while upscaling; it was not replaced (pass --overwrite to replace it).")
    atomic_write_bytes(data, dst)  # a replaced file keeps its permissions, a new one gets the usual ones
    return pic, out


# ---- models --------------------------------------------------------------------------------------------------


def default_model() -> tuple[str, str]:
    """(course model name, why it is the default): the real-world model when it is there, else esrgan_x4-cpu."""
    from .models import COURSE_MODELS
    from .models.pretrained import choose_course_model

    passed = []
    for name in DEFAULT_MODELS:
        if name not in COURSE_MODELS:
            passed.append(f"{name} is not a course model yet")
            continue
        try:
            choose_course_model(name)
        except SrlibError:
            passed.append(f"{name} is not trained or shipped here")
            continue
        return name, "the default" + (f" ({'; '.join(passed)})" if passed else "")
    raise SrlibError(f"no default model ({'; '.join(passed)}): pass --model.")


def resolve_model(spec, scale: int = 4, tile: int | None = 256, progress: bool = True):
    """(upscale_rgb function, one line about the model) for --model: bicubic, a course model, a run's folder,
    a generator.pt / last.pt, an official ESRGAN / Real-ESRGAN .pth (see srlib.evaluate.load_model_file),
    or (from Python) an nn.Module."""
    from .evaluate import load_model_file
    from .models import COURSE_MODELS
    from .models.official import missing_official_file
    from .models.pretrained import choose_course_model

    why = ""
    if spec is None:
        spec, why = default_model()
        why = f", {why}"
    if isinstance(spec, nn.Module):
        model, about = spec.eval(), f"a {type(spec).__name__} passed in"
        if getattr(model, "scale", scale) != scale:
            raise SrlibError(f"this {type(spec).__name__} upscales x{model.scale}, not x{scale}: pass scale={model.scale}.")
    elif spec == "bicubic":
        from .degrade import imresize

        return (lambda img, bits=8: imresize(img, scale)), f"bicubic (MATLAB imresize, no network) x{scale}"
    elif spec in COURSE_MODELS:
        path, where, _ = choose_course_model(spec)
        model, about = load_model_file(path, scale)
        about = f"{spec}{why}: {where}, {about}"
    else:
        path = Path(spec).expanduser()
        if path.is_dir():
            path = next((path / n for n in ("generator.pt", "last.pt") if (path / n).is_file()), path / "generator.pt")
        if not path.is_file():
            raise SrlibError(missing_official_file(spec) or
                             f"unknown model {spec!r}: give a course model ({', '.join(COURSE_MODELS)}), bicubic, "
                             f"the path of a generator.pt / last.pt / official .pth file, or a run's folder.")
        model, about = load_model_file(path, scale)

    def run(img: np.ndarray, bits: int = 8) -> np.ndarray:
        from .infer import upscale_array

        # fp16 (CUDA's default) keeps 11 significant bits: fine for 8-bit output, not for 16
        return upscale_array(model, img, scale=scale, tile=tile, progress=progress, half="auto" if bits <= 8 else False)

    return run, about


def upscale_paths(inputs, out=None, model: str | None = None, scale: int = 4, tile: int | None = 256,
                  overwrite: bool = False, progress: bool | None = None, print_=print) -> list[tuple[Path, str]]:
    """Upscale files and folders; returns the (file, reason) failures (the others are written)."""
    progress = sys.stderr.isatty() if progress is None else progress
    pairs = plan_outputs(collect_inputs(inputs), out, scale, overwrite)
    upscale_rgb, about = resolve_model(model, scale, tile, progress)
    print_(f"model: {about}")
    failures = []
    for src, dst in pairs:
        try:
            pic, res = upscale_file(src, dst, upscale_rgb, scale, overwrite)
        except SrlibError as e:
            failures.append((src, str(e)))
            continue
        except (MemoryError, RuntimeError) as e:
            if not isinstance(e, MemoryError) and "memory" not in str(e).lower():
                raise
            failures.append((src, _out_of_memory(src, scale, e)))
            continue
        kind = ("grey" if pic.pixels.shape[2] == 1 else "RGB") + ("+alpha" if pic.alpha is not None else "")
        bits = f"{pic.bits}-bit" if pic.bits == 8 or FORMATS.get(dst.suffix.lower(), "PNG") in ("PNG", "TIFF") else \
            f"16-bit input written at 8 bits, all {dst.suffix} holds"
        print_(f"{src} -> {dst}  ({pic.size[0]}x{pic.size[1]} -> {res.size[0]}x{res.size[1]}, {kind}, {bits})")
    return failures


def _out_of_memory(src: Path, scale: int, err: BaseException) -> str:
    """The reason line for an image that ran out of memory (CPU or GPU), with the sizes involved."""
    try:
        with Image.open(src) as im:
            w, h = im.size
        need = f"its x{scale} output alone is {w * scale}x{h * scale} = {w * h * scale**2 * 12 / 2**30:.1f} GiB as floats"
    except Exception:
        need = "the output is large"
    return (f"not enough memory ({type(err).__name__}): {need}. Use a smaller --tile, another device, or crop or "
            "resize the image first.")
