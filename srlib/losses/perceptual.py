"""Perceptual (VGG) loss: compare SR and HR in the feature space of an ImageNet VGG19.

SRGAN's "VGG54" takes conv5_4 after its ReLU (before_activation=False); ESRGAN
takes it before the ReLU (the default here), where features are denser and keep
brightness information. The network is frozen: gradients reach the SR image, never VGG.

srlib never downloads the weights. It reads torchvision's file from the torch-hub
cache, where `torchvision.models.vgg19(weights="IMAGENET1K_V1")` would have put it.
"""
from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ..errors import SrlibError
from .content import charbonnier_loss, l1_loss, mse_loss

VGG19_FILE = "vgg19-dcbb9e9d.pth"
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"  # torchvision's VGG19_Weights.IMAGENET1K_V1

# torchvision's vgg19 "features": conv widths, "M" = 2x2 max-pool; each conv is followed by a ReLU
_VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
# index of each supported conv layer in torchvision's vgg19().features; its ReLU is the next index
VGG19_LAYERS = {"conv1_2": 2, "conv2_2": 7, "conv3_4": 16, "conv4_4": 25, "conv5_4": 34}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CRITERIA = {"l1": l1_loss, "mse": mse_loss, "l2": mse_loss, "charbonnier": charbonnier_loss}


def vgg19_weights_path() -> Path:
    """Where torchvision caches VGG19 weights: torch.hub.get_dir()/checkpoints/vgg19-dcbb9e9d.pth ($TORCH_HOME aware)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE


def vgg19_available() -> bool:
    """Whether the VGG19 weights file is in the torch-hub cache."""
    return vgg19_weights_path().is_file()


def _vgg19_features(end: int) -> nn.Sequential:
    """torchvision's vgg19().features, truncated to its first `end` modules (same indices, so same state-dict keys)."""
    layers: list[nn.Module] = []
    in_ch = 3
    for v in _VGG19_CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_ch, v, 3, padding=1), nn.ReLU(inplace=True)]
            in_ch = v
    return nn.Sequential(*layers[:end])


def _load_state_dict(weights) -> Mapping[str, torch.Tensor]:
    """A state dict from a mapping, or from a file read with weights_only=True (no code runs)."""
    if isinstance(weights, Mapping):
        return weights
    path = Path(weights) if weights is not None else vgg19_weights_path()
    if not path.is_file():
        where = " (the torch-hub cache; $TORCH_HOME moves it)" if weights is None else ""
        raise SrlibError(
            f"VGG19 weights not found at {path}. Download {VGG19_URL} (torchvision's VGG19_Weights.IMAGENET1K_V1, "
            f"548 MB) on a machine with internet and place it at exactly that path{where}. srlib never downloads "
            f"it; without it the notebooks fall back to discriminator feature matching "
            f"(srlib.losses.feature_matching_loss).")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        found = re.search(r"GLOBAL (\S+) was not an allowed global", str(exc))
        if found:
            raise SrlibError(f"{path} holds more than tensors (it names {found.group(1)}, code that would run when "
                             f"loaded), so srlib refused it (torch.load with weights_only=True). Replace it with "
                             f"torchvision's file from {VGG19_URL}.") from None
        raise SrlibError(f"{path} could not be read as plain tensors with weights_only=True ({type(exc).__name__}); "
                         f"it may be truncated or not a weights file. Download it again from {VGG19_URL}.") from None
    if not isinstance(state, Mapping):
        raise SrlibError(f"{path} holds a {type(state).__name__}, not a state dict; replace it with {VGG19_URL}.")
    return state


class PerceptualLoss(nn.Module):
    """criterion(VGG19_layer(sr), VGG19_layer(hr)) for SR and HR images in [0, 1].

    layer: conv1_2, conv2_2, conv3_4, conv4_4 or conv5_4; before_activation
    picks the conv output or its ReLU; criterion: l1, mse (l2) or charbonnier;
    weights: a path or state dict in torchvision's format (default: the
    torch-hub cache file, see `vgg19_weights_path`). HR features are detached.
    """

    def __init__(self, layer: str = "conv5_4", before_activation: bool = True, criterion: str = "l1", weights=None):
        super().__init__()
        if layer not in VGG19_LAYERS:
            raise SrlibError(f"unknown VGG19 layer {layer!r}; choose one of {', '.join(VGG19_LAYERS)}.")
        if criterion not in CRITERIA:
            raise SrlibError(f"unknown criterion {criterion!r}; choose one of {', '.join(CRITERIA)}.")
        self.layer, self.before_activation, self.criterion = layer, before_activation, criterion
        end = VGG19_LAYERS[layer] + (1 if before_activation else 2)
        with torch.device("meta"):  # no random init of 20 M weights that are overwritten next
            self.vgg = _vgg19_features(end)
        self._load(_load_state_dict(weights))
        self.vgg.requires_grad_(False)
        self.vgg.eval()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def _load(self, state: Mapping) -> None:
        """Take this truncated network's tensors from a torchvision vgg19 state dict ("features.<i>.weight" keys)."""
        wanted = list(self.vgg.state_dict())
        missing = [k for k in wanted if not isinstance(state.get(f"features.{k}"), torch.Tensor)]
        if missing:
            listed = ", ".join(f"features.{k}" for k in missing[:3]) + (" ..." if len(missing) > 3 else "")
            raise SrlibError(f"the VGG19 weights lack {listed}: not a torchvision vgg19 state dict. Use {VGG19_URL}.")
        tensors = {k: state[f"features.{k}"].detach().to("cpu", torch.float32) for k in wanted}
        try:
            self.vgg.load_state_dict(tensors, assign=True)
        except RuntimeError as exc:
            reason = str(exc).splitlines()[-1].strip().rstrip(".")
            raise SrlibError(f"the VGG19 weights do not fit torchvision's vgg19 ({reason}). Use {VGG19_URL}.") from None

    def train(self, mode: bool = True):
        """Switching the loss to training mode leaves VGG frozen in eval mode."""
        super().train(mode)
        self.vgg.eval()
        return self

    def features(self, img: torch.Tensor) -> torch.Tensor:
        """VGG19 features of an (N, 3, H, W) image in [0, 1], after ImageNet normalisation."""
        return self.vgg((img - self.mean) / self.std)

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return CRITERIA[self.criterion](self.features(sr), self.features(hr).detach())
