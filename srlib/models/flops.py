"""Counting multiply-accumulates of a forward pass, by hooks on the layers that dominate."""
from __future__ import annotations

import torch
from torch import nn


def count_macs(model: nn.Module, input_shape=(1, 3, 32, 32)) -> int:
    """Multiply-accumulates of one forward pass (convolutions and linear layers)."""
    total = 0

    def conv_hook(m: nn.Conv2d, inp, out):
        nonlocal total
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total += out.numel() * k

    def linear_hook(m: nn.Linear, inp, out):
        nonlocal total
        total += out.numel() * m.in_features

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(linear_hook) for m in model.modules() if isinstance(m, nn.Linear)]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(input_shape))
    finally:
        for h in hooks:
            h.remove()
    return total


def gflops_per_lr_pixel(model: nn.Module, size: int = 32) -> float:
    """Forward GFLOPs (2 x MACs) per LR input pixel, measured on a size x size input."""
    return 2 * count_macs(model, (1, 3, size, size)) / (size * size) / 1e9
