"""The seed blog post's two networks, as written (`faithful=True`) and fixed (the default).

The faithful versions reproduce the layer stacks of `SEED_LISTING` so the
critique can run them and watch them fail; the fixed versions change only what
is broken and keep every other choice the blog made (3x3 convs, 4 residual
blocks, one PixelShuffle for the whole scale, a 6-conv D with global pooling).
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import SrlibError
from ..seed_listing import SEED_LISTING
from .generators import ResidualBlock

__all__ = ["SEED_LISTING", "BlogGenerator", "BlogDiscriminator"]


class BlogGenerator(nn.Module):
    """The blog's generator: residual blocks, conv to C*s^2 channels, PixelShuffle(s), conv to 3.

    The blog calls `ResidualBlock(64, 64)` but never defines it; we read it as
    SRGAN's block (conv-BN-PReLU-conv-BN plus identity), the one the blog's
    "SRGAN" framing presupposes.

    faithful=True: exactly the blog's stack, ending in Tanh. Its first layer is
    a 64-channel residual block, so an RGB image fails at once with PyTorch's
    RuntimeError "expected input ... to have 64 channels, but got 3".
    faithful=False (the fix): a 3x3 head conv (3 -> C) in front, a skip from the
    head over the residual blocks (they learn a correction, as in SRResNet), and
    no Tanh: Tanh outputs [-1, 1] while the course's images are in [0, 1], and
    the identity output keeps gradients alive at the extremes; clamp at inference.
    """

    def __init__(self, scale: int = 4, channels: int = 64, blocks: int = 4, faithful: bool = False):
        super().__init__()
        for name, value, low in (("scale", scale, 1), ("channels", channels, 1), ("blocks", blocks, 0)):
            if not isinstance(value, int) or value < low:
                raise SrlibError(f"{name} must be an integer >= {low}; got {value!r}.")
        self.scale, self.faithful = scale, faithful
        residual = [ResidualBlock(channels, bn=True, act="prelu") for _ in range(blocks)]
        upsample = [nn.Conv2d(channels, channels * scale**2, kernel_size=3, stride=1, padding=1),
                    nn.PixelShuffle(scale),
                    nn.Conv2d(channels, 3, kernel_size=3, stride=1, padding=1)]
        if faithful:
            self.net = nn.Sequential(*residual, *upsample, nn.Tanh())
        else:
            self.head = nn.Conv2d(3, channels, kernel_size=3, stride=1, padding=1)
            self.body = nn.Sequential(*residual)
            self.tail = nn.Sequential(*upsample)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.faithful:
            return self.net(x)
        feat = self.head(x)
        return self.tail(feat + self.body(feat))


class BlogDiscriminator(nn.Module):
    """The blog's discriminator: 6 3x3 convs (64, 64s2, 128, 128s2, 256, 256s2) with BN and
    LeakyReLU(0.2), global average pooling, a 1x1 conv to one channel.

    faithful=True: exactly the blog's stack, ending in Sigmoid -> (N, 1, 1, 1)
    probabilities for `BCELoss`, which saturates (vanishing gradients, log(0))
    once D is confident.
    faithful=False (the fix): the same body without the Sigmoid -> (N, 1, 1, 1)
    logits, for `BCEWithLogitsLoss`. Labels must have the output's shape, e.g.
    `torch.ones_like(logits)`; (N, 1) labels are rejected by the loss.
    Despite the blog's comment ("卷积和全连接层"), there is no fully connected layer.
    `channels` (64 in the blog) scales every width, for a small CPU version.
    """

    def __init__(self, faithful: bool = False, channels: int = 64):
        super().__init__()
        if not isinstance(channels, int) or channels < 1:
            raise SrlibError(f"channels must be a positive integer; got {channels!r}.")
        self.faithful = faithful
        layers: list[nn.Module] = []
        prev = 3
        c = channels
        for i, width in enumerate((c, c, 2 * c, 2 * c, 4 * c, 4 * c)):
            layers.append(nn.Conv2d(prev, width, kernel_size=3, stride=1 + i % 2, padding=1))
            if i > 0:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            prev = width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(prev, 1, kernel_size=1, stride=1, padding=0)]
        if faithful:
            layers.append(nn.Sigmoid())
        self.net = nn.Sequential(*layers)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The activation after each of the 6 conv blocks."""
        feats = []
        for layer in self.net:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                feats.append(x)
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
