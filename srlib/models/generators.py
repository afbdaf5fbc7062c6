"""Generators: SRResNet (SRGAN), its BN-free variant, RRDBNet (ESRGAN) and the seed blog's generator.

All map an LR image (N, 3, h, w) in [0, 1] to an SR image (N, 3, s*h, s*w),
for any h, w; outputs are not clamped (clamp when saving or measuring).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import SrlibError
from .upsample import (LRSubPixelUpsample, SubPixelUpsample, interpolation_kernel, interpolation_phases,
                       upsample_factors)


class ResidualBlock(nn.Module):
    """conv-(BN)-act-conv-(BN), added to the input: the network learns a correction, not a copy."""

    def __init__(self, channels: int = 64, bn: bool = True, act: str = "prelu", res_scale: float = 1.0):
        super().__init__()
        self.res_scale = res_scale
        layers: list[nn.Module] = [nn.Conv2d(channels, channels, 3, padding=1, bias=True)]
        if bn:
            layers.append(nn.BatchNorm2d(channels))
        layers.append(nn.PReLU() if act == "prelu" else nn.ReLU(inplace=True))
        layers.append(nn.Conv2d(channels, channels, 3, padding=1))
        if bn:
            layers.append(nn.BatchNorm2d(channels))
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return x + (self.body(x) if self.res_scale == 1 else self.res_scale * self.body(x))


class SRResNet(nn.Module):
    """SRResNet from SRGAN (Ledig et al., 2017), with switches for its BN-free descendants.

    Paper settings (the default): 9x9 head, 16 residual blocks of 64 channels with
    BN and PReLU, a conv+BN closing the body, a skip from the head over the whole
    body, two x2 sub-pixel stages (one x3 stage for x3), 9x9 tail.
    bn=False, act="relu" gives the variant BasicSR and ESRGAN recommend (BN
    causes artifacts and costs speed); image_skip adds a bicubic/bilinear upscaled
    input, so the network only learns the missing detail. upsampler="lr" replaces
    the sub-pixel stages and the tail by one LR-space conv to 3 r^2 channels and
    one PixelShuffle(r) (ESPCN, IMDN): every conv runs on LR pixels, which costs a
    fraction of the FLOPs and keeps a CPU busy (`python -m srlib bench train`).
    """

    def __init__(self, scale: int = 4, channels: int = 64, blocks: int = 16, bn: bool = True, act: str = "prelu",
                 head_kernel: int = 9, image_skip: str | None = None, icnr: bool = False, upsampler: str = "subpixel"):
        super().__init__()
        self.scale, self.image_skip = scale, image_skip
        upsample_factors(scale)  # validates the scale
        self.head = nn.Sequential(nn.Conv2d(3, channels, head_kernel, padding=head_kernel // 2),
                                  nn.PReLU() if act == "prelu" else nn.ReLU(inplace=True))
        body: list[nn.Module] = [ResidualBlock(channels, bn, act) for _ in range(blocks)]
        body.append(nn.Conv2d(channels, channels, 3, padding=1))
        if bn:
            body.append(nn.BatchNorm2d(channels))
        self.body = nn.Sequential(*body)
        if upsampler == "lr":
            self.upsample = LRSubPixelUpsample(channels, scale, icnr=icnr)
            self.tail = nn.Identity()
            if image_skip:  # fixed, not learned: kept out of the state dict; 2-D so that channels_last leaves it
                # alone (a channels_last (n, 1, 5, 5) buffer breaks DistributedDataParallel's buffer broadcast)
                self.register_buffer("skip_kernel", interpolation_kernel(scale, image_skip).flatten(1), persistent=False)
        elif upsampler == "subpixel":
            act_cls = nn.PReLU if act == "prelu" else (lambda: nn.LeakyReLU(0.1, inplace=True))
            self.upsample = SubPixelUpsample(channels, scale, act=act_cls, icnr=icnr)
            self.tail = nn.Conv2d(channels, 3, head_kernel, padding=head_kernel // 2)
        else:
            raise SrlibError(f"upsampler must be 'subpixel' (SRGAN's x2 stages) or 'lr' (one LR-space conv + "
                             f"PixelShuffle); got {upsampler!r}.")

    def forward(self, x):
        feat = self.head(x)
        feat = feat + self.body(feat)
        if self.image_skip and isinstance(self.tail, nn.Identity):  # LR space: the skip joins before the one shuffle
            conv, shuffle = self.upsample
            return shuffle(conv(feat) + interpolation_phases(x, self.skip_kernel.view(-1, 1, 5, 5)))
        out = self.tail(self.upsample(feat))
        if self.image_skip:
            out = out + F.interpolate(x, scale_factor=self.scale, mode=self.image_skip, align_corners=False)
        return out


class DenseBlock(nn.Module):
    """ESRGAN's residual dense block: 5 convs, each sees all earlier features; output scaled by 0.2."""

    def __init__(self, channels: int = 64, growth: int = 32, res_scale: float = 0.2):
        super().__init__()
        self.res_scale = res_scale
        self.convs = nn.ModuleList(
            nn.Conv2d(channels + i * growth, growth if i < 4 else channels, 3, padding=1) for i in range(5)
        )
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x):
        feats = [x]
        for i, conv in enumerate(self.convs):
            out = conv(torch.cat(feats, 1))
            if i < 4:
                feats.append(self.act(out))
        return x + self.res_scale * out


class RRDB(nn.Module):
    """Residual-in-residual dense block: three dense blocks inside one more scaled skip."""

    def __init__(self, channels: int = 64, growth: int = 32, res_scale: float = 0.2):
        super().__init__()
        self.res_scale = res_scale
        self.blocks = nn.Sequential(*(DenseBlock(channels, growth, res_scale) for _ in range(3)))

    def forward(self, x):
        return x + self.res_scale * self.blocks(x)


class RRDBNet(nn.Module):
    """ESRGAN's generator (Wang et al., 2018): no BN, RRDB body, nearest-neighbour + conv upsampling.

    Paper settings: 64 channels, 23 RRDBs, growth 32 (16.7 M parameters at x4).
    """

    def __init__(self, scale: int = 4, channels: int = 64, blocks: int = 23, growth: int = 32,
                 res_scale: float = 0.2, image_skip: str | None = None):
        super().__init__()
        self.scale, self.image_skip = scale, image_skip
        self.factors = upsample_factors(scale)
        self.conv_first = nn.Conv2d(3, channels, 3, padding=1)
        self.body = nn.Sequential(*(RRDB(channels, growth, res_scale) for _ in range(blocks)))
        self.conv_body = nn.Conv2d(channels, channels, 3, padding=1)
        self.ups = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1) for _ in self.factors)
        self.conv_hr = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_last = nn.Conv2d(channels, 3, 3, padding=1)
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x):
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        for r, conv in zip(self.factors, self.ups):
            feat = self.act(conv(F.interpolate(feat, scale_factor=r, mode="nearest")))
        out = self.conv_last(self.act(self.conv_hr(feat)))
        if self.image_skip:
            out = out + F.interpolate(x, scale_factor=self.scale, mode=self.image_skip, align_corners=False)
        return out
