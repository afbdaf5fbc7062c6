"""Notebook 03's checkers accept the reference solutions and reject typical wrong answers."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from srlib.exercises import notebook_solutions, nb03

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_gan_theory.ipynb"


# --- reference solutions (the same as in the notebook's hidden solutions) --------------------

def optimal_d(p_data, p_g):
    return p_data / (p_data + p_g)


def ns_g_loss(fake_logits):
    return F.softplus(-fake_logits).mean()


def d_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def d_star_one_of_k(k):
    return 1 / (k + 1), 1.0


def test_reference_solutions_pass(capsys):
    assert nb03.check_optimal_discriminator(optimal_d)
    assert nb03.check_nonsaturating_loss(ns_g_loss)
    assert nb03.check_value_at_equilibrium(-math.log(4))
    assert nb03.check_d_loss(d_loss)
    assert nb03.check_d_star_one_of_k(d_star_one_of_k)
    out = capsys.readouterr().out
    assert out.count("✅") == 5 and "❌" not in out


def test_other_right_answers_pass():
    assert nb03.check_optimal_discriminator(lambda a, b: 1 / (1 + b / a))
    assert nb03.check_nonsaturating_loss(
        lambda l: F.binary_cross_entropy_with_logits(l, torch.ones_like(l)))
    assert nb03.check_nonsaturating_loss(lambda l: -F.logsigmoid(l).mean())
    assert nb03.check_value_at_equilibrium(np.float32(-1.3862944))
    assert nb03.check_value_at_equilibrium(2 * math.log(0.5))
    ones, zeros = torch.ones_like, torch.zeros_like
    assert nb03.check_d_loss(lambda r, f: F.binary_cross_entropy_with_logits(r, ones(r))
                             + F.binary_cross_entropy_with_logits(f, zeros(f)))
    assert nb03.check_d_loss(lambda r, f: -F.logsigmoid(r).mean() - F.logsigmoid(-f).mean())
    assert nb03.check_d_star_one_of_k(lambda k: [np.float32(1) / (k + 1), 1])


def _solutions_from_notebook():
    return notebook_solutions(NOTEBOOK, {"np": np, "math": math, "F": F}, expected_blocks=5)


def test_notebook_solutions_pass():
    ns = _solutions_from_notebook()
    assert nb03.check_optimal_discriminator(ns["optimal_d"])
    assert nb03.check_nonsaturating_loss(ns["ns_g_loss"])
    assert nb03.check_value_at_equilibrium(ns["v_equilibrium"])
    assert nb03.check_d_loss(ns["d_loss"])
    assert nb03.check_d_star_one_of_k(ns["d_star_one_of_k"])


# --- wrong answers are rejected, with a useful hint ------------------------------------------

def _not_done(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda a, b: b / (a + b), "1 - D*"),
        (lambda a, b: a / b, "density ratio"),
        (lambda a, b: np.log(a / (a + b)), "not its logarithm"),
        (lambda a, b: np.log(a / b), "logit"),
        (lambda a, b: a / (a + b + 1e-3), "expected"),
        (lambda a, b: float(np.mean(a / (a + b))), "shape"),
        (lambda a, b: a["x"], "raised"),
    ],
)
def test_optimal_d_wrong_answers(fn, hint, capsys):
    assert not nb03.check_optimal_discriminator(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out, out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda l: -torch.log(torch.sigmoid(l)).mean(), "underflows"),
        (lambda l: -F.softplus(l).mean(), "minimax"),
        (lambda l: -F.softplus(-l).mean(), "sign"),
        (lambda l: F.softplus(-l).sum(), "summed"),
        (lambda l: F.binary_cross_entropy(torch.sigmoid(l), torch.ones_like(l)), "capped at 100"),
        (lambda l: F.softplus(l).mean(), "expected"),  # BCE against label 0
        (lambda l: torch.tensor(F.softplus(-l).mean().item()), "no gradient"),
        (lambda l: F.softplus(-l.detach()).mean(), "no gradient"),
        (lambda l: F.softplus(-l), "scalar"),
        (lambda l: F.softplus(-l).mean().item(), "scalar"),
    ],
)
def test_nonsaturating_wrong_answers(fn, hint, capsys):
    assert not nb03.check_nonsaturating_loss(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out, out


def test_nonsaturating_wrong_gradient(capsys):
    class WrongGrad(torch.autograd.Function):  # the right value with a gradient of the minimax loss
        @staticmethod
        def forward(ctx, l):
            ctx.save_for_backward(l)
            return F.softplus(-l).mean()

        @staticmethod
        def backward(ctx, g):
            (l,) = ctx.saved_tensors
            return -g * torch.sigmoid(l) / l.numel()

    assert not nb03.check_nonsaturating_loss(WrongGrad.apply)
    assert "gradient is not" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, hint",
    [
        (None, "a number"),
        ("-log 4", "a number"),
        (math.log(4), "sign"),
        (-math.log(2), "one of the two terms"),
        (0.0, "JSD"),
        (-2.0, "bits"),
        (0.5, "D*(x) at equilibrium"),
        (-1.0, "is not it"),
    ],
)
def test_value_wrong_answers(answer, hint, capsys):
    assert not nb03.check_value_at_equilibrium(answer)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out, out


_sp = F.softplus


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda r, f: -(_sp(-r).mean() + _sp(f).mean()), "MAXIMISES L_D"),  # the seed's sentence: D maximises L_D
        (lambda r, f: torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean(), "MAXIMISES L_D"),  # V
        (lambda r, f: _sp(r).mean() + _sp(-f).mean(), "labels are swapped"),
        (lambda r, f: _sp(-r).mean(), "only the real term"),
        (lambda r, f: _sp(f).mean(), "only the fake term"),
        (lambda r, f: _sp(-r).sum() + _sp(f).sum(), "summed"),
        (lambda r, f: (_sp(-r).mean() + _sp(f).mean()) / 2, "half of L_D"),
        (lambda r, f: _sp(-f).mean(), "generator's loss"),
        (lambda r, f: -torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean(), "underflows"),
        (lambda r, f: _sp(-r).mean() + _sp(f.detach()).mean(), "fake logits"),  # D never learns from fakes
        (lambda r, f: _sp(-r.detach()).mean() + _sp(f).mean(), "real logits"),
        (lambda r, f: torch.tensor((_sp(-r).mean() + _sp(f).mean()).item()), "no gradient flows"),
        (lambda r, f: (_sp(-r).mean() + _sp(f).mean()).item(), "torch tensor"),
        (lambda r, f: _sp(-r) + _sp(f).mean(), "one number"),
        (lambda r, f: _sp(-r).mean() + _sp(f).mean() + 1e-3, "expected"),
    ],
)
def test_d_loss_wrong_answers(fn, hint, capsys):
    assert not nb03.check_d_loss(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out, out


def test_d_loss_clamped_bce_is_rejected(capsys):
    """nn.BCELoss on probabilities (the seed's code) clamps log at -100: wrong at extreme logits."""
    bce = torch.nn.BCELoss()
    assert not nb03.check_d_loss(lambda r, f: bce(torch.sigmoid(r), torch.ones_like(r))
                                 + bce(torch.sigmoid(f), torch.zeros_like(f)))
    assert "extreme logits" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda k: (1 / k, 1.0), "1/K is p_data / p_g"),
        (lambda k: (k / (k + 1), 1.0), "1 - D*"),
        (lambda k: (0.5, 1.0), "1/2 needs p_g = p_data"),
        (lambda k: (0.25, 1.0), "for K = 3"),
        (lambda k: (1 / (k + 1), 0.0), "p_g = 0"),
        (lambda k: (1 / (k + 1), 0.5), "p_g = 0"),
        (lambda k: (1 / (k + 1), 0.9), "a missed mode has"),
        (lambda k: (1 / (k + 2), 1.0), "covered mode has"),
        (lambda k: (1 / (k + 1) + 1e-4, 1.0), "covered mode has"),  # no rounding to a loose tolerance
        (lambda k: 1 / (k + 1), "two numbers"),
        (lambda k: (1 / (k + 1), 1.0, 0.0), "two numbers"),
        (lambda k: ("a", "b"), "two numbers"),
    ],
)
def test_d_star_one_of_k_wrong_answers(fn, hint, capsys):
    assert not nb03.check_d_star_one_of_k(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out, out


def test_one_of_k_reference_is_computed_from_densities():
    """The checker's reference comes from srlib's densities, and is 1/(K+1) and 1 as the algebra says."""
    for k in (2, 3, 7):
        covered, missed = nb03._one_of_k_reference(k)
        assert covered == pytest.approx(1 / (k + 1), abs=1e-12) and missed == pytest.approx(1.0, abs=1e-12)
