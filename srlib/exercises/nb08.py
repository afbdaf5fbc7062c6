"""Checkers for notebook 08, "Evaluation".

Each checker runs the learner's answer against a reference (srlib's NIQE
pieces, scipy's bootstrap), prints a one-line verdict that says what looks
wrong, and returns True or False. A learner's code that raises (for instance
the `NotImplementedError` of the unedited exercise cell) gets a verdict, not a
traceback.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import correlate
from scipy.stats import bootstrap

from ..quality.niqe import mscn, pristine_model
from . import call as _call, verdict


# --- Exercise 1: MSCN coefficients ------------------------------------------------------------------

def mscn_test_image() -> np.ndarray:
    """A 0..255 grey test image (48 x 40): smooth shading, texture, an edge and a flat patch (sigma = 0 there)."""
    rng = np.random.default_rng(8)
    yy, xx = np.mgrid[0:48, 0:40]
    img = 90 + 60 * np.sin(xx / 6.0) * np.cos(yy / 9.0) + rng.normal(0, 12, (48, 40))
    img[:, 26:] += 50  # a vertical edge
    img[30:, :14] = 128.0  # a flat patch: the +1 keeps its coefficients finite
    return np.clip(np.round(img), 0, 255)


def _mscn_wrong(y: np.ndarray, w: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """The usual mistakes, each with its hint."""
    mu = correlate(y, w, mode="nearest")
    var = np.abs(correlate(y * y, w, mode="nearest") - mu * mu)
    sigma = np.sqrt(var)
    box = np.full((7, 7), 1 / 49)
    mu_box = correlate(y, box, mode="nearest")
    sigma_box = np.sqrt(np.abs(correlate(y * y, box, mode="nearest") - mu_box**2))
    border = "the borders differ: extend the image by repeating its edge pixels (scipy's mode='nearest', MATLAB's " \
             "'replicate'), for both the local mean and the local variance."
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        out.append(((y - mu) / sigma, "you divided by sigma: add 1 to it, (y - mu) / (sigma + 1), so that flat "
                                      "regions (sigma = 0) stay finite."))
    out.append(((y - mu) / (var + 1), "divide by the local standard deviation sigma (the square root of the local "
                                      "variance), plus 1."))
    out.append((y / (sigma + 1), "subtract the local mean first: (y - mu) / (sigma + 1)."))
    out.append(((y - mu) / (y.std() + 1), "sigma is local: the square root of w * y^2 - mu^2, computed with the "
                                          "window at every pixel, not the whole image's standard deviation."))
    out.append(((y - mu_box) / (sigma_box + 1), "use the given Gaussian window for the local mean and variance, "
                                                "not a uniform 7x7 box."))
    for mode in ("constant", "reflect", "mirror", "wrap"):
        m = correlate(y, w, mode=mode)
        s = np.sqrt(np.abs(correlate(y * y, w, mode=mode) - m * m))
        out.append(((y - m) / (s + 1), border))
    y1 = y / 255
    m1 = correlate(y1, w, mode="nearest")
    s1 = np.sqrt(np.abs(correlate(y1 * y1, w, mode="nearest") - m1 * m1))
    out.append(((y1 - m1) / (s1 + 1), "work on the 0..255 scale the image comes in: the +1 in sigma + 1 assumes it "
                                      "(on a 0..1 scale it would swamp sigma)."))
    return out


def check_mscn(fn) -> bool:
    """fn(y, window) -> MSCN coefficients (y - mu) / (sigma + 1) of a 0..255 grey image, as srlib's `mscn`."""
    window = pristine_model()["window"]
    y = mscn_test_image()
    got, err = _call(fn, y.copy(), window.copy())
    if err:
        return verdict(False, "", err)
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return verdict(False, "", f"return an array of the image's shape; got {type(got).__name__}.")
    if got.shape != y.shape:
        return verdict(False, "", f"the coefficients have one value per pixel: shape {y.shape}, got {got.shape} "
                                  "(correlate or filter the whole image; do not crop it).")
    if np.isnan(got).any():
        return verdict(False, "", "NaN in your coefficients: w * y^2 - mu^2 can come out a hair below 0 in flat regions "
                                  "through rounding; take its absolute value (or clip at 0) before the square root.")
    want = mscn(y, window)
    if np.allclose(got, want, atol=1e-6, rtol=1e-6):
        return verdict(True, "(y - mu) / (sigma + 1) with the 7x7 Gaussian window and replicated borders: "
                             "srlib's mscn.", "")
    if not np.isfinite(got).all():
        return verdict(False, "", "your coefficients are infinite somewhere (the flat patch): divide by sigma + 1.")
    for wrong, hint in _mscn_wrong(y, window):
        if np.isfinite(wrong).all() and np.allclose(got, wrong, atol=1e-6, rtol=1e-6):
            return verdict(False, "", hint)
    inner = (slice(3, -3), slice(3, -3))
    if np.allclose(got[inner], want[inner], atol=1e-6, rtol=1e-6):
        return verdict(False, "", "the inside is right, but the 3-pixel border is not: extend the image by repeating "
                                  "its edge pixels (mode='nearest') before filtering.")
    worst = np.unravel_index(np.argmax(np.abs(got - want)), y.shape)
    return verdict(False, "", f"at pixel {worst} expected {want[worst]:.4f}, got {got[worst]:.4f}. "
                              "mu = w * y, sigma = sqrt(|w * y^2 - mu^2|) (w the window, * correlation), "
                              "MSCN = (y - mu) / (sigma + 1).")


# --- Exercise 2: which models nobody beats on both axes ---------------------------------------------

def reference_not_dominated(points: dict) -> set:
    """Names in {name: (psnr, niqe)} that no other entry dominates (PSNR >= and NIQE <=, one of them strictly)."""
    def dominates(p, q):
        return p[0] >= q[0] and p[1] <= q[1] and (p[0] > q[0] or p[1] < q[1])

    return {n for n, q in points.items() if not any(dominates(p, q) for m, p in points.items() if m != n)}


FRONT_CASES = [
    {"bicubic": (28.4, 7.1), "PSNR model": (31.0, 6.6), "GAN": (29.6, 4.2), "bad GAN": (27.9, 5.0)},
    {"A": (30.0, 5.0), "B": (30.0, 4.0), "C": (29.0, 3.0), "D": (31.0, 6.0), "E": (28.0, 3.5)},  # B beats A at equal PSNR
    {"A": (30.0, 5.0), "B": (29.0, 5.0), "C": (28.0, 4.0)},  # A beats B at equal NIQE
    {"A": (30.0, 5.0), "twin": (30.0, 5.0), "C": (29.5, 6.0)},  # equal points do not dominate each other
    {"only": (27.0, 8.0)},
    {"a": (25.0, 9.0), "b": (26.0, 8.0), "c": (27.0, 7.0), "d": (28.0, 6.0)},  # one model beats all others
]


def _front_wrong(points: dict) -> list[tuple[set, str]]:
    flipped = {n: (p, -q) for n, (p, q) in points.items()}
    strict = {n for n, q in points.items()
              if not any(p[0] > q[0] and p[1] < q[1] for m, p in points.items() if m != n)}
    extremes = {max(points, key=lambda n: points[n][0]), min(points, key=lambda n: points[n][1])}
    return [
        (reference_not_dominated(flipped), "NIQE is lower-is-better: a model dominates another with at least its "
                                           "PSNR and at most its NIQE."),
        (set(points) - reference_not_dominated(points), "that is the list of dominated models; return the ones "
                                                        "that nobody dominates."),
        (strict, "a tie on one axis still counts: at equal PSNR the model with the lower NIQE dominates (better on one "
                 "axis, no worse on the other). Equal points do not dominate each other."),
        (extremes, "the front holds every model that no other beats on both axes, not only the best on each axis."),
        ({max(points, key=lambda n: points[n][0])}, "PSNR alone does not decide: a model with a lower PSNR is on the "
                                                    "front if no model has both higher PSNR and lower NIQE."),
    ]


def check_not_dominated(fn) -> bool:
    """fn({name: (psnr, niqe)}) -> the names no other model dominates (any iterable of names)."""
    for points in FRONT_CASES:
        got, err = _call(fn, dict(points))
        if err:
            return verdict(False, "", err)
        if isinstance(got, str) or not hasattr(got, "__iter__"):
            return verdict(False, "", f"return the names (a set or list of strings); got {got!r}.")
        got = set(got)
        want = reference_not_dominated(points)
        if got == want:
            continue
        if not got <= set(points):
            return verdict(False, "", f"return names of the models, e.g. {sorted(points)[:2]}; got {sorted(map(str, got))[:3]}.")
        for wrong, hint in _front_wrong(points):
            if wrong != want and got == wrong:
                return verdict(False, "", hint)
        return verdict(False, "", f"for {points} expected {sorted(want)}, got {sorted(got)}. A model is dominated when "
                                  "another has PSNR >= and NIQE <= its own, with one of the two strictly better.")
    return verdict(True, "a model is on the front when no other has both PSNR >= and NIQE <= its own (one strictly).", "")


# --- Exercise 3: a paired bootstrap confidence interval ----------------------------------------------

def reference_paired_ci(a, b, level: float = 0.95, n_resamples: int = 50_000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of mean(a - b), images resampled with replacement (scipy.stats.bootstrap)."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    res = bootstrap((d,), np.mean, confidence_level=level, n_resamples=n_resamples, method="percentile",
                    random_state=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def bootstrap_cases() -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(a, b, level): per-image scores of two models, strongly correlated (the image matters more than the model)."""
    rng = np.random.default_rng(11)
    cases = []
    for n, level in ((40, 0.95), (40, 0.9), (6, 0.95)):
        image = rng.normal(28.0, 2.5, n)  # how hard each image is
        d = rng.exponential(0.4, n) - 0.1  # a skewed per-image gain
        cases.append((image + d, image, level))
    return cases


def _ci_wrong(a, b, level, rng) -> list[tuple[tuple[float, float], str]]:
    d = a - b
    n, tail = len(d), (1 - level) / 2
    idx_a, idx_b = rng.integers(0, n, (20_000, n)), rng.integers(0, n, (20_000, n))
    unpaired = a[idx_a].mean(1) - b[idx_b].mean(1)
    se = d.std(ddof=1) / math.sqrt(n)
    z = {0.95: 1.959964, 0.9: 1.644854}[level]
    low, high = reference_paired_ci(a, b, level, 20_000)
    one_tail = reference_paired_ci(a, b, 1 - 2 * (1 - level), 20_000) if level > 0.5 else (low, high)
    return [
        ((-high, -low), "the sign is flipped: the interval is for mean(a - b), the first model minus the second."),
        (tuple(np.quantile(unpaired, [tail, 1 - tail])), "resample image indices once and use the same indices for a "
                                                         "and b: the pairing removes how hard each image is, which "
                                                         "both models share."),
        (tuple(np.quantile(d, [tail, 1 - tail])), "that is the spread of the per-image differences; the interval is "
                                                  "for their mean: take the mean of each resample, then its quantiles."),
        ((d.mean() - z * d.std(), d.mean() + z * d.std()), "that interval uses the per-image standard deviation; the "
                                                           "mean of n images varies sqrt(n) times less. Bootstrap it."),
        ((d.mean() - z * se, d.mean() + z * se), "that is the normal-approximation interval, mean +- z SE; the "
                                                 "exercise asks for the percentile bootstrap: quantiles of resampled means."),
        (one_tail, f"a {level:.0%} interval leaves (1 - level) / 2 in each tail: the {tail:.3g} and {1 - tail:.3g} "
                   "quantiles of the resampled means."),
        ((high, low), "return (low, high), the lower end first."),
    ]


def check_paired_bootstrap_ci(fn) -> bool:
    """fn(a, b, level=0.95, n_resamples=10000, seed=0) -> (low, high): percentile bootstrap CI of mean(a - b)."""
    rng = np.random.default_rng(5)
    for a, b, level in bootstrap_cases():
        got, err = _call(fn, a.copy(), b.copy(), level=level, n_resamples=10_000, seed=0)
        if err:
            return verdict(False, "", err)
        try:
            low, high = (float(v) for v in got)
        except (TypeError, ValueError):
            return verdict(False, "", f"return two numbers (low, high); got {got!r}.")
        want = reference_paired_ci(a, b, level)
        width = want[1] - want[0]
        tol = 0.05 * width  # the Monte Carlo error of 10,000 resamples is under 1 % of the width here
        if abs(low - want[0]) <= tol and abs(high - want[1]) <= tol:
            again, err = _call(fn, a.copy(), b.copy(), level=level, n_resamples=10_000, seed=0)
            if err or tuple(float(v) for v in again) != (low, high):
                return verdict(False, "", "the interval is right, but not reproducible: draw the resamples from "
                                          "np.random.default_rng(seed), so that the same seed gives the same interval.")
            continue
        if math.isclose(low, high, abs_tol=1e-12):
            return verdict(False, "", "your interval has no width: resample WITH replacement (rng.integers(0, n, n)); "
                                      "a permutation of all images always has the same mean.")
        for wrong, hint in _ci_wrong(a, b, level, rng):
            near = max(tol, 0.05 * abs(wrong[1] - wrong[0]))  # a wide wrong interval has a larger Monte Carlo error
            if abs(low - wrong[0]) <= near and abs(high - wrong[1]) <= near:
                return verdict(False, "", hint)
        return verdict(False, "", f"for {len(a)} images at level {level} expected about ({want[0]:.3f}, {want[1]:.3f}), "
                                  f"got ({low:.3f}, {high:.3f}). Resample image indices with replacement, take the mean "
                                  "of a - b over each resample, and return the two quantiles.")
    return verdict(True, "the percentile bootstrap of the paired mean difference: scipy.stats.bootstrap's "
                         "method='percentile'.", "")
