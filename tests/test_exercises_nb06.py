"""Notebook 06's checkers accept the reference solutions and reject typical wrong answers."""
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision.models.vgg import cfgs

from srlib.exercises import nb06, notebook_solutions
from srlib.losses import VGG19_LAYERS, feature_matching_loss

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06_perceptual_loss.ipynb"


# --- reference solutions (the same as in the notebook's hidden solutions) --------------------

def feature_loss(phi, sr, hr):
    return F.mse_loss(phi(sr), phi(hr).detach())


def vgg19_index(layer, before_activation=True):
    index, block, conv = 0, 1, 0
    for v in cfgs["E"]:
        if v == "M":
            block, conv, index = block + 1, 0, index + 1
            continue
        conv += 1
        if layer == f"conv{block}_{conv}":
            return index if before_activation else index + 1
        index += 2


def feature_matching(fake_feats, real_feats):
    return torch.stack([(f - r.detach()).abs().mean() for f, r in zip(fake_feats, real_feats)]).mean()


def test_reference_solutions_pass(capsys):
    assert nb06.check_feature_loss(feature_loss)
    assert nb06.check_vgg19_index(vgg19_index)
    assert nb06.check_feature_matching(feature_matching)
    out = capsys.readouterr().out
    assert out.count("✅") == 3 and "❌" not in out


def test_equivalent_solutions_pass():
    assert nb06.check_feature_loss(lambda phi, sr, hr: (phi(sr) - phi(hr).detach()).pow(2).mean())
    assert nb06.check_vgg19_index(lambda layer, before: VGG19_LAYERS.get(layer, nb06.reference_vgg19_index(layer))
                                  + (0 if before else 1))
    assert nb06.check_vgg19_index(lambda layer, before: np.int64(vgg19_index(layer, before)))
    assert nb06.check_vgg19_index(lambda layer, before: torch.tensor(vgg19_index(layer, before)))
    assert nb06.check_feature_matching(feature_matching_loss)


def test_notebook_solutions_pass():
    ns = notebook_solutions(NOTEBOOK, {"torch": torch, "F": F, "cfgs": cfgs}, expected_blocks=3)
    assert nb06.check_feature_loss(ns["feature_loss"])
    assert nb06.check_vgg19_index(ns["vgg19_index"])
    assert nb06.check_feature_matching(ns["feature_matching"])


def test_reference_index_matches_torchvision_and_srlib():
    """The checker's index is torchvision's real layout (built on the meta device: no weights, no time)."""
    from torchvision.models import vgg19

    assert tuple(cfgs["E"]) == nb06.VGG19_CFG
    with torch.device("meta"):
        features = vgg19(weights=None).features
    names = nb06.vgg19_layer_names()
    assert len(names) == 16 and names[-1] == "conv5_4"
    convs = [i for i, m in enumerate(features) if isinstance(m, torch.nn.Conv2d)]
    assert [nb06.reference_vgg19_index(n) for n in names] == convs
    assert all(isinstance(features[nb06.reference_vgg19_index(n, False)], torch.nn.ReLU) for n in names)
    for name, index in VGG19_LAYERS.items():
        assert nb06.reference_vgg19_index(name) == index
    assert nb06.reference_vgg19_index("conv5_4", False) == 35


def test_reference_feature_matching_is_srlibs():
    fake, real = nb06._fm_case()
    assert torch.allclose(nb06.reference_feature_matching(fake, real), feature_matching_loss(fake, real))


# --- wrong answers are rejected, with a useful hint ------------------------------------------

def _not_done(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda phi, sr, hr: F.mse_loss(sr, hr), "pixel MSE"),
        (lambda phi, sr, hr: F.l1_loss(phi(sr), phi(hr)), "L1"),
        (lambda phi, sr, hr: (phi(sr) - phi(hr)).pow(2).sum(), "summed"),
        (lambda phi, sr, hr: F.mse_loss(phi(sr), phi(hr)).sqrt(), "square root"),
        (lambda phi, sr, hr: F.mse_loss(phi(sr), phi(hr)), "detach"),
        (lambda phi, sr, hr: F.mse_loss(phi(sr), phi(hr)).detach(), "not differentiable"),
        (lambda phi, sr, hr: F.mse_loss(phi(sr), phi(hr)).item(), "torch tensor"),
        (lambda phi, sr, hr: (phi(sr) - phi(hr)).pow(2), "one number"),
        (lambda phi, sr, hr: F.mse_loss(phi(sr), phi(hr).detach()) * 2, "expected"),
    ],
)
def test_feature_loss_wrong_answers(fn, hint, capsys):
    assert not nb06.check_feature_loss(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


def _no_pools(layer, before=True):
    block = int(layer[4])
    return vgg19_index(layer, before) - (block - 1)


def _no_relus(layer, before=True):
    names = nb06.vgg19_layer_names()
    return names.index(layer) + int(layer[4]) - 1 + (0 if before else 1)


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (_no_pools, "max-pool"),
        (lambda layer, before=True: vgg19_index(layer, before) + 1, "length of the slice"),
        (lambda layer, before=True: vgg19_index(layer, not before), "swapped"),
        (_no_relus, "own ReLU"),
        (lambda layer, before=True: 34, "expected"),
        (lambda layer, before=True: "34", "not an integer"),
        (lambda layer, before=True: None, "not an integer"),
        (lambda layer, before=True: True, "not an integer"),
        (lambda layer, before=True: vgg19_index(layer, before) + 0.5, "not an integer"),
    ],
)
def test_vgg19_index_wrong_answers(fn, hint, capsys):
    assert not nb06.check_vgg19_index(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda fk, rl: sum((f - r.detach()).abs().mean() for f, r in zip(fk, rl)), "summed"),
        (lambda fk, rl: torch.stack([F.mse_loss(f, r.detach()) for f, r in zip(fk, rl)]).mean(), "squared"),
        (lambda fk, rl: torch.cat([(f - r.detach()).abs().flatten() for f, r in zip(fk, rl)]).mean(), "each layer"),
        (lambda fk, rl: torch.stack([(f.mean(0) - r.mean(0).detach()).abs().mean() for f, r in zip(fk, rl)]).mean(),
         "batch means"),
        (lambda fk, rl: (fk[-1] - rl[-1].detach()).abs().mean(), "last layer"),
        (lambda fk, rl: torch.stack([(f - r).abs().mean() for f, r in zip(fk, rl)]).mean(), "detach"),
        (lambda fk, rl: feature_matching(fk, rl).detach(), "not differentiable"),
        (lambda fk, rl: [(f - r).abs().mean() for f, r in zip(fk, rl)], "torch tensor"),
        (lambda fk, rl: torch.stack([(f - r.detach()).abs().mean() for f, r in zip(fk, rl)]), "one number"),
    ],
)
def test_feature_matching_wrong_answers(fn, hint, capsys):
    assert not nb06.check_feature_matching(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out
