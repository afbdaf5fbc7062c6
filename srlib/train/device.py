"""Choosing the device and making runs reproducible."""
from __future__ import annotations

import random

import numpy as np
import torch

from ..errors import SrlibError


DEVICE_TYPES = ("cpu", "cuda", "mps")
VALID_DEVICES = "auto, cpu, cuda (or cuda:N), mps"


def pick_device(preference: str = "auto") -> torch.device:
    """CUDA, then Apple's MPS, then CPU ("auto"); or the named device, if present."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(preference)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in DEVICE_TYPES:
        raise SrlibError(f"unknown device {preference!r}; use one of {VALID_DEVICES}.")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SrlibError(f"device {preference!r} was asked for but no CUDA GPU is visible; use device='auto' or 'cpu'.")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise SrlibError(f"device {preference!r} was asked for but only {torch.cuda.device_count()} CUDA GPU(s) are "
                         f"visible (cuda:0 ...); use device='cuda' or 'auto'.")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise SrlibError("device 'mps' was asked for but Apple's MPS is not available; use device='auto' or 'cpu'.")
    return dev


MAX_SEED = 2**32 - 1  # NumPy's legacy seeding takes 0..2**32-1


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a CPU run repeats bit for bit; a seed outside 0..MAX_SEED is refused."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise SrlibError(f"seed {seed!r}: give a whole number from 0 to {MAX_SEED} (NumPy's seed range).")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
