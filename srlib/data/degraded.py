"""Test sets with real-world damage: the same HR images, LR made by one fixed, seeded draw of the degradation model.

Bicubic test sets only tell how well a model inverts MATLAB's bicubic. A blind model is judged on LR images
that are blurred, noisy and JPEG-compressed the way photos are; a seeded draw per image makes that table
reproducible (image i of the set always gets the draw of stream (seed, i)).
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import SrlibError
from .sets import BenchmarkSet, ImagePair

DEGRADED_ORDERS = ("realesrgan", "bsrgan")


def image_seed(seed: int, index: int) -> int:
    """The degradation stream of image `index` in a set degraded with `seed`."""
    return int(seed) * 1_000_003 + int(index)


def degrade_benchmark(bench: BenchmarkSet, order: str = "realesrgan", seed: int = 0) -> BenchmarkSet:
    """`bench` with each LR replaced by a seeded draw of the real-world pipeline applied to its HR image."""
    from ..realworld import degrade_realesrgan

    if order not in DEGRADED_ORDERS:
        raise SrlibError(f"unknown degradation {order!r} for a test set; use {', '.join(DEGRADED_ORDERS)}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise SrlibError(f"degradation seed {seed!r}: give a whole number (e.g. 0).")
    pairs = []
    for i, p in enumerate(bench.pairs):
        if p.hr is None:
            raise SrlibError(f"{bench.name} has no HR images to degrade: a degraded test set is made from HR.")
        hr = torch.from_numpy(np.array(p.hr, dtype=np.float32)).permute(2, 0, 1)[None]
        g = torch.Generator().manual_seed(image_seed(seed, i))
        lr = degrade_realesrgan(hr, bench.scale, generators=[g], order=order)[0]
        pairs.append(ImagePair(p.name, p.hr, lr.permute(1, 2, 0).numpy().astype(np.float32)))
    return BenchmarkSet(f"{bench.name}-{order}", bench.scale,
                        f"{bench.source}, LR from a {order} degradation draw (seed {seed}, per image)", pairs)
