"""Scoring upscalers on test sets, the way the literature does.

`score_benchmark` / `evaluate`: PSNR and SSIM of one method on one set (the
notebooks' building block). `evaluate_models`: the papers' table, several
models x several sets, with the perceptual measures of srlib.quality (NIQE,
SWD, LPIPS where present) next to PSNR/SSIM; `python -m srlib evaluate` prints it.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from .data import BenchmarkSet, ImagePair, load_benchmark, save_image, to_numpy, to_tensor, to_uint8
from .degrade import imresize
from .errors import SrlibError
from .infer import model_scale
from .metrics import psnr, ssim
from .texture import hf_power_ratio_db


def bicubic_upscale(lr: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB bicubic upscaling, the baseline of every SR table."""
    return imresize(lr.astype(np.float64), scale)


def model_upscaler(model: torch.nn.Module) -> Callable[[np.ndarray, int], np.ndarray]:
    """Wrap a network (LR tensor -> SR tensor) as an upscaling function; a model whose .scale is not the one
    asked for is refused (a x2 model on a x4 set would otherwise fail later as a size mismatch)."""

    def run(lr: np.ndarray, scale: int) -> np.ndarray:
        model_scale(model, scale)
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
        with torch.inference_mode():
            return to_numpy(model(to_tensor(lr).to(device)).clamp(0, 1))

    return run


METHODS = {"bicubic": bicubic_upscale}


@dataclass
class Score:
    image: str
    psnr: float
    ssim: float
    hf_db: float = float("nan")  # high-frequency power vs HR, dB (texture=True); 0 = as detailed as HR


def score_benchmark(method, bench, progress: bool = False, texture: bool = False, **conventions) -> list[Score]:
    """Per-image PSNR/SSIM of `method` ("bicubic", a function (lr, scale) -> sr, or an nn.Module) on a loaded set.

    `conventions` go to psnr/ssim (y_channel, round_y, quantize); the border
    crop defaults to the scale. `texture=True` adds the high-frequency power
    ratio (srlib.texture) of each output.
    """
    if isinstance(method, str):
        if method not in METHODS:
            raise SrlibError(f"unknown method {method!r}; known: {', '.join(METHODS)} (or pass a model).")
        method = METHODS[method]
    elif isinstance(method, torch.nn.Module):
        method = model_upscaler(method)
    crop = conventions.pop("crop", bench.scale)
    scores = []
    for pair in tqdm(bench.pairs, desc=f"{bench.name} x{bench.scale}", disable=not progress, leave=False):
        sr = method(pair.lr, bench.scale)
        try:  # psnr/ssim check the output (as_hwc); say which image it was
            hf = hf_power_ratio_db(sr, pair.hr, bench.scale, crop) if texture else float("nan")
            scores.append(Score(pair.name, psnr(sr, pair.hr, crop, **conventions), ssim(sr, pair.hr, crop, **conventions), hf))
        except SrlibError as e:
            raise SrlibError(f"{bench.name} x{bench.scale}, {pair.name}: {e}") from None
    return scores


def evaluate(method="bicubic", dataset: str = "Set5", scale: int = 4, fallback: bool = True, progress: bool = True, **conventions):
    """Load a benchmark set and score `method` on it (see score_benchmark); returns (scores, benchmark_set)."""
    bench = load_benchmark(dataset, scale, fallback=fallback)
    return score_benchmark(method, bench, progress, **conventions), bench


def mean_scores(scores: list[Score]) -> tuple[float, float]:
    return float(np.mean([s.psnr for s in scores])), float(np.mean([s.ssim for s in scores]))


def mean_hf_db(scores: list[Score]) -> float:
    """Mean high-frequency power ratio (dB) of scores made with texture=True."""
    values = [s.hf_db for s in scores]
    if any(np.isnan(values)):
        raise SrlibError("these scores have no texture figures: score with texture=True.")
    return float(np.mean(values))


def format_table(scores: list[Score], title: str = "") -> str:
    """A plain-text table with one row per image and the mean."""
    lines = [title] if title else []
    lines.append(f"{'image':<22}{'PSNR (dB)':>10}{'SSIM':>9}")
    lines += [f"{s.image:<22}{s.psnr:>10.2f}{s.ssim:>9.4f}" for s in scores]
    p, q = mean_scores(scores)
    lines.append(f"{'mean':<22}{p:>10.2f}{q:>9.4f}")
    return "\n".join(lines)


# ---- scoring models on data sets, as the papers' tables do: `evaluate_models` -----------------------------

METRICS = ("psnr", "ssim", "niqe", "swd", "hf", "lpips")
PER_SET = ("swd",)  # one number per set (a distance between distributions); the others are per image
NEED_HR = ("psnr", "ssim", "swd", "hf", "lpips")
HEADERS = {"psnr": "PSNR (dB)", "ssim": "SSIM", "niqe": "NIQE", "swd": "SWD x1e3", "hf": "HF (dB)", "lpips": "LPIPS"}
FORMATS = {"psnr": ".2f", "ssim": ".4f", "niqe": ".3f", "swd": ".2f", "hf": ".2f", "lpips": ".4f"}
REFERENCE = "HR (reference)"  # NIQE of the ground-truth images themselves: what a perfect output would score


def parse_metrics(metrics) -> tuple[str, ...]:
    """'psnr,ssim' or a sequence of names -> a checked tuple (in the order given, duplicates dropped)."""
    names = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    names = [str(n).strip().lower() for n in names if str(n).strip()]
    unknown = [n for n in names if n not in METRICS]
    if unknown or not names:
        what = f"unknown metric {unknown[0]!r}" if unknown else "no metric given"
        raise SrlibError(f"{what}; known: {', '.join(METRICS)} (comma-separated, e.g. --metrics psnr,ssim,niqe).")
    return tuple(dict.fromkeys(names))


def load_model_file(path: str | Path, scale: int) -> tuple[torch.nn.Module, str]:
    """The generator in a weights file (save_generator, generator.pt) or a training checkpoint (last.pt), and a line about it.

    A checkpoint's EMA weights are used when it has them (as the trainer's own
    validation and generator.pt do). An official ESRGAN / Real-ESRGAN .pth loads as
    RRDBNet (srlib.models.official). A file made for another scale is refused.
    """
    from .models import build_generator, load_generator
    from .models.official import load_official, official_layout, read_state_file
    from .models.weights import describe_mismatch
    from .train.checkpoint import load_checkpoint

    path = Path(path)
    header = read_state_file(path)
    if official_layout(header):
        model, about = load_official(header, name=str(path))
        if model.scale != scale:
            raise SrlibError(f"{path} holds a x{model.scale} model (official RRDBNet); it cannot upscale x{scale}. "
                             f"Use it with --scale {model.scale}, or give a x{scale} model.")
        return model, about
    if isinstance(header, dict) and "preset" in header and "state_dict" in header:
        preset, file_scale, kind = header.get("preset"), header.get("scale"), "generator weights"
    elif isinstance(header, dict) and isinstance(header.get("config"), dict) and "generator" in header:
        preset, file_scale = header["config"].get("generator"), header["config"].get("scale")
        kind = f"training checkpoint, step {header.get('step', '?')}, {'EMA' if 'ema' in header else 'generator'} weights"
    else:
        raise SrlibError(f"{path} is neither a generator weights file (generator.pt, save_generator) nor a training "
                         "checkpoint (last.pt) of srlib: give one of those, a course model name or bicubic.")
    if not isinstance(preset, str) or type(file_scale) is not int:
        raise SrlibError(f"{path} is not a valid srlib file: generator preset={preset!r} and scale={file_scale!r} "
                         "should be a preset name and a whole number (e.g. 'srresnet-cpu' and 4).")
    if file_scale != scale:
        raise SrlibError(f"{path} holds a x{file_scale} model ({preset}); it cannot upscale x{scale}. "
                         f"Evaluate it with --scale {file_scale}, or give a x{scale} model.")
    if kind == "generator weights":
        model, _ = load_generator(path)
        return model, f"{path} ({preset} x{scale}, {kind})"
    state = load_checkpoint(path)
    model = build_generator(preset, file_scale)
    weights = state["ema"] if "ema" in state else state["generator"]
    problem = describe_mismatch(model, weights)
    if problem:
        raise SrlibError(f"{path} does not fit its config's generator ({preset} x{scale}): {problem}.")
    model.load_state_dict(weights)
    return model.eval(), f"{path} ({preset} x{scale}, {kind})"


def load_model(spec, scale: int = 4) -> tuple[Callable[[np.ndarray, int], np.ndarray], str]:
    """An upscaler (lr, scale) -> sr for `spec`, and a line saying what it is.

    `spec`: "bicubic", a course model name (srlib.models.COURSE_MODELS), the path of a
    generator.pt / last.pt, a run's folder (its generator.pt, else its last.pt), an nn.Module
    or a function (lr, scale) -> sr.
    """
    from .models import COURSE_MODELS
    from .models.pretrained import choose_course_model

    if isinstance(spec, torch.nn.Module):
        own = getattr(spec, "scale", scale)
        if own != scale:
            raise SrlibError(f"this {type(spec).__name__} upscales x{own}, not x{scale}: evaluate it at x{own}.")
        return model_upscaler(spec.eval()), f"a {type(spec).__name__} passed in"
    if callable(spec):
        return spec, f"the function {getattr(spec, '__name__', repr(spec))}"
    spec = str(spec)
    if spec == "bicubic":
        return bicubic_upscale, "MATLAB bicubic upscaling (imresize)"
    if spec in COURSE_MODELS:
        path, where, why = choose_course_model(spec)
        model, about = load_model_file(path, scale)
        return model_upscaler(model), f"{where}, {about}; {why}"
    path = Path(spec).expanduser()
    if path.is_dir():  # a run's folder: its final weights, else its last checkpoint
        path = next((path / n for n in ("generator.pt", "last.pt") if (path / n).is_file()), path / "generator.pt")
    if path.is_file():
        model, about = load_model_file(path, scale)
        return model_upscaler(model), about
    raise SrlibError(f"unknown model {spec!r}: give bicubic, a course model ({', '.join(COURSE_MODELS)}), the path "
                     f"of a generator.pt / last.pt file or a run's folder (there is no {path}).")


def load_folder(folder: str | Path, scale: int = 4) -> BenchmarkSet:
    """A folder as a test set: HR/ and LR/ subfolders (pairs), or HR images (in HR/ or in the folder itself).

    HR images alone get their LR made as the registry sets' were: cropped to a
    multiple of the scale, then MATLAB bicubic. Pairs must match: HR = LR x scale
    (after that crop). LR and HR files pair up by file name.
    """
    from .data.images import load_image
    from .data.registry import IMAGE_SUFFIXES, list_images
    from .degrade import bicubic_downsample, crop_to_multiple

    folder = Path(folder).expanduser()
    hr_dir = folder / "HR" if (folder / "HR").is_dir() else folder
    lr_dir = folder / "LR" if hr_dir != folder and (folder / "LR").is_dir() else None
    files = list_images(hr_dir)
    if not files:
        raise SrlibError(f"no images in {hr_dir} (looked for {', '.join(IMAGE_SUFFIXES)} files): give a folder of HR "
                         "images, a folder with HR/ and LR/ subfolders, or --lr-folder for LR images alone.")
    pairs = []
    for f in files:
        hr = crop_to_multiple(load_image(f), scale)
        if min(hr.shape[:2]) == 0:
            raise SrlibError(f"{f} is smaller than {scale} px on a side: it has no x{scale} LR image.")
        if lr_dir is None:
            pairs.append(ImagePair(f.stem, hr, bicubic_downsample(hr, scale).astype(np.float32)))
            continue
        lr_file = lr_dir / f.name
        if not lr_file.is_file():
            raise SrlibError(f"{f.name} in {hr_dir} has no LR partner {lr_file}: pairs share a file name.")
        lr = load_image(lr_file)
        if hr.shape[:2] != (lr.shape[0] * scale, lr.shape[1] * scale):
            h, w = load_image(f).shape[:2]
            raise SrlibError(f"{folder.name}: {f.name} is {w}x{h} in HR/ but {lr.shape[1]}x{lr.shape[0]} in LR/, which "
                             f"x{scale} makes {lr.shape[1] * scale}x{lr.shape[0] * scale}: an LR made at another scale? "
                             "Pass its --scale, or leave LR/ out to make the LR images with MATLAB bicubic.")
        pairs.append(ImagePair(f.stem, hr, lr))
    made = f"HR/LR pairs from {folder}" if lr_dir else (
        f"HR images from {hr_dir}, LR made with MATLAB bicubic x{scale} after cropping to a multiple of {scale}")
    return BenchmarkSet(folder.resolve().name, scale, made, pairs)


def load_lr_folder(folder: str | Path, scale: int = 4) -> BenchmarkSet:
    """A folder of LR images without ground truth: outputs can only be scored without a reference (NIQE)."""
    from .data.images import load_image
    from .data.registry import IMAGE_SUFFIXES, list_images

    folder = Path(folder).expanduser()
    files = list_images(folder)
    if not files:
        raise SrlibError(f"no images in {folder} (looked for {', '.join(IMAGE_SUFFIXES)} files).")
    pairs = [ImagePair(f.stem, None, load_image(f)) for f in files]
    return BenchmarkSet(folder.resolve().name, scale, f"LR images from {folder} (no HR: NIQE only)", pairs)


def load_dataset(spec, scale: int = 4, fallback: bool = True) -> BenchmarkSet:
    """A registry name (Set5, Urban100, ...), a folder (see load_folder) or a BenchmarkSet, loaded at `scale`.

    A registry name wins over a folder of the same name (write ./Set5, or pass a Path, for the folder).
    """
    from .data import get_spec

    if isinstance(spec, BenchmarkSet):
        if spec.scale != scale:
            raise SrlibError(f"{spec.name} was loaded at x{spec.scale}, not x{scale}.")
        return spec
    if isinstance(spec, Path):
        return load_folder(spec, scale)
    try:
        get_spec(spec)
    except SrlibError as e:
        if Path(spec).expanduser().is_dir():
            return load_folder(spec, scale)
        raise SrlibError(f"{e} A folder of images is accepted too, but there is no folder {spec}.") from None
    return load_benchmark(str(spec), scale, fallback=fallback)


def _fmt(value, metric: str) -> str:
    return "-" if value is None else format(value, FORMATS[metric])


@dataclass
class Table:
    """Scores of models on test sets: `sets` has one row per (model, set) with its means and per-set values
    (SWD); `images` one row per (model, set, image). `notes` say where data and models came from."""

    scale: int
    metrics: tuple[str, ...]
    sets: list[dict] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    conventions: list[str] = field(default_factory=list)

    def to_rows(self, per_image: bool = False) -> list[dict]:
        return [dict(r) for r in (self.images if per_image else self.sets)]

    def to_csv(self, per_image: bool = False) -> str:
        keys = ["model", "dataset", "image" if per_image else "images"]
        keys += [m for m in self.metrics if not (per_image and m in PER_SET)]
        out = io.StringIO(newline="")
        w = csv.DictWriter(out, fieldnames=keys, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(self.to_rows(per_image))
        return out.getvalue()

    def to_json(self) -> str:
        return json.dumps({"scale": self.scale, "metrics": list(self.metrics), "conventions": self.conventions,
                           "notes": self.notes, "sets": self.sets, "images": self.images}, indent=1)

    def format(self, per_image: bool = False) -> str:
        """The table as text: per image (per_image=True) or one row per model and set with the set means."""
        rows = self.to_rows(per_image)
        metrics = [m for m in self.metrics if not (per_image and m in PER_SET)]
        third = "image" if per_image else "images"
        wm = max([len("model")] + [len(r["model"]) for r in rows]) + 2
        wd = max([len("set")] + [len(r["dataset"]) for r in rows]) + 2
        wt = max([len(third)] + [len(str(r[third])) for r in rows]) + 2
        widths = {m: max(len(HEADERS[m]), 6) + 2 for m in metrics}
        lines = [f"{'model':<{wm}}{'set':<{wd}}{third:<{wt}}" + "".join(f"{HEADERS[m]:>{widths[m]}}" for m in metrics)]
        for r in rows:
            lines.append(f"{r['model']:<{wm}}{r['dataset']:<{wd}}{str(r[third]):<{wt}}"
                         + "".join(f"{_fmt(r.get(m), m):>{widths[m]}}" for m in metrics))
        return "\n".join(lines)



def describe_conventions(metrics, scale: int, y_channel: bool = True, round_y: bool = True, seed: int = 0) -> list[str]:
    """One line per measure used: how it is measured and which way is better."""
    space = ("Y channel" + (" (rounded)" if round_y else "")) if y_channel else "RGB"
    say = {
        "psnr": f"PSNR (dB) and SSIM: higher is better; {space}, border of {scale} px cropped",
        "niqe": f"NIQE: lower looks more natural; Y channel, border of {scale} px cropped (BasicSR's crop_border = scale)",
        "swd": f"SWD (x 1e3): lower is closer to HR; sliced Wasserstein distance between the SR and HR Laplacian-pyramid "
               f"patches of the whole set (one number per set, seed {seed})",
        "hf": "HF (dB): high-frequency power vs HR, 0 = as much fine detail as HR (noise and blocks raise it too)",
        "lpips": f"LPIPS: lower is closer to HR (a learned distance, AlexNet v0.1); border of {scale} px cropped",
    }
    return [say[m] for m in dict.fromkeys("psnr" if m == "ssim" else m for m in metrics)]


def score_image(metric: str, sr, hr, scale: int, y_channel: bool = True, round_y: bool = True) -> float:
    """One per-image measure of an output `sr` against `hr` (NIQE needs no `hr`), with the conventions above."""
    if metric == "psnr":
        return psnr(sr, hr, scale, y_channel=y_channel, round_y=round_y)
    if metric == "ssim":
        return ssim(sr, hr, scale, y_channel=y_channel, round_y=round_y)
    if metric == "hf":
        return hf_power_ratio_db(sr, hr, scale, scale)
    from . import quality

    if metric == "niqe":
        return float(quality.niqe(sr, crop=scale))
    if metric == "lpips":
        return float(quality.lpips(sr, hr, crop=scale))
    raise SrlibError(f"{metric} is not a per-image measure; per image: {', '.join(m for m in METRICS if m not in PER_SET)}.")


def score_set(metric: str, outputs: list, hrs: list, seed: int = 0) -> float:
    """A per-set measure (SWD) of a set's outputs against its HR images."""
    if metric != "swd":
        raise SrlibError(f"{metric} is not a per-set measure; per set: {', '.join(PER_SET)}.")
    from .quality import swd

    return float(swd(outputs, hrs, seed=seed).mean)


def check_new_path(path: str | Path | None, overwrite: bool = False) -> Path | None:
    """Refuse to replace an existing file unless asked (checked before any work, so nothing is lost)."""
    if path is None:
        return None
    path = Path(path).expanduser()
    if path.is_dir():
        raise SrlibError(f"{path} is a folder; give a file name for the table.")
    if path.exists() and not overwrite:
        raise SrlibError(f"{path} exists; nothing was overwritten. Choose another name or pass --overwrite.")
    return path


def check_image_dir(folder: str | Path | None, overwrite: bool = False) -> Path | None:
    """A folder for SR outputs must be new or empty, unless `overwrite`."""
    if folder is None:
        return None
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise SrlibError(f"{folder} is a file; --save-images needs a folder.")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise SrlibError(f"{folder} is not empty; nothing was written. Choose a new folder or pass --overwrite "
                         "(files of the same name are then replaced).")
    return folder


def _safe_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_.") or "model"


def _score_model(label: str, upscale, bench: BenchmarkSet, metrics, conventions: dict, seed: int, progress: bool,
                 save_dir: Path | None) -> tuple[dict, list[dict]]:
    """(set row, image rows) of one model on one set; SR outputs rounded to 8 bits, as a saved PNG holds them."""
    scale, per_image = bench.scale, [m for m in metrics if m not in PER_SET]
    outputs, rows = [], []
    for p in tqdm(bench.pairs, desc=f"{label} on {bench.name} x{scale}", disable=not progress, leave=False):
        try:
            sr = to_uint8(upscale(p.lr, scale))
            want = (p.lr.shape[0] * scale, p.lr.shape[1] * scale)
            if sr.shape[:2] != want:
                raise SrlibError(f"the output is {sr.shape[1]}x{sr.shape[0]}, not {want[1]}x{want[0]} (x{scale})")
            rows.append({"model": label, "dataset": bench.name, "image": p.name,
                         **{m: score_image(m, sr, p.hr, scale, **conventions) for m in per_image}})
        except SrlibError as e:
            raise SrlibError(f"{label} on {bench.name} x{scale}, {p.name}: {e}") from None
        outputs.append(sr)
        if save_dir is not None:
            save_image(save_dir / _safe_name(label) / _safe_name(bench.name) / f"{p.name}.png", sr)
    row = {"model": label, "dataset": bench.name, "images": len(rows)}
    for m in metrics:
        row[m] = score_set(m, outputs, [p.hr for p in bench.pairs], seed) if m in PER_SET else float(
            np.mean([r[m] for r in rows]))
    return row, rows


def _reference_rows(bench: BenchmarkSet, progress: bool) -> tuple[dict, list[dict]]:
    """NIQE of a set's HR images: the score of a perfect output."""
    rows = []
    for p in tqdm(bench.pairs, desc=f"NIQE of {bench.name} HR", disable=not progress, leave=False):
        try:
            rows.append({"model": REFERENCE, "dataset": bench.name, "image": p.name,
                         "niqe": score_image("niqe", p.hr, None, bench.scale)})
        except SrlibError as e:
            raise SrlibError(f"NIQE of {bench.name}'s HR image {p.name}: {e}") from None
    return {"model": REFERENCE, "dataset": bench.name, "images": len(rows),
            "niqe": float(np.mean([r["niqe"] for r in rows]))}, rows


def load_sets(datasets, scale: int = 4, fallback: bool = True, metrics=(), notes: list | None = None) -> list[BenchmarkSet]:
    """Every set loaded (so that a bad one stops the run before any scoring), each once; `notes` get where from.

    Sets without HR (load_lr_folder) are refused when `metrics` need HR.
    """
    sets, seen, notes = [], {}, [] if notes is None else notes
    for spec in [datasets] if isinstance(datasets, (str, Path, BenchmarkSet)) else datasets:
        bench = load_dataset(spec, scale, fallback)
        key = bench.name if bench.name == "samples" else bench.source  # every missing set falls back to the same samples
        if key in seen:
            notes.append(f"data {spec}: {bench.source}; scored once, as {seen[key]}")
            continue
        seen[key] = bench.name
        need_hr = [m for m in metrics if m in NEED_HR]
        if need_hr and any(p.hr is None for p in bench.pairs):
            raise SrlibError(f"{bench.name} holds LR images without HR, so only NIQE can score its outputs, not "
                             f"{', '.join(need_hr)}: use --metrics niqe, or a folder with HR/ (and LR/) for the others.")
        sets.append(bench)
        notes.append(f"data {bench.name}: {bench.source}")
    return sets


def evaluate_models(models=("bicubic",), datasets=("Set5",), metrics=("psnr", "ssim"), scale: int = 4,
                    fallback: bool = True, progress: bool = True, reference: bool = True, save_images=None,
                    overwrite: bool = False, seed: int = 0, y_channel: bool = True, round_y: bool = True,
                    degrade: str | None = None, degrade_seed: int = 0) -> Table:
    """Score every model on every data set, as the literature's tables do; returns a Table.

    models: a list of specs (see load_model: "bicubic", course model names, weights paths) or a
    dict label -> spec (a spec may also be an nn.Module or a function (lr, scale) -> sr).
    datasets: registry names, folders (load_folder), or loaded sets (load_benchmark, load_lr_folder).
    Each output is rounded to 8 bits (what a saved PNG holds) before it is scored. PSNR/SSIM: Y
    channel (`y_channel`, `round_y`), border `scale`; NIQE: Y channel, border `scale`; SWD: per set,
    `seed`. `reference` adds NIQE of the HR images (a row "HR (reference)"). `save_images`: a new or
    empty folder that receives DIR/model/set/image.png. A set missing from the data root falls back to
    the embedded samples when `fallback` (scored once, however many missing sets asked for them).
    LPIPS, when it is not usable here, is left out and a note says what to install. `degrade`
    ("realesrgan" or "bsrgan") replaces every LR by a seeded draw of that real-world degradation of its
    HR image (srlib.data.degraded, stream `degrade_seed`): how models fare on damaged photos.
    """
    metrics = parse_metrics(metrics)
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 2:
        raise SrlibError(f"scale {scale!r}: the upscaling factor is a whole number of at least 2 (e.g. 4).")
    notes = []
    if not models or not datasets:
        raise SrlibError(f"no {'model' if not models else 'data set'} given: name at least one (e.g. bicubic, Set5).")
    if "lpips" in metrics:
        from .quality import lpips_status

        status = lpips_status()
        if status is not None:
            metrics, notes = tuple(m for m in metrics if m != "lpips"), [f"{status} LPIPS left out; the rest is computed."]
            if not metrics:
                raise SrlibError(f"LPIPS cannot be computed here ({status}); ask for other measures as well.")
    save_dir = check_image_dir(save_images, overwrite)
    specs = models if isinstance(models, dict) else {str(m): m for m in ([models] if isinstance(models, str) else models)}
    upscalers = {}
    for label, spec in specs.items():
        upscalers[label], about = load_model(spec, scale)
        notes.append(f"model {label}: {about}")
    sets = load_sets(datasets, scale, fallback, metrics, notes)
    if degrade:
        from .data.degraded import degrade_benchmark

        sets = [degrade_benchmark(b, degrade, degrade_seed) for b in sets]
        notes.append(f"LR images: a {degrade} degradation of each HR image (seed {degrade_seed}), not the set's own LR")
    table = Table(scale, metrics, notes=notes, conventions=describe_conventions(metrics, scale, y_channel, round_y, seed))
    for bench in sets:
        parts = [_reference_rows(bench, progress)] if reference and "niqe" in metrics and bench.pairs[0].hr is not None else []
        parts += [_score_model(label, upscale, bench, metrics, {"y_channel": y_channel, "round_y": round_y}, seed,
                               progress, save_dir) for label, upscale in upscalers.items()]
        for row, rows in parts:
            table.sets.append(row)
            table.images += rows
    return table
