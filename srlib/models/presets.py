"""Named model sizes: the papers' settings, and small ones that train in minutes on a CPU."""
from __future__ import annotations

import difflib
from typing import Callable

from torch import nn

from ..errors import SrlibError
from .discriminators import PatchDiscriminatorSN, SRGANDiscriminator
from .generators import RRDBNet, SRResNet

# name -> (builder(scale) -> module, description)
GENERATORS: dict[str, tuple[Callable[[int], nn.Module], str]] = {
    "srresnet": (lambda s: SRResNet(s), "SRGAN paper: 16 blocks x 64 ch, BN, PReLU, 9x9 head/tail"),
    "srresnet-nobn": (lambda s: SRResNet(s, bn=False, act="relu", head_kernel=3),
                      "BN-free SRResNet (BasicSR/ESRGAN advice): 16 x 64, ReLU, 3x3 head/tail"),
    "rrdbnet": (lambda s: RRDBNet(s), "ESRGAN paper: 23 RRDBs x 64 ch, growth 32"),
    "srresnet-cpu": (lambda s: SRResNet(s, channels=32, blocks=6, bn=False, act="relu", head_kernel=3,
                                        image_skip="bicubic", upsampler="lr"),
                     "CPU size: 6 blocks x 32 ch, BN-free, one LR-space sub-pixel conv, bicubic image skip"),
    "srresnet-cpu-hr": (lambda s: SRResNet(s, channels=32, blocks=6, bn=False, act="relu", head_kernel=3,
                                           image_skip="bicubic"),
                        "srresnet-cpu with SRGAN's upsampler (two x2 sub-pixel stages, 3x3 tail at HR), for comparison"),
    "srresnet-cpu-bn": (lambda s: SRResNet(s, channels=32, blocks=6, bn=True, act="relu", head_kernel=3,
                                           image_skip="bicubic", upsampler="lr"),
                        "srresnet-cpu with batch norm in every block (SRGAN's choice), for the BN-artifact lesson"),
    "srresnet-cpu-48": (lambda s: SRResNet(s, channels=48, blocks=6, bn=False, act="relu", head_kernel=3,
                                           image_skip="bicubic", upsampler="lr"),
                        "srresnet-cpu at 48 channels: 2.2x its FLOPs, a larger share of the CPU (model card: lr48x6-2700)"),
    "rrdbnet-cpu": (lambda s: RRDBNet(s, channels=32, blocks=2, growth=16, image_skip="bicubic"),
                    "CPU size: 2 RRDBs x 32 ch, growth 16, bicubic image skip"),
    "srresnet-course": (lambda s: SRResNet(s, channels=64, blocks=16, bn=False, act="relu", head_kernel=3,
                                           image_skip="bicubic", upsampler="lr"),
                        "course model: 16 blocks x 64 ch, BN-free, one LR-space sub-pixel conv, bicubic skip"),
    "srresnet-tiny": (lambda s: SRResNet(s, channels=8, blocks=1, bn=False, act="relu", head_kernel=3,
                                         image_skip="bicubic"), "for tests and smoke runs: 1 block x 8 ch"),
}

# name -> (builder(patch_size) -> module, description)
DISCRIMINATORS: dict[str, tuple[Callable[[int], nn.Module], str]] = {
    "srgan": (lambda p: SRGANDiscriminator(input_size=p), "SRGAN paper: 8 convs 64-512 ch, BN, dense 1024"),
    "srgan-cpu": (lambda p: SRGANDiscriminator(channels=16, input_size=p, dense=128),
                  "CPU size: 8 convs 16-128 ch, BN, dense 128"),
    "patch-sn": (lambda p: PatchDiscriminatorSN(), "Real-ESRGAN U-Net, spectral norm, per-pixel logits"),
    "patch-sn-cpu": (lambda p: PatchDiscriminatorSN(channels=16), "CPU size U-Net (16 ch), spectral norm"),
    "srgan-tiny": (lambda p: SRGANDiscriminator(channels=4, input_size=p, dense=16), "for tests and smoke runs"),
}

# published parameter counts at x4 (SRGAN: Ledig et al. 2017; ESRGAN: Wang et al. 2018 / BasicSR)
PAPER_PARAMETERS = {"srresnet": 1_549_462, "rrdbnet": 16_697_987}


def _lookup(registry: dict, kind: str, name: str):
    if name not in registry:
        close = difflib.get_close_matches(name, list(registry), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise SrlibError(f"unknown {kind} preset {name!r}.{hint} Known: {', '.join(registry)}.")
    return registry[name][0]


def build_generator(name: str, scale: int = 4) -> nn.Module:
    """A generator by preset name (see GENERATORS)."""
    return _lookup(GENERATORS, "generator", name)(scale)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build_discriminator(name: str, patch_size: int = 96) -> nn.Module:
    """A discriminator by preset name (see DISCRIMINATORS), for HR patches of `patch_size`."""
    return _lookup(DISCRIMINATORS, "discriminator", name)(patch_size)
