"""Choosing the device and making runs reproducible."""
from __future__ import annotations

import random

import numpy as np
import torch

from ..errors import SrlibError


def pick_device(preference: str = "auto") -> torch.device:
    """CUDA, then Apple's MPS, then CPU ("auto"); or the named device, if present."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(preference)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SrlibError("device 'cuda' was asked for but no CUDA GPU is visible; use device='auto' or 'cpu'.")
    return dev


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a CPU run repeats bit for bit."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
