"""LPIPS (Zhang et al. 2018, v0.1, AlexNet), only where its two weights files are on this machine.

LPIPS compares the ImageNet-AlexNet features of SR and HR (five layers, each
feature vector scaled to unit length), weights each channel's squared
difference by a learned linear 1x1 layer, averages over positions and sums
over layers: 0 = the same image, larger = perceptually further (about 0.1-0.4
for SR outputs). srlib builds the network itself, so the `lpips` package is not
needed, only its weights:

- torchvision's AlexNet file `alexnet-owt-7be5be79.pth` in the torch-hub cache
  (`torch.hub.get_dir()/checkpoints`, $TORCH_HOME moves it), where
  `torchvision.models.alexnet(weights="IMAGENET1K_V1")` would have put it;
- LPIPS's linear layers `alex.pth` (v0.1): the copy that `pip install lpips`
  ships inside the package, or the same file placed at
  `torch.hub.get_dir()/checkpoints/lpips_alex_v0.1.pth`.

srlib never downloads either (`lpips_status` says what is missing), and reads
them with `torch.load(weights_only=True)`: no code in them runs.
"""
from __future__ import annotations

import functools
import importlib.util
import pickle
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import SrlibError
from ..metrics import as_hwc, check_crop

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"
ALEXNET_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"  # torchvision's AlexNet_Weights.IMAGENET1K_V1
LINEAR_FILE = "lpips_alex_v0.1.pth"
LINEAR_URL = "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/alex.pth"
MIN_SIZE = 32
"""Smallest image side AlexNet's fifth layer still sees (stride 4, two 3x3/2 max-pools)."""

_SHIFT = (-0.030, -0.088, -0.188)  # LPIPS's ScalingLayer: inputs in [-1, 1] -> ImageNet statistics
_SCALE = (0.458, 0.448, 0.450)
_TAPS = (1, 4, 7, 9, 11)  # the ReLUs after conv1..conv5 in torchvision's alexnet().features
_CHANNELS = (64, 192, 384, 256, 256)


def alexnet_weights_path() -> Path:
    """Where torchvision caches the ImageNet AlexNet: torch.hub.get_dir()/checkpoints/alexnet-owt-7be5be79.pth."""
    return Path(torch.hub.get_dir()) / "checkpoints" / ALEXNET_FILE


def _package_linear_weights() -> Path | None:
    """alex.pth inside an installed `lpips` package, found without importing it."""
    spec = importlib.util.find_spec("lpips")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "weights" / "v0.1" / "alex.pth"


def linear_weights_path() -> Path:
    """LPIPS's linear layers: the `lpips` package's alex.pth if present, else torch.hub.get_dir()/checkpoints/LINEAR_FILE."""
    packaged = _package_linear_weights()
    if packaged is not None and packaged.is_file():
        return packaged
    return Path(torch.hub.get_dir()) / "checkpoints" / LINEAR_FILE


def lpips_status() -> str | None:
    """None when LPIPS can run here; else one line saying which file is missing and how to get it."""
    missing = []
    alex = alexnet_weights_path()
    if not alex.is_file():
        missing.append(f"torchvision's AlexNet weights {alex} (download {ALEXNET_URL} on a machine with internet "
                       f"and place it at exactly that path; $TORCH_HOME moves it)")
    lin = linear_weights_path()
    if not lin.is_file():
        missing.append(f"LPIPS's linear layers (`pip install lpips` ships them, or place {LINEAR_URL} at {lin})")
    if not missing:
        return None
    return "LPIPS is not available: missing " + " and ".join(missing) + ". srlib never downloads them."


def _read(path: Path, what: str) -> Mapping[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise SrlibError(f"{path} could not be read as plain tensors with weights_only=True ({type(exc).__name__}); "
                         f"it may be truncated or not {what}. Replace it.") from None
    if not isinstance(state, Mapping):
        raise SrlibError(f"{path} holds a {type(state).__name__}, not a state dict of {what}; replace it.")
    return state


def _alexnet_features() -> nn.Sequential:
    """torchvision's alexnet().features up to the fifth ReLU (same indices, so same state-dict keys)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(),
    )


class LPIPS(nn.Module):
    """LPIPS v0.1 with AlexNet: (1, 3, H, W) images in [-1, 1] -> distance (a 0-d tensor)."""

    def __init__(self, features: Mapping[str, torch.Tensor], linear: Mapping[str, torch.Tensor]):
        super().__init__()
        self.features = _alexnet_features()
        own = {k[len("features."):]: v for k, v in features.items() if k.startswith("features.")}
        try:
            self.features.load_state_dict(own)
            weights = [linear[f"lin{i}.model.1.weight"] for i in range(5)]
        except (RuntimeError, KeyError) as exc:
            raise SrlibError(f"the LPIPS weights do not fit AlexNet/LPIPS v0.1 ({str(exc).splitlines()[0]}); "
                             f"use {ALEXNET_URL} and LPIPS's v0.1 alex.pth.") from None
        if [tuple(w.shape) for w in weights] != [(1, c, 1, 1) for c in _CHANNELS]:
            raise SrlibError(f"the LPIPS linear weights have shapes {[tuple(w.shape) for w in weights]}, not those of "
                             f"v0.1 alex.pth ({[(1, c, 1, 1) for c in _CHANNELS]}).")
        self.linear = nn.ParameterList([nn.Parameter(w.float(), requires_grad=False) for w in weights])
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False).eval()

    def _taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        out, x = [], (x - self.shift) / self.scale
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in _TAPS:
                out.append(x / (x.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10))
        return out

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        total = a.new_zeros(())
        for fa, fb, w in zip(self._taps(a), self._taps(b), self.linear):
            total = total + ((fa - fb) ** 2 * w).sum(dim=1).mean()
        return total


@functools.lru_cache(maxsize=2)
def _network(alex: str, lin: str, stamp: tuple) -> LPIPS:
    return LPIPS(_read(Path(alex), "AlexNet weights"), _read(Path(lin), "LPIPS linear weights"))


def load_lpips() -> LPIPS:
    """The LPIPS network from the local weights files (SrlibError with `lpips_status`'s line when one is missing)."""
    problem = lpips_status()
    if problem:
        raise SrlibError(problem)
    alex, lin = alexnet_weights_path(), linear_weights_path()
    stamp = tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in (alex, lin))  # a replaced file is re-read
    return _network(str(alex), str(lin), stamp)


def _as_input(img, name: str) -> torch.Tensor:
    a = as_hwc(img, name)
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    a = np.clip(a, 0, 1) * 2 - 1  # LPIPS takes [-1, 1]; overshoot is clipped, as a saved image would be
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1), dtype=np.float32))[None]


def lpips(sr, hr, crop: int = 0) -> float:
    """LPIPS distance (v0.1, AlexNet) between an SR and its HR image, as `as_hwc` takes them; lower is closer.

    crop: pixels removed from each border first. Needs the local weights files
    (see the module docstring); without them, SrlibError with the line of
    `lpips_status()`.
    """
    crop = check_crop(crop)
    a, b = _as_input(sr, "SR image"), _as_input(hr, "HR image")
    if a.shape != b.shape:
        raise SrlibError(f"SR is {a.shape[3]}x{a.shape[2]} but HR is {b.shape[3]}x{b.shape[2]}: LPIPS compares "
                         "images of one size (crop HR to a multiple of the scale).")
    h, w = a.shape[2] - 2 * crop, a.shape[3] - 2 * crop
    if min(h, w) < MIN_SIZE:
        raise SrlibError(f"LPIPS needs images of at least {MIN_SIZE}x{MIN_SIZE} px (after the border crop of {crop}); "
                         f"got {a.shape[3]}x{a.shape[2]}.")
    if crop:
        a, b = a[..., crop:-crop, crop:-crop], b[..., crop:-crop, crop:-crop]
    net = load_lpips()
    with torch.inference_mode():
        return float(net(a, b))
