"""Scoring an upscaling method on a benchmark set, the way the literature does."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from .data import load_benchmark, to_numpy, to_tensor
from .degrade import imresize
from .errors import SrlibError
from .metrics import psnr, ssim
from .texture import hf_power_ratio_db


def bicubic_upscale(lr: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB bicubic upscaling, the baseline of every SR table."""
    return imresize(lr.astype(np.float64), scale)


def model_upscaler(model: torch.nn.Module) -> Callable[[np.ndarray, int], np.ndarray]:
    """Wrap a network (LR tensor -> SR tensor) as an upscaling function."""

    def run(lr: np.ndarray, scale: int) -> np.ndarray:
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
