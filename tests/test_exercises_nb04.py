"""Notebook 04's checkers accept the reference solutions and reject typical wrong answers."""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from srlib.exercises import notebook_solutions, nb04
from srlib.models.discriminators import PatchDiscriminatorSN, SRGANDiscriminator, receptive_field

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_discriminator.ipynb"


# --- reference solutions (the same as in the notebook's hidden solutions) --------------------

def my_receptive_field(layers):
    r, j = 1, 1
    for k, s in layers:
        r += (k - 1) * j
        j *= s
    return r


def bce_with_logits(logits, labels):
    if logits.shape != labels.shape:
        raise ValueError("shapes differ")
    return (labels * F.softplus(-logits) + (1 - labels) * F.softplus(logits)).mean()


def _logsigmoid_bce(z, y):
    assert z.shape == y.shape, "shapes differ"  # any refusal will do
    return -(y * F.logsigmoid(z) + (1 - y) * F.logsigmoid(-z)).mean()


def _unchecked_bce(z, y):  # the right formula, but (N, 1) against (N,) broadcasts to (N, N)
    return (y * F.softplus(-z) + (1 - y) * F.softplus(z)).mean()


SHAPES = ((8, 512, 7, 10), (8, 1), (8, 1, 100, 150))


def test_reference_solutions_pass(capsys):
    assert nb04.check_receptive_field(my_receptive_field)
    assert nb04.check_bce_with_logits(bce_with_logits)
    assert nb04.check_output_shapes(*SHAPES)
    out = capsys.readouterr().out
    assert out.count("✅") == 3 and "❌" not in out


def test_equivalent_solutions_pass():
    assert nb04.check_receptive_field(lambda layers: float(receptive_field(layers)))
    assert nb04.check_bce_with_logits(lambda z, y: (F.softplus(z) - y.view_as(z) * z).mean())  # reshapes: right too
    assert nb04.check_bce_with_logits(_logsigmoid_bce)
    assert nb04.check_output_shapes(torch.Size(SHAPES[0]), [8, 1], torch.Size(SHAPES[2]))


def _solutions_from_notebook():
    return notebook_solutions(NOTEBOOK, {"torch": torch, "F": F}, expected_blocks=3)


def test_notebook_solutions_pass():
    ns = _solutions_from_notebook()
    assert nb04.check_receptive_field(ns["my_receptive_field"])
    assert nb04.check_bce_with_logits(ns["bce_with_logits"])
    assert nb04.check_output_shapes(ns["body_shape"], ns["logits_shape"], ns["patch_shape"])


def test_reference_shapes_match_the_networks():
    """The checker's shape arithmetic is what srlib's networks really give (small widths, same strides)."""
    x = torch.rand(2, 3, 100, 150)
    want = nb04.reference_shapes(tuple(x.shape), channels=8)
    with torch.no_grad():
        d = SRGANDiscriminator(channels=8, dense=16).eval()
        assert tuple(d.body(x).shape) == want["body"]
        assert tuple(d(x).shape) == want["logits"]
        assert tuple(PatchDiscriminatorSN(channels=4).eval()(x).shape) == want["patch"]
    assert nb04.reference_shapes()["body"] == SHAPES[0]


def test_receptive_field_cases_match_srlib():
    assert nb04.reference_receptive_field([(4, 2)] * 3 + [(4, 1)] * 2) == 70
    assert nb04.reference_receptive_field([(3, 1), (3, 2)] * 4) == receptive_field(SRGANDiscriminator(channels=4).body) == 61


# --- wrong answers are rejected, with a useful hint ------------------------------------------

def _not_done(*args, **kwargs):
    raise NotImplementedError


def _rf_own_stride(layers):
    r, j = 1, 1
    for k, s in layers:
        j *= s
        r += (k - 1) * j
    return r


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda layers: 1 + sum(k - 1 for k, _ in layers), "strides ignored"),
        (_rf_own_stride, "own stride"),
        (lambda layers: my_receptive_field(layers) - 1, "off by one"),
        (lambda layers: sum(k for k, _ in layers), "expected"),
        (lambda layers: "61", "expected"),
        (lambda layers: None, "not a number"),
        (lambda layers: layers[0][5], "raised IndexError"),
    ],
)
def test_receptive_field_wrong_answers(fn, hint, capsys):
    assert not nb04.check_receptive_field(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


def _naive_bce(z, y):
    p = torch.sigmoid(z)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def _clamped_bce(z, y):  # what nn.BCELoss does
    p = torch.sigmoid(z)
    return -(y * torch.log(p).clamp(min=-100) + (1 - y) * torch.log(1 - p).clamp(min=-100)).mean()


def _clamped_probability_bce(z, y):  # a finite but wrong value at the extremes
    p = torch.sigmoid(z).clamp(1e-7, 1 - 1e-7)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (_naive_bce, "softplus"),
        (_clamped_bce, "moderate logits"),
        (_clamped_probability_bce, "moderate logits"),
        (lambda z, y: bce_with_logits(z, 1 - y), "labels swapped"),
        (F.binary_cross_entropy_with_logits, "F.binary_cross_entropy_with_logits"),
        (lambda z, y: torch.nn.BCEWithLogitsLoss()(z, y), "what nn.BCEWithLogitsLoss calls"),
        (lambda z, y: torch.binary_cross_entropy_with_logits(z, y, None, None, 1), "torch.binary_cross_entropy_with_logits"),
        (lambda z, y: torch.nn.BCELoss()(torch.sigmoid(z), y), "what nn.BCELoss calls"),
        (_unchecked_bce, "broadcasts to (4, 4)"),
        (lambda z, y: (F.softplus(z) - y * z).mean(), "mean over all (N, N) pairs"),
        (lambda z, y: (F.softplus(z) - y * z).sum(), "mean"),
        (lambda z, y: F.softplus(z) - y * z, "one number"),
        (lambda z, y: bce_with_logits(z, y).item(), "torch tensor"),
        (lambda z, y: bce_with_logits(z, y).detach(), "not differentiable"),
        (lambda z, y: (F.softplus(z) + y * z).mean(), "expected"),
    ],
)
def test_bce_wrong_answers(fn, hint, capsys):
    assert not nb04.check_bce_with_logits(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


class _ValueRightGradientCut(torch.autograd.Function):
    """The right loss value, with a gradient cut to zero at large |z| (what a clamp does)."""

    @staticmethod
    def forward(ctx, z, y):
        ctx.save_for_backward(z, y)
        return bce_with_logits(z, y)

    @staticmethod
    def backward(ctx, grad):
        z, y = ctx.saved_tensors
        g = (torch.sigmoid(z) - y) / z.numel()
        return grad * torch.where(z.abs() > 27, torch.zeros_like(g), g), None


def test_bce_forbidden_call_is_found_however_imported(capsys):
    from torch.nn.functional import binary_cross_entropy_with_logits as renamed

    assert not nb04.check_bce_with_logits(lambda z, y: renamed(z, y) + 0 * F.softplus(z).mean())
    assert "F.binary_cross_entropy_with_logits" in capsys.readouterr().out


def test_bce_shape_trap_is_what_the_library_refuses():
    """The trap's (4, 1) vs (4,) case: BCEWithLogitsLoss refuses it; the unchecked formula gives the (N, N) mean."""
    z, y = torch.tensor([[4.0], [-3.0], [3.0], [-4.0]]), torch.tensor([1.0, 0.0, 1.0, 0.0])
    with pytest.raises(ValueError):
        torch.nn.BCEWithLogitsLoss()(z, y)
    assert abs(_unchecked_bce(z, y) - _unchecked_bce(z, y.view_as(z))) > 1


def test_bce_dead_gradient_is_rejected(capsys):
    assert not nb04.check_bce_with_logits(_ValueRightGradientCut.apply)
    out = capsys.readouterr().out
    assert out.startswith("❌") and "gradient is 0" in out


@pytest.mark.parametrize(
    "answer, hint",
    [
        (((0, 0, 0, 0), (0, 0), (0, 0, 0, 0)), "is not it"),
        (((8, 512, 6, 9), (8, 1), (8, 1, 100, 150)), "rounded down"),
        (((8, 512, 6, 6), (8, 1), (8, 1, 100, 150)), "adaptive pool"),
        (((8, 64, 7, 10), (8, 1), (8, 1, 100, 150)), "channels"),
        (((8, 512, 10, 7), (8, 1), (8, 1, 100, 150)), "swapped"),
        (((8, 512, 7, 10), (8,), (8, 1, 100, 150)), "nn.Linear"),
        (((8, 512, 7, 10), (8, 1, 1, 1), (8, 1, 100, 150)), "nn.Linear"),
        (((8, 512, 7, 10), (8, 1, 7, 10), (8, 1, 100, 150)), "dense layers"),
        (((8, 512, 7, 10), (8, 1), (8, 1, 13, 19)), "upsamples back"),
        (((8, 512, 7, 10), (8, 1), (8, 1, 150, 100)), "swapped"),
        (((8, 512, 7, 10), (8, 1), "8x1x100x150"), "tuple of integers"),
    ],
)
def test_output_shapes_wrong_answers(answer, hint, capsys):
    assert not nb04.check_output_shapes(*answer)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


# --- the seed post's own words, quoted in defect (n) -----------------------------------------

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "000_0f207f0e2684d0d4.txt"


def test_seed_description_is_verbatim_and_claims_fully_connected_layers():
    """Notebook 04 (n) quotes the post's paragraph after the listing: "conv and fully connected layers"."""
    import hashlib

    from srlib.seed_listing import SEED_DESCRIPTION

    assert hashlib.sha256(SEED_DESCRIPTION.encode("utf-8")).hexdigest() == (
        "eedd70a0589c531fbc6544b3589930ee8acd4bd2f35fe82a66626c3e056c8628")
    assert "卷积和全连接层" in SEED_DESCRIPTION
    if REFERENCE.is_file():
        assert SEED_DESCRIPTION in REFERENCE.read_text(encoding="utf-8").splitlines()


def test_output_shapes_with_fractional_sides_are_rejected(capsys):
    """int() used to truncate (8, 512, 7.5, 10) into the right shape."""
    body, logits, patch = SHAPES
    assert not nb04.check_output_shapes((8, 512, 7.5, 10), logits, patch)
    assert not nb04.check_output_shapes(body, logits, (8, 1, 100.9, 150))
    assert nb04.check_output_shapes((8, 512, 7.0, 10), logits, patch)  # a whole float is still a right answer
