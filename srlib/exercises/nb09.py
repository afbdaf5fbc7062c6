"""Checkers for notebook 09, "The real world".

Each checker runs the learner's answer against a reference (srlib's tile
split, srlib's measured receptive field, a brute-force count), prints a
one-line verdict that says what looks wrong, and returns True or False. A
learner's code that raises (for instance the `NotImplementedError` of the
unedited exercise cell) gets a verdict, not a traceback.
"""
from __future__ import annotations

import math

import numpy as np
from torch import nn

from ..infer import split_axis, structural_radius
from . import call as _call, verdict, whole_number


# --- Exercise 1: tiles along one axis --------------------------------------------------------------

SPLIT_CASES = [(100, 48, 10), (100, 48, 34), (128, 32, 8), (97, 30, 5), (64, 64, 12), (50, 100, 6), (130, 40, 0), (200, 48, 34),
               (7, 3, 2), (1000, 256, 34)]


def _as_tiles(got) -> list[tuple[int, ...]] | None:
    try:
        tiles = [tuple(whole_number(v) for v in t) for t in got]
    except TypeError:
        return None
    if not tiles or any(len(t) != 4 or None in t for t in tiles):
        return None
    return tiles


def _windows(cores, length: int, size: int) -> list[tuple[int, int, int, int]]:
    """Windows of one `size` starting `overlap` before each core, shifted inwards at the border."""
    out = []
    for a, b, before in cores:
        start = min(max(0, a - before), length - size)
        out.append((a, b, start, start + size))
    return out


def _split_wrong(length: int, tile: int, overlap: int) -> list[tuple[list, str]]:
    """The usual mistakes, each with its hint."""
    n = math.ceil(length / tile)
    bounds = [round(i * length / n) for i in range(n + 1)]
    balanced = list(zip(bounds, bounds[1:]))
    fixed = [(a, min(a + tile, length)) for a in range(0, length, tile)]
    widest = max(b - a for a, b in balanced)
    return [
        ([(a, b, max(0, a - overlap), min(length, b + overlap)) for a, b in balanced],
         "the windows near the image border are clipped and come out smaller: give every window the same size "
         "(core + 2 x overlap) and shift it inwards at the border instead, so that all tiles run in one batch."),
        (_windows([(a, b, overlap) for a, b in fixed], length, min(length, tile + 2 * overlap)),
         "cut the cores so that their sides differ by at most one pixel: n = ceil(length / tile) cores with bounds "
         "round(i * length / n); fixed steps of `tile` leave a thin last core."),
        (_windows([(a, b, overlap) for a, b in balanced], length, min(length, widest + overlap)),
         "the overlap goes on both sides of each core: windows of core + 2 x overlap, starting `overlap` before the core."),
        ([(a, b, a, b) for a, b in balanced], "each window needs `overlap` pixels of context around its core; "
                                              "yours are the cores themselves."),
        (_windows([(a, b, 0) for a, b in balanced], length, min(length, widest)),
         "each window needs `overlap` pixels of context around its core; yours have none."),
    ]


def check_split_axis(fn) -> bool:
    """fn(length, tile, overlap) -> [(core_start, core_end, window_start, window_end), ...], as srlib.infer.split_axis."""
    for length, tile, overlap in SPLIT_CASES:
        got, err = _call(fn, length, tile, overlap)
        if err:
            return verdict(False, "", err)
        tiles = _as_tiles(got) if got is not None else None
        if tiles is None:
            return verdict(False, "", "return a list of (core_start, core_end, window_start, window_end) tuples of "
                                      f"whole numbers; got {got!r:.80}.")
        want = split_axis(length, tile, overlap)
        if tiles == want:
            continue
        where = f"for length {length}, tile {tile}, overlap {overlap}"
        cores = [t[:2] for t in tiles]
        if cores[0][0] != 0 or cores[-1][1] != length or any(b != c for (_, b), (c, _) in zip(cores, cores[1:])):
            return verdict(False, "", f"{where} the cores {cores} do not cover 0..{length} end to end without gaps "
                                      "or overlaps: each core starts where the previous one ends.")
        if any(ws < 0 or we > length for *_, ws, we in tiles):
            return verdict(False, "", f"{where} a window leaves the image (0..{length}); shift it inwards instead.")
        if tile >= length and len(tiles) != 1:
            return verdict(False, "", f"{where} the whole axis fits in one tile: return [(0, {length}, 0, {length})].")
        for wrong, hint in _split_wrong(length, tile, overlap):
            if tiles == wrong:
                return verdict(False, "", f"{where}: {hint}")
        return verdict(False, "", f"{where} expected {want}, got {tiles}.")
    return verdict(True, "balanced cores, same-size windows with the overlap on both sides, shifted inwards at the "
                         "border: srlib.infer.split_axis.", "")


# --- Exercise 2: the receptive-field radius of a stack of convolutions -------------------------------

RADIUS_CASES = [[(3, 1)] * 4, [(5, 1), (3, 1)], [(3, 2), (3, 4), (3, 8)], [(1, 1), (7, 1), (3, 3)], [(9, 1)],
                [(1, 1)], [(3, 1)] * 32 + [(5, 2)]]


def reference_radius(layers) -> int:
    """Radius (pixels) of stride-1 convolutions given as (kernel_size, dilation): sum of dilation * (k - 1) / 2."""
    return sum(d * (k - 1) // 2 for k, d in layers)


def conv_stack(layers) -> nn.Sequential:
    """The network the layers describe (3 channels, 'same' padding, ReLU between), for srlib's measurement."""
    mods = []
    for k, d in layers:
        mods += [nn.Conv2d(3, 3, k, padding=d * (k - 1) // 2, dilation=d), nn.ReLU()]
    return nn.Sequential(*mods[:-1])


def check_conv_radius(fn) -> bool:
    """fn([(kernel_size, dilation), ...]) -> the receptive-field radius in pixels, as srlib measures it."""
    for layers in RADIUS_CASES:
        got, err = _call(fn, list(layers))
        if err:
            return verdict(False, "", err)
        value = whole_number(got)
        if value is None:
            return verdict(False, "", f"return a whole number of pixels; got {got!r}.")
        want = reference_radius(layers)
        if value == want:
            continue
        shown = layers if len(layers) < 6 else f"{len(layers)} layers ({layers[0]} ... {layers[-1]})"
        if value == 1 + 2 * want:
            return verdict(False, "", f"for {shown} you returned the field's width ({value}); the radius is how far it "
                                      f"reaches on one side: (width - 1) / 2 = {want}.")
        if value == sum((k - 1) // 2 for k, _ in layers):
            return verdict(False, "", f"for {shown}: a dilation d spreads a kernel's taps d pixels apart, so the layer "
                                      "reaches d * (k - 1) / 2 pixels, not (k - 1) / 2.")
        if value == sum(k - 1 for k, d in layers) or value == sum(d * (k - 1) for k, d in layers):
            return verdict(False, "", f"for {shown}: a kernel of size k reaches (k - 1) / 2 pixels on each side, not k - 1.")
        if value == sum(d * k // 2 + 1 for k, d in layers) or value == sum(k for k, _ in layers):
            return verdict(False, "", f"for {shown}: count only the taps away from the centre, (k - 1) / 2 per side "
                                      "(times the dilation).")
        return verdict(False, "", f"for {shown} expected {want} pixels, got {value}. The radii of stride-1 layers add up.")
    return verdict(True, "the radii of stride-1 layers add up, dilation x (k - 1) / 2 each: the same as srlib.infer "
                         "measures on the network.", "")


# --- Exercise 3: invented point sources ----------------------------------------------------------------

def reference_invented(sr_points, hr_points, radius: float) -> int:
    """How many SR points have no HR point within `radius` (Euclidean, inclusive), by brute force."""
    sr, hr = np.asarray(sr_points, float).reshape(-1, 2), np.asarray(hr_points, float).reshape(-1, 2)
    if len(sr) == 0:
        return 0
    if len(hr) == 0:
        return len(sr)
    d = np.sqrt(((sr[:, None, :] - hr[None, :, :]) ** 2).sum(-1))
    return int((d.min(axis=1) > radius).sum())


def invented_cases() -> list[tuple[np.ndarray, np.ndarray, float]]:
    rng = np.random.default_rng(9)
    hr = rng.integers(0, 200, (60, 2))
    jitter = hr[:40] + rng.integers(-2, 3, (40, 2))
    fake = rng.integers(0, 200, (25, 2))
    cases = [(np.vstack([jitter, fake]), hr, 2.0),
             (np.array([[0, 0], [0, 3], [3, 4], [10, 10]]), np.array([[0, 0], [0, 0]]), 3.0),  # a point at exactly 3
             (np.array([[5, 5], [5, 6]]), np.array([[5, 5]]), 1.5),  # two SR points may share one HR point
             (np.zeros((0, 2)), hr, 2.0),
             (hr[:5], np.zeros((0, 2)), 2.0),
             (np.array([[2, 2], [9, 1]]), np.array([[4, 3], [9, 4]]), 2.5)]  # diagonal: sqrt(5) <= 2.5 < 3
    return cases


def check_count_invented(fn) -> bool:
    """fn(sr_points, hr_points, radius) -> how many SR points (N, 2) have no HR point within radius."""
    for sr, hr, radius in invented_cases():
        got, err = _call(fn, sr.copy(), hr.copy(), radius)
        if err:
            return verdict(False, "", err)
        value = whole_number(got)
        if value is None:
            return verdict(False, "", f"return a count (a whole number); got {got!r:.60}.")
        want = reference_invented(sr, hr, radius)
        if value == want:
            continue
        what = f"for {len(sr)} SR and {len(hr)} HR points, radius {radius}"
        if len(sr) and len(hr) and value == len(sr) - want:
            return verdict(False, "", f"{what} you counted the matched points; count the SR points with NO HR point "
                                      "within the radius.")
        if len(sr) and len(hr) and value == reference_invented(hr, sr, radius):
            return verdict(False, "", f"{what} you counted HR points without an SR point (the missed ones); the "
                                      "invented ones are SR points without an HR point.")
        if len(sr) and len(hr) and value == int((np.sqrt(((sr[:, None] - hr[None]) ** 2).sum(-1)).min(1) >= radius).sum()):
            return verdict(False, "", f"{what}: a point at exactly the radius counts as matched (distance <= radius).")
        cheb = int((np.abs(sr[:, None] - hr[None]).max(-1).min(1) > radius).sum()) if len(sr) and len(hr) else None
        if cheb is not None and value == cheb:
            return verdict(False, "", f"{what}: use the Euclidean distance, sqrt(dy^2 + dx^2), not max(|dy|, |dx|).")
        if len(hr) == 0 or len(sr) == 0:
            return verdict(False, "", f"{what} expected {want}: with no HR points every SR point is invented; with "
                                      "no SR points nothing is.")
        return verdict(False, "", f"{what} expected {want}, got {value}. For each SR point find the nearest HR point; "
                                  "it is invented when that distance exceeds the radius.")
    return verdict(True, "an SR point is invented when no HR point lies within the radius (Euclidean, inclusive).", "")


def measured_radius(layers) -> int:
    """srlib's structural measurement of the radius of `conv_stack(layers)` (used by the tests)."""
    return structural_radius(conv_stack(layers), 1)
