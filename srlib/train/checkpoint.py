"""Checkpoints that lose nothing: written atomically, read back without running code."""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import SrlibError
from ..models.weights import atomic_save, load_weights_file


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write a training state (models, optimisers, schedulers, EMA, RNG, step, history) atomically."""
    return atomic_save(state, path)


def load_checkpoint(path: str | Path, expect: dict | None = None) -> dict:
    """Read a checkpoint with weights_only=True; refuse one made for another architecture or scale.

    expect: settings the checkpoint must match, e.g. {"generator": "srresnet-cpu", "scale": 4}.
    """
    state = load_weights_file(path)
    if not isinstance(state, dict) or not isinstance(state.get("config"), dict) or "generator" not in state:
        raise SrlibError(f"{path} is not an srlib training checkpoint (use srlib.models.load_generator for weights files).")
    cfg = state["config"]
    for key, want in (expect or {}).items():
        if key in cfg and want is not None and cfg[key] != want:
            raise SrlibError(
                f"{path} was trained with {key}={cfg[key]!r} ({cfg.get('generator')} x{cfg.get('scale')}), "
                f"but this run expects {key}={want!r}. Start a new run or pick the matching recipe."
            )
    return state
