"""Learning-rate schedules as multipliers of the base rate (for LambdaLR)."""
from __future__ import annotations

import math

from ..errors import SrlibError


def lr_lambda(kind: str, steps: int):
    """step -> factor: "constant", "cosine" (to 0 at `steps`), or "onecycle" (5% linear warm-up, then cosine)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise SrlibError(f"a learning-rate schedule needs at least 1 step, not {steps!r}.")
    if kind == "constant":
        return lambda s: 1.0
    if kind == "cosine":
        return lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    if kind == "onecycle":
        warm = max(1, steps // 20)
        return lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * min(s - warm, steps) / max(1, steps - warm)))
    raise SrlibError(f"unknown schedule {kind!r}; use cosine, constant or onecycle.")
