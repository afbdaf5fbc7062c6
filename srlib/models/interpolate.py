"""Network interpolation (ESRGAN, Wang et al. 2018, section 3.4).

Two generators of the same architecture, one PSNR-trained and one GAN-trained
from it, are blended parameter by parameter:
theta(alpha) = (1 - alpha) * theta_PSNR + alpha * theta_GAN.
Because the GAN model starts from the PSNR model, the two stay close in weight
space and every blend is a working network: one slider from smooth to textured.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from ..errors import SrlibError


def interpolate_state(a: dict, b: dict, alpha: float) -> dict:
    """(1 - alpha) * a + alpha * b for every floating-point tensor; others (counters) are taken from a."""
    if a.keys() != b.keys():
        missing = sorted(set(a) ^ set(b))[:3]
        raise SrlibError(f"the two networks differ (e.g. {', '.join(missing)}): interpolation needs the same architecture.")
    out = {}
    for k, va in a.items():
        vb = b[k]
        if va.shape != vb.shape:
            raise SrlibError(f"{k} has shape {tuple(va.shape)} in one network and {tuple(vb.shape)} in the other.")
        out[k] = torch.lerp(va, vb.to(va.dtype), float(alpha)) if va.is_floating_point() else va.clone()
    return out


def interpolate_networks(psnr_model: nn.Module, gan_model: nn.Module, alpha: float) -> nn.Module:
    """A new network with theta = (1 - alpha) theta_PSNR + alpha theta_GAN (alpha 0: PSNR model, 1: GAN model)."""
    if not 0.0 <= alpha <= 1.0:
        raise SrlibError(f"alpha must lie in [0, 1] (0: the PSNR model, 1: the GAN model), got {alpha}.")
    model = copy.deepcopy(psnr_model)
    model.load_state_dict(interpolate_state(psnr_model.state_dict(), gan_model.state_dict(), alpha))
    return model.eval()
