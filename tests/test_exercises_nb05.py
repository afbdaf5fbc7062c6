"""Notebook 05's checkers accept the reference solutions and reject typical wrong answers."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from srlib.exercises import nb05, notebook_solutions
from srlib.losses import seed_d_loss

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "05_srgan_training.ipynb"


# --- reference solutions (the same as in the notebook's hidden solutions) --------------------

def d_step_loss(D, hr, sr):
    return seed_d_loss(D(hr), D(sr.detach()))


def d_outputs(real_logits, fake_logits):
    return torch.sigmoid(real_logits).mean().item(), torch.sigmoid(fake_logits).mean().item()


ANSWERS = {"A": "lr_too_high", "B": "healthy", "C": "no_pretraining", "D": "d_blind", "E": "d_too_strong"}


def test_reference_solutions_pass(capsys):
    assert nb05.check_d_step_loss(d_step_loss)
    assert nb05.check_d_outputs(d_outputs, 2 * math.log(2))
    assert nb05.check_diagnoses(ANSWERS)
    out = capsys.readouterr().out
    assert out.count("✅") == 3 and "❌" not in out


def _bce_labels(D, hr, sr):
    real, fake = D(hr), D(sr.detach())
    bce = torch.nn.BCEWithLogitsLoss()
    return bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))


def test_equivalent_solutions_pass():
    assert nb05.check_d_step_loss(_bce_labels)
    both = lambda D, hr, sr: (lambda z: seed_d_loss(z[: len(hr)], z[len(hr):]))(D(torch.cat([hr, sr.detach()])))  # noqa: E731
    assert nb05.check_d_step_loss(both)  # one batch of real + fake: the checker's D has no batch norm
    assert nb05.check_d_outputs(lambda r, f: (float(torch.sigmoid(r).mean()), float(torch.sigmoid(f).mean())), 1.3863)
    assert nb05.check_d_outputs(lambda r, f: [torch.sigmoid(r).mean(), torch.sigmoid(f).mean()], -2 * math.log(0.5))
    assert nb05.check_diagnoses({k.lower(): v.replace("_", " ").upper() for k, v in ANSWERS.items()})


def _solutions_from_notebook():
    ns = {"torch": torch, "F": F, "np": np, "nb05": nb05, "seed_d_loss": seed_d_loss}
    return notebook_solutions(NOTEBOOK, ns, expected_blocks=3)


def test_notebook_solutions_pass():
    ns = _solutions_from_notebook()
    assert nb05.check_d_step_loss(ns["d_step_loss"])
    assert nb05.check_d_outputs(ns["d_outputs"], ns["loss_d_at_chance"])
    assert nb05.check_diagnoses(ns["diagnoses"])


def test_notebook_solution_rule_reads_every_history():
    """The solution's diagnose(history) rule gets all five mystery histories right, whatever the noise seed."""
    ns = _solutions_from_notebook()
    for seed in range(5):
        histories = nb05.mystery_histories(seed=seed)
        assert {k: ns["diagnose"](h) for k, h in histories.items()} == ANSWERS, seed


# --- wrong answers are rejected, with a useful hint ------------------------------------------

def _not_done(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda D, hr, sr: seed_d_loss(D(hr), D(sr)), "reached the generator"),
        (lambda D, hr, sr: seed_d_loss(D(sr.detach()), D(hr)), "labels swapped"),
        (lambda D, hr, sr: F.softplus(-D(hr)).mean(), "only the real term"),
        (lambda D, hr, sr: F.softplus(D(sr.detach())).mean(), "only the fake term"),
        (lambda D, hr, sr: seed_d_loss(D(hr), D(sr.detach())) / 2, "half"),
        (lambda D, hr, sr: F.softplus(-D(sr.detach())).mean(), "generator's loss"),
        (lambda D, hr, sr: seed_d_loss(D(hr), D(sr.detach())).item(), "torch tensor"),
        (lambda D, hr, sr: seed_d_loss(D(hr), D(sr.detach())).detach(), "no gradient"),
        (lambda D, hr, sr: F.softplus(-D(hr)) + F.softplus(D(sr.detach())), "one number"),
        (lambda D, hr, sr: seed_d_loss(D(hr), D(sr.detach())) + 1, "expected"),
    ],
)
def test_d_step_loss_wrong_answers(fn, hint, capsys):
    assert not nb05.check_d_step_loss(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


def test_d_step_loss_without_d_gradient_is_rejected(capsys):
    def no_grad_for_d(D, hr, sr):
        with torch.no_grad():
            real, fake = D(hr), D(sr)
        return seed_d_loss(real, fake) + 0 * sr.sum()  # differentiable, but not through D

    assert not nb05.check_d_step_loss(no_grad_for_d)
    out = capsys.readouterr().out
    assert out.startswith("❌") and "D's parameters got no gradient" in out


def _fake_verdict_under_no_grad(D, hr, sr):
    real = D(hr)
    with torch.no_grad():
        fake = D(sr)
    return seed_d_loss(real, fake)


def _real_verdict_under_no_grad(D, hr, sr):
    with torch.no_grad():
        real = D(hr)
    return seed_d_loss(real, D(sr.detach()))


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda D, hr, sr: seed_d_loss(D(hr), D(sr).detach()), "learns nothing from the fakes"),  # issue 9, item 10
        (_fake_verdict_under_no_grad, "learns nothing from the fakes"),
        (lambda D, hr, sr: seed_d_loss(D(hr).detach(), D(sr.detach())), "learns nothing from the real images"),
        (_real_verdict_under_no_grad, "learns nothing from the real images"),
        (lambda D, hr, sr: seed_d_loss(D(hr), D(sr).detach()) + 0.01 * (seed_d_loss(D(hr), D(sr.detach()))
                                                                        - seed_d_loss(D(hr), D(sr.detach())).detach()),
         "not the loss's"),
    ],
)
def test_d_step_loss_with_the_right_value_but_the_wrong_d_gradient_is_rejected(fn, hint, capsys):
    """The right value is not enough: D's gradient must be the reference loss's, from real AND fake images."""
    assert not nb05.check_d_step_loss(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


@pytest.mark.parametrize(
    "fn, chance, hint",
    [
        (_not_done, 1.386, "not answered yet"),
        (lambda r, f: d_outputs(f, r), 1.386, "swapped"),
        (lambda r, f: (r.mean().item(), f.mean().item()), 1.386, "mean logits"),
        (lambda r, f: (torch.sigmoid(r.mean()).item(), torch.sigmoid(f.mean()).item()), 1.386, "not linear"),
        (lambda r, f: 0.5, 1.386, "pair of numbers"),
        (lambda r, f: (0.9, 0.1), 1.386, "expected"),
        (d_outputs, math.log(2), "one of the two terms"),
        (d_outputs, 0.5, "cross-entropy"),
        (d_outputs, 1.0, "logarithms"),
        (d_outputs, -2 * math.log(2), "sign"),
        (d_outputs, 2.0, "should be"),
        (d_outputs, "1.39", "should be"),
        (d_outputs, None, "must be a number"),
    ],
)
def test_d_outputs_wrong_answers(fn, chance, hint, capsys):
    assert not nb05.check_d_outputs(fn, chance)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


@pytest.mark.parametrize(
    "answers, hint",
    [
        ("healthy", "give a dict"),
        ({"A": "lr_too_high"}, "no diagnosis for B, C, D, E"),
        ({**ANSWERS, "C": "broken"}, "not one of the labels"),
        ({**ANSWERS, "A": "d_blind"}, "EQUAL at every step"),
        ({**ANSWERS, "C": "d_too_strong", "E": "no_pretraining"}, "3 of 5 right"),
        ({**ANSWERS, "B": "d_too_strong"}, "labelled d_too_strong"),
        ({**ANSWERS, "D": "healthy"}, "labelled healthy"),
        ({**ANSWERS, "E": "no_pretraining"}, "HIGH FROM THE FIRST STEP"),
    ],
)
def test_diagnoses_wrong_answers(answers, hint, capsys):
    assert not nb05.check_diagnoses(answers)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


@pytest.mark.parametrize("label", nb05.LABELS)
def test_diagnoses_verdict_does_not_name_the_wrong_history(label, capsys):
    """Issue 9, item 18: the verdict must not reveal the answer key one label at a time.

    One wrong label gives the same verdict whichever history carries it.
    """
    verdicts = set()
    for key in sorted(k for k, v in ANSWERS.items() if v != label):
        assert not nb05.check_diagnoses({**ANSWERS, key: label})
        verdicts.add(capsys.readouterr().out)
    assert len(verdicts) == 1 and "4 of 5 right" in verdicts.pop()


def test_mystery_histories_are_well_formed():
    histories = nb05.mystery_histories()
    assert sorted(histories) == list("ABCDE")
    for rows in histories.values():
        assert [r["step"] for r in rows] == list(range(150))
        assert sum("val_psnr" in r for r in rows) == 3
        for r in rows:
            assert 0 < r["d_real"] < 1 and 0 < r["d_fake"] < 1
            assert math.isclose(r["loss_d"], -math.log(r["d_real"]) - math.log(1 - r["d_fake"]), rel_tol=1e-9)
            assert math.isclose(r["loss_adversarial"], 5e-3 * -math.log(r["d_fake"]), rel_tol=1e-9)
    assert all(r["d_real"] == r["d_fake"] for r in histories["D"])  # the blind D
    assert nb05.mystery_histories(seed=3) != histories  # the noise follows the seed
