"""Discriminators: SRGAN's VGG-style classifier and Real-ESRGAN's U-Net with spectral norm.

Every discriminator returns raw logits from `forward` (no sigmoid: pair it with
`BCEWithLogitsLoss` or a relativistic loss, which are stable where
sigmoid + `BCELoss` saturates) and the activation after each conv block from
`features`, for feature-matching losses.
"""
from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..errors import SrlibError


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise SrlibError(f"{name} must be a positive integer; got {value!r}.")


class SRGANDiscriminator(nn.Module):
    """SRGAN's discriminator (Ledig et al., 2017): 8 conv blocks, then a dense head -> (N, 1) logits.

    Conv blocks: 3x3 convs with channels c, c/s2, 2c, 2c/s2, 4c, 4c/s2, 8c, 8c/s2
    (c = `channels`), LeakyReLU(0.2), BN after every conv but the first. Head:
    Dense(`dense`) + LeakyReLU(0.2) + Dense(1).

    The four stride-2 convs shrink a side n to ceil(n/16). The paper's dense head
    needs a fixed size, so an adaptive average pool brings the map to the grid
    that `input_size` gives (6x6 for 96): at `input_size` the pool is the identity,
    so with channels=64, dense=1024 and 96x96 input this is exactly the paper's
    network; other sizes (odd ones too) are pooled to the same grid and still work.
    channels=16 gives a small version that trains on a CPU.
    """

    def __init__(self, in_channels: int = 3, channels: int = 64, input_size: int = 96, dense: int = 1024):
        super().__init__()
        _check_positive(in_channels=in_channels, channels=channels, input_size=input_size, dense=dense)
        self.grid = -(-input_size // 16)
        widths = [channels, channels, 2 * channels, 2 * channels, 4 * channels, 4 * channels,
                  8 * channels, 8 * channels]
        blocks: list[nn.Module] = []
        prev = in_channels
        for i, width in enumerate(widths):
            layers: list[nn.Module] = [nn.Conv2d(prev, width, 3, stride=1 + i % 2, padding=1)]
            if i > 0:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            blocks.append(nn.Sequential(*layers))
            prev = width
        self.body = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(self.grid),
            nn.Flatten(),
            nn.Linear(prev * self.grid * self.grid, dense),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(dense, 1),
        )

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The activation after each of the 8 conv blocks."""
        feats = []
        for block in self.body:
            x = block(x)
            feats.append(x)
        return feats

    def logits_and_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """forward(x) and features(x) from one pass (feature matching needs both)."""
        feats = self.features(x)
        return self.head(feats[-1]), feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class PatchDiscriminatorSN(nn.Module):
    """Real-ESRGAN's U-Net discriminator with spectral norm (Wang et al., 2021): one logit per pixel.

    Three stride-2 4x4 convs go down to 1/8 of the size, three 3x3 convs come
    back up (bilinear upsampling before each), adding the encoder's activations
    when `skip`; two more 3x3 convs and a 3x3 conv to one channel follow. The
    output is (N, 1, H, W): a real/fake judgement for every pixel, so the
    generator learns where its output looks wrong, not only whether.
    Spectral norm on every conv but the first and the last (as in Real-ESRGAN)
    bounds each layer's Lipschitz constant, which keeps this deep D stable.
    Real-ESRGAN upsamples by exactly 2, which needs sides divisible by 8; here
    each stage is resized to the size of its skip, so any side >= 8 works.
    """

    def __init__(self, in_channels: int = 3, channels: int = 64, skip: bool = True):
        super().__init__()
        _check_positive(in_channels=in_channels, channels=channels)
        self.skip = skip
        c = channels
        self.conv0 = nn.Conv2d(in_channels, c, 3, 1, 1)
        self.conv1 = spectral_norm(nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False))
        self.conv2 = spectral_norm(nn.Conv2d(2 * c, 4 * c, 4, 2, 1, bias=False))
        self.conv3 = spectral_norm(nn.Conv2d(4 * c, 8 * c, 4, 2, 1, bias=False))
        self.conv4 = spectral_norm(nn.Conv2d(8 * c, 4 * c, 3, 1, 1, bias=False))
        self.conv5 = spectral_norm(nn.Conv2d(4 * c, 2 * c, 3, 1, 1, bias=False))
        self.conv6 = spectral_norm(nn.Conv2d(2 * c, c, 3, 1, 1, bias=False))
        self.conv7 = spectral_norm(nn.Conv2d(c, c, 3, 1, 1, bias=False))
        self.conv8 = spectral_norm(nn.Conv2d(c, c, 3, 1, 1, bias=False))
        self.conv9 = nn.Conv2d(c, 1, 3, 1, 1)

    def _run(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        if x.shape[-1] < 8 or x.shape[-2] < 8:
            raise SrlibError(f"PatchDiscriminatorSN needs images at least 8x8 (it downsamples 8 times); "
                             f"got {tuple(x.shape[-2:])}. Use larger patches.")

        def act(t):
            return F.leaky_relu(t, 0.2, inplace=True)

        def up(t, like):
            return F.interpolate(t, size=like.shape[-2:], mode="bilinear", align_corners=False)

        x0 = act(self.conv0(x))
        x1 = act(self.conv1(x0))
        x2 = act(self.conv2(x1))
        x3 = act(self.conv3(x2))
        x4 = act(self.conv4(up(x3, x2)))
        if self.skip:
            x4 = x4 + x2
        x5 = act(self.conv5(up(x4, x1)))
        if self.skip:
            x5 = x5 + x1
        x6 = act(self.conv6(up(x5, x0)))
        if self.skip:
            x6 = x6 + x0
        x7 = act(self.conv7(x6))
        x8 = act(self.conv8(x7))
        return [x0, x1, x2, x3, x4, x5, x6, x7, x8], self.conv9(x8)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The activation after each of the 9 conv blocks before the logit conv (after the skip sums)."""
        return self._run(x)[0]

    def logits_and_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """forward(x) and features(x) from one pass (feature matching needs both)."""
        feats, logits = self._run(x)
        return logits, feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)[1]


def _square(value) -> int | None:
    if isinstance(value, int):
        return value
    return value[0] if len(set(value)) == 1 else None


def _kernel_stride(layer) -> tuple[int, int]:
    """(effective kernel, stride) of a conv/pool layer or a (kernel, stride) pair."""
    if isinstance(layer, nn.Module):
        k, s, d = layer.kernel_size, layer.stride, getattr(layer, "dilation", 1)
    elif isinstance(layer, (tuple, list)) and len(layer) == 2:
        (k, s), d = layer, 1
    else:
        raise SrlibError(f"receptive_field takes conv/pool layers or (kernel, stride) pairs; got {layer!r}.")
    k, s, d = _square(k), _square(s), _square(d)
    if None in (k, s, d):
        raise SrlibError(f"receptive_field handles square kernels and strides only; got {layer}. "
                         "Pass (kernel, stride) pairs for one axis instead.")
    return d * (k - 1) + 1, s


def receptive_field(model_or_layers: nn.Module | Iterable) -> int:
    """Side in input pixels of the window one output unit of a chain of convs (and pools) sees.

    Accepts a module (its Conv2d/MaxPool2d/AvgPool2d layers are taken in
    registration order, so it must be a plain chain, e.g.
    `SRGANDiscriminator().body`) or a list of such modules or (kernel, stride) pairs.
    Each layer widens the field by (k - 1) times the current jump j (the input
    distance between neighbouring units), then multiplies j by its stride:
    r += (k - 1) * j; j *= s.
    """
    items = [model_or_layers] if isinstance(model_or_layers, nn.Module) else list(model_or_layers)
    layers = []
    for item in items:
        if isinstance(item, nn.Module):
            layers += [m for m in item.modules() if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))]
        else:
            layers.append(item)
    if not layers:
        raise SrlibError("receptive_field found no conv or pooling layers; pass a conv stack "
                         "(e.g. SRGANDiscriminator().body) or (kernel, stride) pairs.")
    r, j = 1, 1
    for layer in layers:
        k, s = _kernel_stride(layer)
        r += (k - 1) * j
        j *= s
    return r
