"""Notebook 07's checkers accept the reference solutions and reject typical wrong answers."""
import copy
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from srlib.exercises import nb07, notebook_solutions
from srlib.losses import relativistic_d_loss
from srlib.models import interpolate_state

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "07_esrgan.ipynb"


# --- reference solutions (the same as in the notebook's hidden solutions) --------------------

def ra_d_loss(real_logits, fake_logits):
    bce = F.binary_cross_entropy_with_logits
    real_rel = real_logits - fake_logits.mean()  # how much more real than the average fake
    fake_rel = fake_logits - real_logits.mean()  # how much more real than the average real
    return (bce(real_rel, torch.ones_like(real_rel)) + bce(fake_rel, torch.zeros_like(fake_rel))) / 2


def my_interpolate_state(a, b, alpha):
    return {k: (1 - alpha) * v + alpha * b[k] if v.is_floating_point() else v.clone() for k, v in a.items()}


def stack_variance(depth, beta, gain, corr):
    return (1 + 2 * beta * corr * gain**0.5 + beta**2 * gain) ** depth


def test_reference_solutions_pass(capsys):
    assert nb07.check_relativistic_d_loss(ra_d_loss)
    assert nb07.check_interpolate_state(my_interpolate_state)
    assert nb07.check_stack_variance(stack_variance)
    out = capsys.readouterr().out
    assert out.count("✅") == 3 and "❌" not in out


def test_equivalent_solutions_pass():
    assert nb07.check_relativistic_d_loss(relativistic_d_loss)
    assert nb07.check_relativistic_d_loss(lambda r, f: relativistic_d_loss(r, f, detach_means=True))  # BasicSR's way
    assert nb07.check_relativistic_d_loss(
        lambda r, f: 0.5 * (F.softplus(-(r - f.mean())).mean() + F.softplus(f - r.mean()).mean()))
    assert nb07.check_interpolate_state(interpolate_state)
    assert nb07.check_interpolate_state(lambda a, b, t: {k: torch.lerp(v, b[k], t) if v.is_floating_point() else b[k].clone()
                                                         for k, v in a.items()})
    assert nb07.check_stack_variance(lambda L, b, g, c: torch.tensor(1 + 2 * b * c * g**0.5 + b * b * g) ** L)
    assert nb07.check_stack_variance(lambda L, b, g, c: ((1 + b * c * g**0.5) ** 2 + b * b * g * (1 - c * c)) ** L)


def _solutions_from_notebook():
    return notebook_solutions(NOTEBOOK, {"torch": torch, "F": F}, expected_blocks=3)


def test_notebook_solutions_pass():
    ns = _solutions_from_notebook()
    assert nb07.check_relativistic_d_loss(ns["ra_d_loss"])
    assert nb07.check_interpolate_state(ns["my_interpolate_state"])
    assert nb07.check_stack_variance(ns["stack_variance"])


@pytest.mark.parametrize("corr", [0.0, 0.6, 1.0])
def test_stack_variance_formula_matches_a_simulation(corr):
    """The formula is what a stack of random blocks F(x) = corr-correlated linear maps gives."""
    torch.manual_seed(0)
    depth, beta, gain, dim = 12, 0.5, 2.0, 200
    x = torch.randn(2000, dim)
    x0 = x.var().item()
    for _ in range(depth):
        w = torch.randn(dim, dim) * (1 / dim) ** 0.5  # Wx: unit gain, uncorrelated with x
        f = gain**0.5 * (corr * x + (1 - corr**2) ** 0.5 * x @ w.T)  # Var F = gain Var x, corr(x, F) = corr
        x = x + beta * f
    ratio = x.var().item() / x0
    assert ratio == pytest.approx(nb07.reference_stack_variance(depth, beta, gain, corr), rel=0.1)


# --- wrong answers are rejected, with a useful hint ------------------------------------------

def _not_done(*args, **kwargs):
    raise NotImplementedError


def _naive_ra(r, f):
    d_real, d_fake = torch.sigmoid(r - f.mean()), torch.sigmoid(f - r.mean())
    return -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean()) / 2


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda r, f: 2 * ra_d_loss(r, f), "sum"),
        (lambda r, f: ra_d_loss(f, r), "labels swapped"),
        (lambda r, f: 0.5 * (F.softplus(-r).mean() + F.softplus(f).mean()), "standard discriminator"),
        (lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean(), "standard discriminator"),
        (lambda r, f: 0.5 * (F.softplus(-(r - r.mean())).mean() + F.softplus(f - f.mean()).mean()), "OTHER kind"),
        (lambda r, f: 0.5 * (F.softplus(-(r.reshape(-1, 1) - f.reshape(1, -1))).mean()
                             + F.softplus(f.reshape(-1, 1) - r.reshape(1, -1)).mean()), "pairwise"),
        (_naive_ra, "overflows"),
        (lambda r, f: 0.5 * (F.softplus(-(r - f.mean())) .mean() + F.softplus(f - r.mean())), "one number"),
        (lambda r, f: ra_d_loss(r, f).item(), "torch tensor"),
        (lambda r, f: ra_d_loss(r, f).detach(), "not differentiable"),
        (lambda r, f: ra_d_loss(r.detach(), f), "gradient is not"),
        (lambda r, f: ra_d_loss(r, f) + 0.1, "expected"),
    ],
)
def test_relativistic_wrong_answers(fn, hint, capsys):
    assert not nb07.check_relativistic_d_loss(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


def _in_place(a, b, alpha):
    for k, v in a.items():
        if v.is_floating_point():
            v.mul_(1 - alpha).add_(alpha * b[k])
    return a


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda a, b, t: my_interpolate_state(b, a, t), "wrong way round"),
        (_in_place, "in place"),
        (lambda a, b, t: {k: (1 - t) * v + t * b[k] for k, v in a.items()}, "integer counter"),
        (lambda a, b, t: {k: v for k, v in my_interpolate_state(a, b, t).items() if "running" not in k}, "missing"),
        (lambda a, b, t: list(my_interpolate_state(a, b, t).values()), "return a dict"),
        (lambda a, b, t: {k: (1 - t) * v + t * b[k] if v.is_floating_point() else v + 5 for k, v in a.items()},
         "take it from one"),
        (lambda a, b, t: {k: 0.5 * (v + b[k]) if v.is_floating_point() else v for k, v in a.items()}, "is not"),
        (lambda a, b, t: {k: ((1 - t) * v + t * b[k]).double() if v.is_floating_point() else v for k, v in a.items()},
         "dtype"),
    ],
)
def test_interpolate_wrong_answers(fn, hint, capsys):
    assert not nb07.check_interpolate_state(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


def test_interpolate_returning_a_model_is_rejected(capsys):
    a, _ = nb07._two_bn_nets()
    assert not nb07.check_interpolate_state(lambda x, y, t: copy.deepcopy(a))
    out = capsys.readouterr().out
    assert out.startswith("❌") and "not a model" in out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda L, b, g, c: (1 + b * b * g) ** L, "covariance term is missing"),
        (lambda L, b, g, c: (1 + 2 * b * c * g**0.5 + b * g) ** L, "beta squared"),
        (lambda L, b, g, c: (1 + b * c * g**0.5 + b * b * g) ** L, "2ab"),
        (lambda L, b, g, c: (1 + 2 * b * c * g + b * b * g) ** L, "square root"),
        (lambda L, b, g, c: 1 + L * (2 * b * c * g**0.5 + b * b * g), "compounds"),
        (lambda L, b, g, c: (2 * b * c * g**0.5 + b * b * g) ** L, "the skip"),
        (lambda L, b, g, c: (1 + b * g**0.5) ** (2 * L), "perfectly correlated"),
        (lambda L, b, g, c: "big", "return a number"),
        (lambda L, b, g, c: stack_variance(L + 1, b, g, c), "expected"),
    ],
)
def test_stack_variance_wrong_answers(fn, hint, capsys):
    assert not nb07.check_stack_variance(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out
