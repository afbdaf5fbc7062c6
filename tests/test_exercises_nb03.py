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


def test_reference_solutions_pass(capsys):
    assert nb03.check_optimal_discriminator(optimal_d)
    assert nb03.check_nonsaturating_loss(ns_g_loss)
    assert nb03.check_value_at_equilibrium(-math.log(4))
    out = capsys.readouterr().out
    assert out.count("✅") == 3 and "❌" not in out


def test_other_right_answers_pass():
    assert nb03.check_optimal_discriminator(lambda a, b: 1 / (1 + b / a))
    assert nb03.check_nonsaturating_loss(
        lambda l: F.binary_cross_entropy_with_logits(l, torch.ones_like(l)))
    assert nb03.check_nonsaturating_loss(lambda l: -F.logsigmoid(l).mean())
    assert nb03.check_value_at_equilibrium(np.float32(-1.3862944))
    assert nb03.check_value_at_equilibrium(2 * math.log(0.5))


def _solutions_from_notebook():
    return notebook_solutions(NOTEBOOK, {"np": np, "math": math}, expected_blocks=3)


def test_notebook_solutions_pass():
    ns = _solutions_from_notebook()
    assert nb03.check_optimal_discriminator(ns["optimal_d"])
    assert nb03.check_nonsaturating_loss(ns["ns_g_loss"])
    assert nb03.check_value_at_equilibrium(ns["v_equilibrium"])


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
