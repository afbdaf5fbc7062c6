"""Checkers for notebook 01, "The super-resolution problem".

Each checker runs the learner's answer against srlib's reference, prints a
one-line verdict that says what looks wrong, and returns True or False. A
learner's function that raises (for instance the `NotImplementedError` of the
unedited exercise cell) gets a verdict, not a traceback.
"""
from __future__ import annotations

import math

import numpy as np

from ..degrade import imresize
from ..metrics import rgb_to_y
from . import call as _call, verdict, whole_numbers


# --- Exercise 1: PSNR from an MSE ---------------------------------------------------------------

def reference_psnr_from_mse(mse: float, peak: float = 255.0) -> float:
    return float("inf") if mse == 0 else 10 * math.log10(peak**2 / mse)


def check_psnr_from_mse(fn) -> bool:
    """fn(mse, peak=255.0) -> PSNR in dB; inf when mse is 0."""
    cases = [(1.0, 255.0), (100.0, 255.0), (0.25, 255.0), (42.0, 255.0), (1e-3, 1.0), (0.01, 1.0)]
    for mse, peak in cases:
        got, err = _call(fn, mse, peak=peak)
        if err:
            return verdict(False, "", err)
        want = reference_psnr_from_mse(mse, peak)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return verdict(False, "", f"psnr_from_mse({mse}, peak={peak}) returned {got!r}, not a number.")
        if abs(got - want) < 1e-6:
            continue
        if abs(got - 20 * math.log10(peak**2 / mse)) < 1e-6:
            hint = "you used 20·log10 of a squared ratio: PSNR is 10·log10(peak² / MSE) (or 20·log10(peak / RMSE))."
        elif abs(got - 10 * math.log10(peak / mse)) < 1e-6:
            hint = "the peak must be squared: MSE is in squared grey levels, so PSNR = 10·log10(peak² / MSE)."
        elif abs(got - 10 * math.log(peak**2 / mse)) < 1e-6:
            hint = "use the base-10 logarithm (np.log10), not the natural one."
        elif abs(got + want) < 1e-6:
            hint = "the sign is flipped: the ratio is peak² / MSE, so a smaller error gives a larger PSNR."
        else:
            hint = f"expected {want:.4f} dB."
        return verdict(False, "", f"psnr_from_mse({mse}, peak={peak}) gave {got:.4f}: {hint}")
    got, err = _call(fn, 0.0, peak=255.0)
    if err or not (isinstance(got, (int, float, np.floating)) and math.isinf(got) and got > 0):
        why = err or f"it returned {got!r}"
        return verdict(False, "", f"identical images (MSE = 0) should give float('inf'); {why}.")
    return verdict(True, "PSNR = 10·log10(peak² / MSE): right, including the MSE = 0 case.", "")


# --- Exercise 2: MATLAB's rgb2ycbcr, Y channel ---------------------------------------------------

def check_rgb_to_y(fn) -> bool:
    """fn(img) with img (H, W, 3) RGB in [0, 1] -> Y of MATLAB's rgb2ycbcr, (H, W), in [16, 235], not rounded."""
    rng = np.random.default_rng(1)
    img = rng.random((7, 9, 3))
    img[0, 0], img[0, 1] = 0.0, 1.0  # black and white pixels
    got, err = _call(fn, img.copy())
    if err:
        return verdict(False, "", err)
    got = np.asarray(got, dtype=np.float64)
    want = rgb_to_y(img, round_y=False)
    if got.shape != want.shape:
        if got.size == want.size:
            got = got.reshape(want.shape)
        else:
            return verdict(False, "", f"expected one Y value per pixel, shape {want.shape}; got shape {got.shape}.")
    if np.allclose(got, want, atol=1e-6):
        return verdict(True, "Y = 16 + 65.481 R + 128.553 G + 24.966 B: black maps to 16, white to 235.", "")
    if np.allclose(got, np.round(want), atol=1e-6):
        return verdict(False, "", "close: you rounded Y. Return it unrounded; rounding is the metrics' `round_y` switch.")
    if np.allclose(got, want - 16, atol=1e-6):
        return verdict(False, "", "the offset is missing: studio-swing Y starts at 16 (black), so add 16.")
    if np.allclose(got, want / 255, atol=1e-6) or np.allclose(got, (want - 16) / 219, atol=1e-6):
        return verdict(False, "", "give Y on the 8-bit scale, in [16, 235], not normalised to [0, 1].")
    full = 255 * img @ np.array([0.299, 0.587, 0.114])
    if np.allclose(got, full, atol=1e-3) or np.allclose(got, full / 255, atol=1e-6):
        return verdict(False, "", "that is full-range BT.601 luma (0.299, 0.587, 0.114, in [0, 255]); MATLAB's "
                                  "rgb2ycbcr is studio-swing: 16 + 65.481 R + 128.553 G + 24.966 B.")
    if np.allclose(got, 16 + 255 * img @ np.array([65.481, 128.553, 24.966]), rtol=1e-6):
        return verdict(False, "", "the coefficients already include the factor 255: use RGB in [0, 1] as it is.")
    black, white = got.ravel()[0], got.ravel()[1]
    return verdict(False, "", f"black gave {black:.3f} and white {white:.3f}; MATLAB's Y gives 16 and 235.")


# --- Exercise 3: MATLAB's output size -------------------------------------------------------------

def check_output_size(answer, in_size=(256, 255), scale=1 / 3) -> bool:
    """answer: (height, width) of imresize(img of in_size (height, width), scale)."""
    h, w = in_size
    want = tuple(imresize(np.zeros((h, w)), scale).shape)
    got = whole_numbers(answer, 2)
    if got is None:
        return verdict(False, "", f"give the size as a tuple (height, width) of two whole numbers; got {answer!r}.")
    if got == want:
        return verdict(True, f"{h}x{w} (height x width) by {scale:.4g} gives {want[0]}x{want[1]}: MATLAB takes ceil(scale · size).", "")
    if got == (math.floor(h * scale), math.floor(w * scale)):
        return verdict(False, "", "you rounded down; MATLAB's imresize rounds the output size up: ceil(scale · size).")
    if got == (round(h * scale), round(w * scale)):
        return verdict(False, "", "you rounded to the nearest integer; MATLAB's imresize rounds up: ceil(scale · size).")
    if got == want[::-1]:
        return verdict(False, "", "the numbers are right but swapped: answer (height, width).")
    return verdict(False, "", f"{got} is not it. The input is {h} high and {w} wide; each side becomes ceil(side · {scale:.4g}).")
