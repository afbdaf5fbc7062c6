"""Notebook 09's checkers accept the reference solutions and reject typical wrong answers."""
import math
from pathlib import Path

import numpy as np
import pytest

from srlib.exercises import nb09, notebook_solutions
from srlib.infer import split_axis

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "09_real_world.ipynb"


# --- reference solutions (the same as in the notebook's hidden solutions) --------------------

def my_split_axis(length, tile, overlap):
    if not tile or tile >= length:
        return [(0, length, 0, length)]
    n = math.ceil(length / tile)
    bounds = [round(i * length / n) for i in range(n + 1)]
    size = min(length, max(b - a for a, b in zip(bounds, bounds[1:])) + 2 * overlap)
    tiles = []
    for a, b in zip(bounds, bounds[1:]):
        start = min(max(0, a - overlap), length - size)
        tiles.append((a, b, start, start + size))
    return tiles


def conv_radius(layers):
    return sum(d * (k - 1) // 2 for k, d in layers)


def count_invented(sr_points, hr_points, radius):
    sr, hr = np.asarray(sr_points, float).reshape(-1, 2), np.asarray(hr_points, float).reshape(-1, 2)
    if len(sr) == 0 or len(hr) == 0:
        return len(sr)
    nearest = np.sqrt(((sr[:, None, :] - hr[None, :, :]) ** 2).sum(-1)).min(axis=1)
    return int((nearest > radius).sum())


def test_reference_solutions_pass(capsys):
    assert nb09.check_split_axis(my_split_axis)
    assert nb09.check_conv_radius(conv_radius)
    assert nb09.check_count_invented(count_invented)
    out = capsys.readouterr().out
    assert out.count("✅") == 3 and "❌" not in out


def test_equivalent_solutions_pass():
    assert nb09.check_split_axis(split_axis)
    assert nb09.check_split_axis(lambda n, t, o: [list(x) for x in my_split_axis(n, t, o)])  # lists, not tuples
    assert nb09.check_conv_radius(nb09.reference_radius)
    assert nb09.check_conv_radius(lambda layers: float(conv_radius(layers)))  # 5.0 is 5 pixels
    assert nb09.check_count_invented(nb09.reference_invented)

    def with_tree(sr, hr, radius):
        from scipy.spatial import cKDTree
        if len(sr) == 0 or len(hr) == 0:
            return len(sr)
        return int((cKDTree(hr).query(sr)[0] > radius).sum())

    assert nb09.check_count_invented(with_tree)


def test_notebook_solutions_pass():
    ns = notebook_solutions(NOTEBOOK, {"np": np, "math": math}, expected_blocks=3)
    assert nb09.check_split_axis(ns["my_split_axis"])
    assert nb09.check_conv_radius(ns["conv_radius"])
    assert nb09.check_count_invented(ns["count_invented"])


def test_the_radius_reference_is_what_srlib_measures_on_the_network():
    """The formula the checker expects is the radius srlib.infer measures on the convolutions themselves."""
    for layers in nb09.RADIUS_CASES:
        assert nb09.measured_radius(layers) == nb09.reference_radius(layers), layers


def test_the_split_cases_include_uneven_lengths_and_whole_axis_tiles():
    assert any(n % t for n, t, _ in nb09.SPLIT_CASES)  # cores that do not divide the axis
    assert any(t >= n for n, t, _ in nb09.SPLIT_CASES)  # one tile covers everything
    assert any(2 * o + t > n > t for n, t, o in nb09.SPLIT_CASES)  # windows shifted inwards on both sides


def test_the_invented_reference_counts_a_point_at_exactly_the_radius_as_matched():
    assert nb09.reference_invented([[0, 3]], [[0, 0]], 3.0) == 0
    assert nb09.reference_invented([[0, 3]], [[0, 0]], 2.99) == 1
    assert nb09.reference_invented([[1, 1]], np.zeros((0, 2)), 1.0) == 1
    assert nb09.reference_invented(np.zeros((0, 2)), [[1, 1]], 1.0) == 0


# --- wrong answers are rejected, with a useful hint ------------------------------------------

def _not_done(*args, **kwargs):
    raise NotImplementedError


def _clipped(length, tile, overlap):
    return [(a, b, max(0, a - overlap), min(length, b + overlap)) for a, b, _, _ in my_split_axis(length, tile, overlap)]


def _fixed_steps(length, tile, overlap):
    if not tile or tile >= length:
        return [(0, length, 0, length)]
    size = min(length, tile + 2 * overlap)
    out = []
    for a in range(0, length, tile):
        b = min(a + tile, length)
        start = min(max(0, a - overlap), length - size)
        out.append((a, b, start, start + size))
    return out


def _one_side(length, tile, overlap):
    if not tile or tile >= length:
        return [(0, length, 0, length)]
    tiles = my_split_axis(length, tile, 0)
    size = min(length, max(b - a for a, b, _, _ in tiles) + overlap)
    return [(a, b, min(max(0, a - overlap), length - size), min(max(0, a - overlap), length - size) + size)
            for a, b, _, _ in tiles]


def _gaps(length, tile, overlap):
    return [(a, b - 1, s, e) for a, b, s, e in my_split_axis(length, tile, overlap)]


def _outside(length, tile, overlap):
    return [(a, b, a - overlap, b + overlap) for a, b, _, _ in my_split_axis(length, tile, 0)]


def _always_split(length, tile, overlap):
    return my_split_axis(length, min(tile, length - 1), overlap)  # cuts even when one tile would cover the axis


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (_clipped, "clipped"),
        (_fixed_steps, "differ by at most one pixel"),
        (_one_side, "both sides"),
        (lambda n, t, o: my_split_axis(n, t, 0), "context around its core"),
        (_gaps, "end to end"),
        (_outside, "leaves the image"),
        (_always_split, "one tile"),
        (lambda n, t, o: "tiles", "return a list"),
        (lambda n, t, o: [(0, n)], "return a list"),
        (lambda n, t, o: [(0, n, 0, n)], "expected"),
    ],
)
def test_split_wrong_answers(fn, hint, capsys):
    assert not nb09.check_split_axis(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out, out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda layers: 1 + 2 * conv_radius(layers), "width"),
        (lambda layers: sum((k - 1) // 2 for k, _ in layers), "dilation"),
        (lambda layers: sum(d * (k - 1) for k, d in layers), "not k - 1"),
        (lambda layers: sum(k for k, _ in layers), "taps away from the centre"),
        (lambda layers: conv_radius(layers) + 0.5, "whole number"),
        (lambda layers: "5", "whole number"),
        (lambda layers: max(d * (k - 1) // 2 for k, d in layers), "expected"),
    ],
)
def test_radius_wrong_answers(fn, hint, capsys):
    assert not nb09.check_conv_radius(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out, out


def _strict(sr, hr, radius):
    sr, hr = np.asarray(sr, float), np.asarray(hr, float)
    if len(sr) == 0 or len(hr) == 0:
        return len(sr)
    return int((np.sqrt(((sr[:, None] - hr[None]) ** 2).sum(-1)).min(1) >= radius).sum())


def _chebyshev(sr, hr, radius):
    sr, hr = np.asarray(sr, float), np.asarray(hr, float)
    if len(sr) == 0 or len(hr) == 0:
        return len(sr)
    return int((np.abs(sr[:, None] - hr[None]).max(-1).min(1) > radius).sum())


def _no_empty_case(sr, hr, radius):
    if len(hr) == 0:
        return 0
    return count_invented(sr, hr, radius)


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda sr, hr, r: len(sr) - count_invented(sr, hr, r), "matched points"),
        (lambda sr, hr, r: count_invented(hr, sr, r), "missed ones"),
        (_strict, "exactly the radius"),
        (_chebyshev, "Euclidean"),
        (_no_empty_case, "no HR points"),
        (lambda sr, hr, r: count_invented(sr, hr, r) + 0.5, "whole number"),
        (lambda sr, hr, r: len(sr) - len(hr), "expected"),
    ],
)
def test_invented_wrong_answers(fn, hint, capsys):
    assert not nb09.check_count_invented(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out, out
