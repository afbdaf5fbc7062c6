"""Named model sizes: the papers' settings, and small ones that train in minutes on a CPU."""
from __future__ import annotations

import difflib
from typing import Callable

from torch import nn

from ..errors import SrlibError
from .generators import RRDBNet, SRResNet

# name -> (builder(scale) -> module, description)
GENERATORS: dict[str, tuple[Callable[[int], nn.Module], str]] = {
    "srresnet": (lambda s: SRResNet(s), "SRGAN paper: 16 blocks x 64 ch, BN, PReLU, 9x9 head/tail"),
    "srresnet-nobn": (lambda s: SRResNet(s, bn=False, act="relu", head_kernel=3),
                      "BN-free SRResNet (BasicSR/ESRGAN advice): 16 x 64, ReLU, 3x3 head/tail"),
    "rrdbnet": (lambda s: RRDBNet(s), "ESRGAN paper: 23 RRDBs x 64 ch, growth 32"),
    "srresnet-cpu": (lambda s: SRResNet(s, channels=32, blocks=6, bn=False, act="relu", head_kernel=3,
                                        image_skip="bicubic"),
                     "CPU size: 6 blocks x 32 ch, BN-free, bicubic image skip"),
    "rrdbnet-cpu": (lambda s: RRDBNet(s, channels=32, blocks=2, growth=16, image_skip="bicubic"),
                    "CPU size: 2 RRDBs x 32 ch, growth 16, bicubic image skip"),
}

# published parameter counts at x4 (SRGAN: Ledig et al. 2017; ESRGAN: Wang et al. 2018 / BasicSR)
PAPER_PARAMETERS = {"srresnet": 1_549_462, "rrdbnet": 16_697_987}


def build_generator(name: str, scale: int = 4) -> nn.Module:
    """A generator by preset name (see GENERATORS)."""
    if name not in GENERATORS:
        close = difflib.get_close_matches(name, list(GENERATORS), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise SrlibError(f"unknown generator preset {name!r}.{hint} Known: {', '.join(GENERATORS)}.")
    return GENERATORS[name][0](scale)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
