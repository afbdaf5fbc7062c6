"""Notebook 08's checkers accept the reference solutions and reject typical wrong answers."""
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import correlate, gaussian_filter

from srlib.exercises import nb08, notebook_solutions
from srlib.quality import mscn

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "08_evaluation.ipynb"


# --- reference solutions (the same as in the notebook's hidden solutions) --------------------

def my_mscn(y, window):
    mu = correlate(y, window, mode="nearest")
    sigma = np.sqrt(np.abs(correlate(y * y, window, mode="nearest") - mu * mu))
    return (y - mu) / (sigma + 1)


def not_dominated(points):
    def dominates(p, q):
        return p[0] >= q[0] and p[1] <= q[1] and p != q
    return [n for n, q in points.items() if not any(dominates(p, q) for m, p in points.items() if m != n)]


def paired_bootstrap_ci(a, b, level=0.95, n_resamples=10_000, seed=0):
    d = np.asarray(a) - np.asarray(b)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), (n_resamples, len(d)))].mean(axis=1)
    tail = (1 - level) / 2
    return tuple(np.quantile(means, [tail, 1 - tail]))


def test_reference_solutions_pass(capsys):
    assert nb08.check_mscn(my_mscn)
    assert nb08.check_not_dominated(not_dominated)
    assert nb08.check_paired_bootstrap_ci(paired_bootstrap_ci)
    out = capsys.readouterr().out
    assert out.count("✅") == 3 and "❌" not in out


def test_equivalent_solutions_pass():
    assert nb08.check_mscn(mscn)
    assert nb08.check_mscn(lambda y, w: (y - correlate(y, w, mode="nearest"))
                           / (np.sqrt(np.clip(correlate(y**2, w, mode="nearest") - correlate(y, w, mode="nearest")**2,
                                              0, None)) + 1))
    assert nb08.check_not_dominated(nb08.reference_not_dominated)
    assert nb08.check_not_dominated(lambda pts: tuple(nb08.reference_not_dominated(pts)))
    assert nb08.check_paired_bootstrap_ci(lambda a, b, level=0.95, n_resamples=10_000, seed=0:
                                          nb08.reference_paired_ci(a, b, level, n_resamples, seed))
    assert nb08.check_paired_bootstrap_ci(  # resampling the pairs (a_i, b_i) is the same thing
        lambda a, b, level=0.95, n_resamples=10_000, seed=0: paired_bootstrap_ci(a, b, level, n_resamples, seed + 1))


def test_notebook_solutions_pass():
    ns = notebook_solutions(NOTEBOOK, {"np": np, "correlate": correlate}, expected_blocks=3)
    assert nb08.check_mscn(ns["my_mscn"])
    assert nb08.check_not_dominated(ns["not_dominated"])
    assert nb08.check_paired_bootstrap_ci(ns["paired_bootstrap_ci"])


def test_the_reference_interval_covers_the_true_mean_about_95_percent_of_the_time():
    """The checker's reference is a working 95 % interval: on simulated sets it covers the true gain as often as it says."""
    rng = np.random.default_rng(0)
    hits = 0
    for i in range(200):
        image = rng.normal(28, 2.5, 40)
        d = rng.normal(0.3, 0.5, 40)
        low, high = nb08.reference_paired_ci(image + d, image, 0.95, n_resamples=2000, seed=i)
        hits += low <= 0.3 <= high
    assert 0.88 <= hits / 200 <= 0.99


# --- wrong answers are rejected, with a useful hint ------------------------------------------

def _not_done(*args, **kwargs):
    raise NotImplementedError


def _mscn_with(mode="nearest", plus=1.0, window=None, scale=1.0, use_abs=True):
    def fn(y, w):
        w = w if window is None else window
        y = y / scale
        mu = correlate(y, w, mode=mode)
        var = correlate(y * y, w, mode=mode) - mu * mu
        sigma = np.sqrt(np.abs(var) if use_abs else var)
        return (y - mu) / (sigma + plus)
    return fn


def _nan_mscn(y, w):
    out = my_mscn(y, w)
    out[0, 0] = np.nan
    return out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (_mscn_with(plus=0.0), "add 1"),
        (lambda y, w: (y - correlate(y, w, mode="nearest"))
         / (np.abs(correlate(y * y, w, mode="nearest") - correlate(y, w, mode="nearest") ** 2) + 1), "standard deviation"),
        (lambda y, w: y / (np.sqrt(np.abs(correlate(y * y, w, mode="nearest") - correlate(y, w, mode="nearest") ** 2)) + 1),
         "subtract the local mean"),
        (lambda y, w: (y - correlate(y, w, mode="nearest")) / (y.std() + 1), "sigma is local"),
        (_mscn_with(window=np.full((7, 7), 1 / 49)), "uniform 7x7 box"),
        (_mscn_with(mode="constant"), "borders"),
        (_mscn_with(mode="reflect"), "borders"),
        (_mscn_with(scale=255.0), "0..255 scale"),
        (_nan_mscn, "NaN"),
        (lambda y, w: my_mscn(y, w)[3:-3, 3:-3], "one value per pixel"),
        (lambda y, w: (y - gaussian_filter(y, 7 / 6, mode="nearest"))
         / (np.sqrt(np.abs(gaussian_filter(y * y, 7 / 6, mode="nearest") - gaussian_filter(y, 7 / 6, mode="nearest") ** 2))
            + 1), "expected"),
        (lambda y, w: "mscn", "return an array"),
    ],
)
def test_mscn_wrong_answers(fn, hint, capsys):
    assert not nb08.check_mscn(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


def test_mscn_test_image_has_a_flat_patch_where_the_plus_one_matters():
    y = nb08.mscn_test_image()
    w = nb08.pristine_model()["window"]
    mu = correlate(y, w, mode="nearest")
    sigma = np.sqrt(np.abs(correlate(y * y, w, mode="nearest") - mu * mu))
    assert (sigma < 1e-3).any() and (sigma > 10).any()


def _strict_front(pts):
    return {n for n, q in pts.items() if not any(p[0] > q[0] and p[1] < q[1] for m, p in pts.items() if m != n)}


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda pts: not_dominated({n: (p, -q) for n, (p, q) in pts.items()}), "lower-is-better"),
        (lambda pts: set(pts) - set(not_dominated(pts)), "dominated models"),
        (_strict_front, "a tie on one axis"),
        (lambda pts: {max(pts, key=lambda n: pts[n][0]), min(pts, key=lambda n: pts[n][1])}, "not only the best"),
        (lambda pts: {max(pts, key=lambda n: pts[n][0])}, "PSNR alone"),
        (lambda pts: "GAN", "return the names"),
        (lambda pts: {1, 2}, "names of the models"),
        (lambda pts: set(pts), "expected"),
    ],
)
def test_front_wrong_answers(fn, hint, capsys):
    assert not nb08.check_not_dominated(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


def _unpaired(a, b, level=0.95, n_resamples=10_000, seed=0):
    rng = np.random.default_rng(seed)
    n = len(a)
    means = a[rng.integers(0, n, (n_resamples, n))].mean(1) - b[rng.integers(0, n, (n_resamples, n))].mean(1)
    return tuple(np.quantile(means, [(1 - level) / 2, (1 + level) / 2]))


def _normal(a, b, level=0.95, n_resamples=10_000, seed=0):
    d = a - b
    z = {0.95: 1.959964, 0.9: 1.644854}[level]
    se = d.std(ddof=1) / len(d) ** 0.5
    return d.mean() - z * se, d.mean() + z * se


def _one_tail(a, b, level=0.95, n_resamples=10_000, seed=0):
    d = a - b
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), (n_resamples, len(d)))].mean(1)
    return tuple(np.quantile(means, [1 - level, level]))


def _unseeded(a, b, level=0.95, n_resamples=10_000, seed=0):
    return paired_bootstrap_ci(a, b, level, n_resamples, seed=None)


def _permuted(a, b, level=0.95, n_resamples=10_000, seed=0):
    d = a - b
    rng = np.random.default_rng(seed)
    means = np.array([rng.permutation(d).mean() for _ in range(200)])
    return tuple(np.quantile(means, [(1 - level) / 2, (1 + level) / 2]))


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda a, b, level=0.95, n_resamples=10_000, seed=0: paired_bootstrap_ci(b, a, level, n_resamples, seed),
         "sign is flipped"),
        (_unpaired, "same indices"),
        (lambda a, b, level=0.95, n_resamples=10_000, seed=0:
         tuple(np.quantile(a - b, [(1 - level) / 2, (1 + level) / 2])), "spread of the per-image"),
        (_normal, "normal-approximation"),
        (_one_tail, "in each tail"),
        (lambda a, b, level=0.95, n_resamples=10_000, seed=0: paired_bootstrap_ci(a, b, level, n_resamples, seed)[::-1],
         "lower end first"),
        (_unseeded, "reproducible"),
        (_permuted, "no width"),
        (lambda a, b, level=0.95, n_resamples=10_000, seed=0: (a - b).mean(), "two numbers"),
        (lambda a, b, level=0.95, n_resamples=10_000, seed=0:
         tuple(v + 0.5 for v in paired_bootstrap_ci(a, b, level, n_resamples, seed)), "expected about"),
    ],
)
def test_bootstrap_wrong_answers(fn, hint, capsys):
    assert not nb08.check_paired_bootstrap_ci(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out
