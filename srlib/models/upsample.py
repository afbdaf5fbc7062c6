"""Sub-pixel convolution (PixelShuffle) upsampling, with optional ICNR initialisation.

A convolution makes r^2 times more channels, and PixelShuffle rearranges each
group of r^2 channels into an r x r block of pixels. With random weights the r^2
sub-pixel kernels differ, which paints a checkerboard over the image at the start
of training; ICNR (Aitken et al., 2017) starts all r^2 kernels equal, so the
layer begins as nearest-neighbour upsampling followed by a convolution.
"""
from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import SrlibError


def icnr_(weight: torch.Tensor, scale: int, init=nn.init.kaiming_normal_) -> torch.Tensor:
    """Fill a (C*r^2, in, k, k) conv weight so that the r^2 sub-pixel kernels are identical."""
    out_ch = weight.shape[0]
    if out_ch % (scale**2):
        raise SrlibError(f"ICNR needs out_channels divisible by scale^2 = {scale**2}; got {out_ch}.")
    sub = torch.empty(out_ch // scale**2, *weight.shape[1:])
    init(sub)
    with torch.no_grad():
        weight.copy_(sub.repeat_interleave(scale**2, dim=0))
    return weight


def upsample_factors(scale: int) -> list[int]:
    """x2 -> [2], x3 -> [3], x4 -> [2, 2], x8 -> [2, 2, 2]: the sub-pixel stages of a scale."""
    if scale == 3:
        return [3]
    if scale >= 2 and scale & (scale - 1) == 0:
        return [2] * (scale.bit_length() - 1)
    raise SrlibError(f"scale must be 2, 3, 4 or 8; got {scale}.")


class SubPixelUpsample(nn.Sequential):
    """conv(C -> C r^2) + PixelShuffle(r) (+ activation) per stage, for the whole scale."""

    def __init__(self, channels: int, scale: int, act: type[nn.Module] | None = nn.PReLU, icnr: bool = False):
        layers: list[nn.Module] = []
        for r in upsample_factors(scale):
            conv = nn.Conv2d(channels, channels * r * r, 3, padding=1)
            if icnr:
                icnr_(conv.weight, r)
                nn.init.zeros_(conv.bias)
            layers += [conv, nn.PixelShuffle(r)]
            if act is not None:
                layers.append(act())
        super().__init__(*layers)


class LRSubPixelUpsample(nn.Sequential):
    """One conv from C to 3 r^2 channels on LR pixels + PixelShuffle(r): RGB out, no HR-space conv (ESPCN)."""

    def __init__(self, channels: int, scale: int, out_channels: int = 3, icnr: bool = False):
        upsample_factors(scale)  # validates the scale
        conv = nn.Conv2d(channels, out_channels * scale * scale, 3, padding=1)
        if icnr:
            icnr_(conv.weight, scale)
            nn.init.zeros_(conv.bias)
        super().__init__(conv, nn.PixelShuffle(scale))


@lru_cache(maxsize=None)
def _interpolation_kernel(scale: int, mode: str) -> torch.Tensor:
    n = 12
    lit = torch.zeros(25, 1, n, n, dtype=torch.float64)
    for k in range(25):
        lit[k, 0, n // 2 - 2 + k // 5, n // 2 - 2 + k % 5] = 1  # image k lights the neighbour (k//5 - 2, k%5 - 2)
    up = F.interpolate(lit, scale_factor=scale, mode=mode, align_corners=False)
    block = up[:, 0, scale * (n // 2):scale * (n // 2 + 1), scale * (n // 2):scale * (n // 2 + 1)]  # (25, r, r)
    return block.reshape(25, scale * scale).T.reshape(scale * scale, 1, 5, 5).float().contiguous()


def interpolation_kernel(scale: int, mode: str = "bicubic", channels: int = 3) -> torch.Tensor:
    """(C r^2, 1, 5, 5): the weight F.interpolate(mode, align_corners=False) gives each LR neighbour, per sub-pixel.

    Read off F.interpolate itself (its response to one lit pixel), so the conv form is that
    interpolation, not an approximation of it; bicubic reaches 2 LR pixels.
    """
    return _interpolation_kernel(scale, mode).repeat(channels, 1, 1, 1)


def interpolation_phases(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """F.interpolate(x) before its pixel shuffle: (N, C r^2, h, w), with `kernel` from interpolation_kernel, so that
    pixel_shuffle(interpolation_phases(x, kernel), r) == F.interpolate(x, scale_factor=r, mode=mode) to rounding.

    A network whose last layer is an LR-space conv to C r^2 channels adds its image skip here and
    shuffles once; a 5x5 grouped conv on LR pixels costs a quarter of the upsampling kernel it replaces.
    Border pixels are repeated, as F.interpolate clamps its taps to the image.
    """
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), kernel, groups=x.shape[1])
