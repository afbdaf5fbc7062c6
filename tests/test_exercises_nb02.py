"""Notebook 02's checkers accept the reference solutions and reject typical wrong answers."""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from srlib.exercises import notebook_solutions, nb02

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "02_generator.ipynb"


# --- reference solutions (the same as in the notebook's hidden solutions) --------------------

class ScaledResidualBlock(nn.Module):
    def __init__(self, channels, res_scale=0.1):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.res_scale = res_scale

    def forward(self, x):
        return x + self.res_scale * self.conv2(F.relu(self.conv1(x)))


def channels_before_shuffle(channels, r):
    return channels * r * r


def pixel_unshuffle(x, r):
    n, c, hr, wr = x.shape
    h, w = hr // r, wr // r
    x = x.reshape(n, c, h, r, w, r)
    x = x.permute(0, 1, 3, 5, 2, 4)
    return x.reshape(n, c * r * r, h, w)


def test_reference_solutions_pass(capsys):
    assert nb02.check_scaled_residual_block(ScaledResidualBlock)
    assert nb02.check_channels_before_shuffle(channels_before_shuffle)
    assert nb02.check_pixel_unshuffle(pixel_unshuffle)
    out = capsys.readouterr().out
    assert out.count("✅") == 3 and "❌" not in out


class SequentialBlock(nn.Module):
    """Another correct answer: nn.Sequential body, in-place ReLU, convs without bias."""

    def __init__(self, channels, res_scale):
        super().__init__()
        self.res_scale = res_scale
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.ReLU(inplace=True),
                                  nn.Conv2d(channels, channels, 3, padding=1, bias=False))

    def forward(self, x):
        return x + self.body(x) * self.res_scale


def test_other_correct_answers_pass():
    assert nb02.check_scaled_residual_block(SequentialBlock)
    assert nb02.check_channels_before_shuffle(lambda c, r: c * r**2)


@pytest.mark.parametrize("padding, mode", [(1, "reflect"), (1, "replicate"), (1, "circular"), ("same", "zeros"),
                                           ("same", "reflect")])
def test_residual_block_any_padding_mode_passes(padding, mode, capsys):
    """A correct block with reflect (or other) padding was rejected: the exercise asks only to keep the size."""

    class PaddedBlock(nn.Module):
        def __init__(self, channels, res_scale):
            super().__init__()
            self.res_scale = res_scale
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=padding, padding_mode=mode)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=padding, padding_mode=mode)

        def forward(self, x):
            return x + self.res_scale * self.conv2(F.relu(self.conv1(x)))

    assert nb02.check_scaled_residual_block(PaddedBlock)
    assert capsys.readouterr().out.startswith("✅")


def test_residual_block_padding_outside_the_convs_gets_a_hint(capsys):
    def padded(x, c1, c2, s):
        pad = lambda t: F.pad(t, (1, 1, 1, 1), mode="reflect")
        return x + s * c2(pad(F.relu(c1(pad(x)))))

    assert not nb02.check_scaled_residual_block(_block(padded, padding=0))
    assert "pad inside the convolutions" in capsys.readouterr().out


def test_residual_block_declared_reflect_but_computed_with_zeros_passes(capsys):
    """A forward through F.conv2d ignores the modules' padding mode: still a correct block (zero padding)."""

    class Mixed(nn.Module):
        def __init__(self, channels, res_scale):
            super().__init__()
            self.res_scale = res_scale
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")

        def forward(self, x):  # ignores the modules' padding mode: zero padding through F.conv2d
            c1, c2 = self.conv1, self.conv2
            h = F.relu(F.conv2d(x, c1.weight, c1.bias, padding=1))
            return x + self.res_scale * F.conv2d(h, c2.weight, c2.bias, padding=1)

    assert nb02.check_scaled_residual_block(Mixed)
    assert capsys.readouterr().out.startswith("✅")


def _solutions_from_notebook():
    return notebook_solutions(NOTEBOOK, {"torch": torch, "nn": nn, "F": F}, expected_blocks=3)


def test_notebook_solutions_pass():
    ns = _solutions_from_notebook()
    assert nb02.check_scaled_residual_block(ns["ScaledResidualBlock"])
    assert nb02.check_channels_before_shuffle(ns["channels_before_shuffle"])
    assert nb02.check_pixel_unshuffle(ns["pixel_unshuffle"])


# --- wrong answers are rejected, with a useful hint ------------------------------------------

class NotDone(nn.Module):
    def __init__(self, channels, res_scale):
        super().__init__()
        raise NotImplementedError


def _block(forward, bn=False, kernel=3, padding=1, convs=2, out_channels=None):
    """A residual-block class whose forward is forward(self, x, c1, c2, s)."""

    class Block(nn.Module):
        def __init__(self, channels, res_scale):
            super().__init__()
            self.res_scale = res_scale
            out = out_channels or channels
            self.c1 = nn.Conv2d(channels, out, kernel, padding=padding)
            self.c2 = nn.Conv2d(out, channels, kernel, padding=padding) if convs > 1 else nn.Identity()
            if convs > 2:
                self.c3 = nn.Conv2d(channels, channels, kernel, padding=padding)
            self.bn = nn.BatchNorm2d(channels) if bn else nn.Identity()

        def forward(self, x):
            return forward(x, self.c1, self.c2, self.res_scale)

    return Block


def _right(x, c1, c2, s):
    return x + s * c2(F.relu(c1(x)))


@pytest.mark.parametrize(
    "cls, hint",
    [
        (NotDone, "not answered yet"),
        (_block(lambda x, c1, c2, s: x + c2(F.relu(c1(x)))), "not scaled"),
        (_block(lambda x, c1, c2, s: s * c2(F.relu(c1(x)))), "skip is missing"),
        (_block(lambda x, c1, c2, s: c2(F.relu(c1(x)))), "skip is missing"),
        (_block(lambda x, c1, c2, s: s * (x + c2(F.relu(c1(x))))), "scale only the body"),
        (_block(lambda x, c1, c2, s: F.relu(x + s * c2(F.relu(c1(x))))), "no ReLU after the sum"),
        (_block(lambda x, c1, c2, s: x + s * c2(c1(x))), "ReLU between"),
        (_block(lambda x, c1, c2, s: x + s * F.relu(c2(F.relu(c1(x))))), "second convolution"),
        (_block(lambda x, c1, c2, s: x + 0.1 * c2(F.relu(c1(x)))), "not a constant"),
        (_block(lambda x, c1, c2, s: x + s * c2(torch.sigmoid(c1(x)))), "differs"),
        (_block(_right, bn=True), "batch normalisation"),
        (_block(_right, convs=3), "exactly two"),
        (_block(lambda x, c1, c2, s: x + s * c1(x), convs=1), "exactly two"),
        (_block(_right, kernel=5, padding=2), "3x3"),
        (_block(_right, out_channels=16), "channels"),
        (_block(lambda x, c1, c2, s: s * c2(F.relu(c1(x))), padding=0), "input's shape"),
        (_block(lambda x, c1, c2, s: x.no_such_method()), "raised"),
    ],
)
def test_residual_block_wrong_answers(cls, hint, capsys):
    assert not nb02.check_scaled_residual_block(cls)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out, out


def test_residual_block_must_be_a_module(capsys):
    assert not nb02.check_scaled_residual_block(lambda channels, res_scale: (lambda x: x))
    assert "nn.Module" in capsys.readouterr().out


def _not_done(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda c, r: c * r, "not r"),
        (lambda c, r: c // (r * r), "other direction"),
        (lambda c, r: r * r, "multiply"),
        (lambda c, r: c * 2 * r, "r·r"),
        (lambda c, r: c + r * r, "expected"),
        (lambda c, r: None, "whole number"),
    ],
)
def test_channels_wrong_answers(fn, hint, capsys):
    assert not nb02.check_channels_before_shuffle(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out, out


def _unshuffle_perm(perm):
    def fn(x, r):
        n, c, hr, wr = x.shape
        return x.reshape(n, c, hr // r, r, wr // r, r).permute(*perm).reshape(n, c * r * r, hr // r, wr // r)
    return fn


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (_unshuffle_perm((0, 1, 5, 3, 2, 4)), "swapped"),
        (_unshuffle_perm((0, 3, 5, 1, 2, 4)), "grouped by sub-pixel"),
        (_unshuffle_perm((0, 5, 3, 1, 2, 4)), "grouped by sub-pixel"),
        (lambda x, r: x.reshape(x.shape[0], -1, x.shape[2] // r, x.shape[3] // r), "reshape alone"),
        (_unshuffle_perm((0, 1, 3, 5, 4, 2)), "wrong places"),  # h and w swapped (fails on non-square)
        (lambda x, r: x[:, :, ::r, ::r], "shape"),
        (lambda x, r: pixel_unshuffle(x, r) * 2, "do not compute"),
        (lambda x, r: pixel_unshuffle(x, r).numpy(), "tensor"),
    ],
)
def test_unshuffle_wrong_answers(fn, hint, capsys):
    assert not nb02.check_pixel_unshuffle(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out, out


_GLOBAL_UNSHUFFLE = nn.PixelUnshuffle(2)


def _unshuffle_through_shuffle(x, r):  # right values, but through F.pixel_shuffle's inverse trick
    n, c, hr, wr = x.shape
    probe = F.pixel_shuffle(torch.arange(c * r * r, dtype=x.dtype).reshape(1, c * r * r, 1, 1), r)
    return pixel_unshuffle(x, r) + 0 * probe.sum()


def _aliased_answer():
    """`from torch.nn.functional import pixel_unshuffle as fold`: an alias bound at import time."""
    ns = {}
    exec("from torch.nn.functional import pixel_unshuffle as fold\n"
         "def answer(x, r):\n    return fold(x, r)\n", ns)
    return ns["answer"]


@pytest.mark.parametrize(
    "fn, name",
    [
        (lambda x, r: F.pixel_unshuffle(x, r), "pixel_unshuffle"),
        (lambda x, r: torch.pixel_unshuffle(x, r), "pixel_unshuffle"),
        (lambda x, r: nn.PixelUnshuffle(r)(x), "pixel_unshuffle"),
        (lambda x, r: torch.nn.functional.pixel_unshuffle(x, r), "pixel_unshuffle"),
        (lambda x, r: _GLOBAL_UNSHUFFLE(x) if r == 2 else pixel_unshuffle(x, r), "_GLOBAL_UNSHUFFLE"),
        (_unshuffle_through_shuffle, "pixel_shuffle"),
        (_aliased_answer(), "fold"),
    ],
)
def test_unshuffle_with_pytorchs_own_is_rejected(fn, name, capsys):
    """F.pixel_unshuffle was accepted although the exercise says "reshape and permute only"."""
    assert not nb02.check_pixel_unshuffle(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and "reshape and permute only" in out and name in out, out
    assert torch.pixel_unshuffle is F.pixel_unshuffle and "spy" not in F.pixel_unshuffle.__name__  # restored


def test_unshuffle_own_helpers_named_like_pytorchs_pass():
    """A learner's own functions called pixel_shuffle (section 2's) are not PyTorch's: no false alarm."""
    ns = {"torch": torch}
    exec("def pixel_shuffle(x, r):\n"
         "    n, c, h, w = x.shape\n"
         "    return x.reshape(n, c // r**2, r, r, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c // r**2, h * r, w * r)\n"
         "def pixel_unshuffle(x, r):\n"
         "    n, c, hr, wr = x.shape\n"
         "    y = x.reshape(n, c, hr // r, r, wr // r, r).permute(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, hr // r, wr // r)\n"
         "    assert torch.equal(pixel_shuffle(y, r), x)\n"
         "    return y\n", ns)
    assert nb02.check_pixel_unshuffle(ns["pixel_unshuffle"])
