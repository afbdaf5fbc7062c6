"""Exponential moving average of generator weights (parameters and buffers)."""
from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Keeps `shadow`, a copy of the model whose weights follow decay * shadow + (1 - decay) * model.

    Averaging the last few thousand steps smooths out the GAN's step-to-step
    jitter (ESRGAN/BasicSR use decay 0.999). Buffers (BN statistics) are copied as is.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999):
        self.decay = decay
        self.shadow = copy.deepcopy(model).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for s, p in zip(self.shadow.parameters(), model.parameters()):
            s.lerp_(p.detach(), 1.0 - self.decay)
        for s, b in zip(self.shadow.buffers(), model.buffers()):
            s.copy_(b)

    def state_dict(self) -> dict:
        return self.shadow.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.shadow.load_state_dict(state)
