"""Checkers for notebook 06, "Perceptual loss".

Each checker runs the learner's answer against a reference, prints a one-line
verdict that says what looks wrong, and returns True or False. A learner's
function that raises (for instance the `NotImplementedError` of the unedited
exercise cell) gets a verdict, not a traceback.
"""
from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn

from . import call as _call, scalar_problem, verdict

# torchvision's VGG19 configuration ("E"): conv widths, "M" = 2x2 max-pool; every conv is followed by a ReLU.
VGG19_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")


def _is_number(value) -> bool:
    """A plain, numpy or one-element tensor number (bools are not numbers here)."""
    if isinstance(value, torch.Tensor):
        return value.numel() == 1 and not value.dtype == torch.bool
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# --- Exercise 1: a content loss in feature space -------------------------------------------------

def reference_feature_loss(phi, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """Mean squared error between phi(sr) and phi(hr); the HR features are a constant target."""
    return F.mse_loss(phi(sr), phi(hr).detach())


def _feature_net() -> nn.Module:
    """A small frozen feature extractor: conv, ReLU, 2x2 max-pool, conv (a VGG in miniature)."""
    g = torch.Generator().manual_seed(6)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    return net.requires_grad_(False).eval()


def _feature_case():
    g = torch.Generator().manual_seed(60)
    hr = torch.rand(2, 3, 16, 16, generator=g)
    sr = (hr + 0.1 * torch.randn(hr.shape, generator=g)).clamp(0, 1)
    return sr, hr


def check_feature_loss(fn) -> bool:
    """fn(phi, sr, hr) -> mean over all elements of (phi(sr) - phi(hr))^2, a tensor, differentiable in sr only."""
    phi = _feature_net()
    sr0, hr0 = _feature_case()
    sr, hr = sr0.clone().requires_grad_(True), hr0.clone().requires_grad_(True)
    got, err = _call(fn, phi, sr, hr)
    if err:
        return verdict(False, "", err)
    problem = scalar_problem(got, "so that it can be backpropagated", "the mean over all feature elements")
    if problem:
        return verdict(False, "", problem)
    want = reference_feature_loss(phi, sr0, hr0).item()
    value = got.item()
    if not math.isfinite(value) or abs(value - want) > 1e-5 * max(1.0, abs(want)):
        fs, fh = phi(sr0), phi(hr0)
        variants = {
            "that is the pixel MSE: pass both images through phi first and compare the features.": F.mse_loss(sr0, hr0),
            "that is the L1 distance; this exercise asks for the mean *squared* error (SRGAN's VGG loss).":
                F.l1_loss(fs, fh),
            "you summed over the elements; take the mean (the paper divides by the feature map's size W·H).":
                (fs - fh).pow(2).sum(),
            "that is the root of the mean squared error; leave out the square root.": (fs - fh).pow(2).mean().sqrt(),
        }
        for hint, v in variants.items():
            if abs(value - v.item()) < 1e-5 * max(1.0, abs(v.item())):
                return verdict(False, "", f"{value:.5g} instead of {want:.5g}: {hint}")
        return verdict(False, "", f"expected {want:.5g}, got {value:.5g}: the mean of (phi(sr) - phi(hr))**2 over "
                                  "all elements.")
    if not got.requires_grad:
        return verdict(False, "", "the value is right, but it is not differentiable: no .item(), numpy or .detach() "
                                  "on the SR side, or the generator gets no gradient.")
    got.backward()
    if hr.grad is not None and hr.grad.abs().sum() > 0:
        return verdict(False, "", "the value is right, but the loss also sends gradient into the HR image: detach "
                                  "phi(hr), the target is a constant (only G's output should move).")
    ref_sr = sr0.clone().requires_grad_(True)
    reference_feature_loss(phi, ref_sr, hr0).backward()
    if sr.grad is None or not torch.allclose(sr.grad, ref_sr.grad, atol=1e-7, rtol=1e-4):
        return verdict(False, "", "the value is right, but the gradient with respect to the SR image is not.")
    return verdict(True, f"feature MSE {value:.4f}: gradient reaches the SR image through phi, the HR side is a "
                         "constant target.", "")


# --- Exercise 2: where conv5_4 sits in torchvision's VGG19 ---------------------------------------

def vgg19_layer_names() -> list[str]:
    """conv1_1 ... conv5_4: block b (between max-pools), conv c within the block."""
    names, block, conv = [], 1, 0
    for v in VGG19_CFG:
        if v == "M":
            block, conv = block + 1, 0
        else:
            conv += 1
            names.append(f"conv{block}_{conv}")
    return names


def reference_vgg19_index(layer: str, before_activation: bool = True) -> int:
    """Index in torchvision's vgg19().features of the module whose output is that feature (conv, or its ReLU)."""
    index, block, conv = 0, 1, 0
    for v in VGG19_CFG:
        if v == "M":
            block, conv, index = block + 1, 0, index + 1
            continue
        conv += 1
        if f"conv{block}_{conv}" == layer:
            return index if before_activation else index + 1
        index += 2
    raise ValueError(f"no layer {layer!r} in VGG19")


def _index_variants() -> dict[str, object]:
    """The usual mistakes, as functions (layer, before_activation) -> index, mapped to the hint that explains each."""
    names = vgg19_layer_names()

    def pools_before(layer):
        return int(layer[4]) - 1

    return {
        "the max-pool layers are modules too: each block ends with one, and it takes an index.":
            lambda layer, before: reference_vgg19_index(layer, before) - pools_before(layer),
        "that is the index plus one, the length of the slice features[:i + 1] that ends with it; give the index.":
            lambda layer, before: reference_vgg19_index(layer, before) + 1,
        "before and after are swapped: the conv's output (index i) is *before* the activation, its ReLU (i + 1) after.":
            lambda layer, before: reference_vgg19_index(layer, not before),
        "each conv is followed by its own ReLU, which takes an index: convs sit at every second position.":
            lambda layer, before: names.index(layer) + pools_before(layer) + (0 if before else 1),
    }


def check_vgg19_index(fn) -> bool:
    """fn(layer, before_activation) -> the index in torchvision's vgg19().features of that feature's module."""
    cases = [(name, before) for name in vgg19_layer_names() for before in (True, False)]
    answers = {}
    for layer, before in cases:
        got, err = _call(fn, layer, before)
        if err:
            return verdict(False, "", err)
        if not _is_number(got) or float(got) != int(got):
            return verdict(False, "", f"for {layer!r} (before_activation={before}) you returned {got!r}, not an integer.")
        answers[layer, before] = int(got)
    wrong = [(case, got) for case, got in answers.items() if got != reference_vgg19_index(*case)]
    if not wrong:
        return verdict(True, "conv5_4 is features[34] and its ReLU features[35]: ESRGAN keeps features[:35], SRGAN's "
                             "VGG54 features[:36].", "")
    (layer, before), got = wrong[0]
    want = reference_vgg19_index(layer, before)
    for hint, variant in _index_variants().items():
        if all(answers[case] == variant(*case) for case in cases):
            return verdict(False, "", f"{layer}, before_activation={before}: you gave {got}, expected {want}: {hint}")
    return verdict(False, "", f"{layer}, before_activation={before}: you gave {got}, expected {want}. Walk torchvision's "
                              "configuration: each number is a conv and a ReLU (two modules), each 'M' one max-pool.")


# --- Exercise 3: feature matching by hand --------------------------------------------------------

def reference_feature_matching(fake_feats, real_feats) -> torch.Tensor:
    """Mean over layers of the mean absolute difference; real features detached (srlib.losses.feature_matching_loss)."""
    return torch.stack([F.l1_loss(f, r.detach()) for f, r in zip(fake_feats, real_feats)]).mean()


def _fm_case():
    g = torch.Generator().manual_seed(61)
    shapes = [(2, 4, 16, 16), (2, 8, 8, 8), (2, 16, 2, 2)]  # layers of different sizes, like D.features(x)
    scales = [1.0, 0.5, 3.0]
    real = [torch.randn(s, generator=g) * k for s, k in zip(shapes, scales)]
    fake = [torch.randn(s, generator=g) * k for s, k in zip(shapes, scales)]
    return fake, real


def check_feature_matching(fn) -> bool:
    """fn(fake_feats, real_feats) -> the feature-matching loss, for lists of D's feature maps (one per layer)."""
    fake0, real0 = _fm_case()
    fake = [f.clone().requires_grad_(True) for f in fake0]
    real = [r.clone().requires_grad_(True) for r in real0]
    got, err = _call(fn, fake, real)
    if err:
        return verdict(False, "", err)
    problem = scalar_problem(got, "so that it can be backpropagated", "averaged over the layers")
    if problem:
        return verdict(False, "", problem)
    want = reference_feature_matching(fake0, real0).item()
    value = got.item()
    if not math.isfinite(value) or abs(value - want) > 1e-5 * max(1.0, abs(want)):
        diffs = [(f - r) for f, r in zip(fake0, real0)]
        variants = {
            "you summed the layers; average them (divide by the number of layers).":
                sum(d.abs().mean() for d in diffs),
            "that is the mean squared difference; feature matching here uses the L1 distance (mean absolute).":
                torch.stack([d.pow(2).mean() for d in diffs]).mean(),
            "you averaged over all elements of all layers at once, so the largest map dominates; take each layer's "
            "mean first, then the mean over the layers (each layer counts equally).":
                torch.cat([d.abs().flatten() for d in diffs]).mean(),
            "you compared the batch means of the features (Salimans et al.'s version for unpaired GANs); SR has a "
            "paired HR image for every output, so compare sample by sample.":
                torch.stack([(f.mean(0) - r.mean(0)).abs().mean() for f, r in zip(fake0, real0)]).mean(),
            "only the last layer: average over all the layers D.features returns.": diffs[-1].abs().mean(),
        }
        for hint, v in variants.items():
            if abs(value - v.item()) < 1e-5 * max(1.0, abs(v.item())):
                return verdict(False, "", f"{value:.5g} instead of {want:.5g}: {hint}")
        return verdict(False, "", f"expected {want:.5g}, got {value:.5g}: for each layer the mean of |fake - real|, "
                                  "then the mean over the layers.")
    if not got.requires_grad:
        return verdict(False, "", "the value is right, but it is not differentiable in the fake features.")
    got.backward()
    if any(r.grad is not None and r.grad.abs().sum() > 0 for r in real):
        return verdict(False, "", "the value is right, but gradient flows into the real features: detach them "
                                  "(the G step must not train D towards the fakes).")
    if any(f.grad is None for f in fake):
        return verdict(False, "", "the value is right, but some fake feature maps get no gradient.")
    return verdict(True, f"feature matching {value:.4f}: per-layer L1, averaged; the same as "
                         "srlib.losses.feature_matching_loss.", "")
