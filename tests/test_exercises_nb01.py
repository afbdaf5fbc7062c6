"""Notebook 01's checkers accept the reference solutions and reject typical wrong answers."""
import math
from pathlib import Path

import numpy as np
import pytest

from srlib.exercises import notebook_solutions, nb01

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_sr_problem.ipynb"


# --- reference solutions (the same as in the notebook's hidden solutions) --------------------

def psnr_from_mse(mse, peak=255.0):
    if mse == 0:
        return float("inf")
    return 10 * math.log10(peak**2 / mse)


def matlab_y(img):
    return 16.0 + img @ np.array([65.481, 128.553, 24.966])


def test_reference_solutions_pass(capsys):
    assert nb01.check_psnr_from_mse(psnr_from_mse)
    assert nb01.check_rgb_to_y(matlab_y)
    assert nb01.check_output_size((86, 85))
    out = capsys.readouterr().out
    assert out.count("✅") == 3 and "❌" not in out


def test_numpy_solutions_pass():
    assert nb01.check_psnr_from_mse(lambda mse, peak=255.0: np.inf if mse == 0 else 20 * np.log10(peak / np.sqrt(mse)))
    assert nb01.check_rgb_to_y(lambda img: 16 + 65.481 * img[..., 0] + 128.553 * img[..., 1] + 24.966 * img[..., 2])
    assert nb01.check_output_size(np.array([86, 85]))
    assert nb01.check_output_size((86.0, 85.0))


def _solutions_from_notebook():
    return notebook_solutions(NOTEBOOK, {"np": np}, expected_blocks=3)


def test_notebook_solutions_pass():
    ns = _solutions_from_notebook()
    assert nb01.check_psnr_from_mse(ns["psnr_from_mse"])
    assert nb01.check_rgb_to_y(ns["matlab_y"])
    assert nb01.check_output_size(ns["output_size"])


# --- wrong answers are rejected, with a useful hint ------------------------------------------

def _not_done(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda mse, peak=255.0: 20 * math.log10(peak**2 / mse) if mse else math.inf, "20·log10"),
        (lambda mse, peak=255.0: 10 * math.log10(peak / mse) if mse else math.inf, "squared"),
        (lambda mse, peak=255.0: 10 * math.log(peak**2 / mse) if mse else math.inf, "base-10"),
        (lambda mse, peak=255.0: 10 * math.log10(mse / peak**2) if mse else math.inf, "sign"),
        (lambda mse, peak=255.0: 10 * math.log10(255.0**2 / mse) if mse else math.inf, "expected"),  # ignores peak
        (lambda mse, peak=255.0: 10 * math.log10(peak**2 / mse), "MSE = 0"),  # ZeroDivisionError at 0
        (lambda mse, peak=255.0: 10 * math.log10(peak**2 / mse) if mse else 0.0, "inf"),
    ],
)
def test_psnr_wrong_answers(fn, hint, capsys):
    assert not nb01.check_psnr_from_mse(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_not_done, "not answered yet"),
        (lambda img: np.round(16.0 + img @ np.array([65.481, 128.553, 24.966])), "rounded"),
        (lambda img: img @ np.array([65.481, 128.553, 24.966]), "offset"),
        (lambda img: (img @ np.array([65.481, 128.553, 24.966])) / 219, "[16, 235]"),
        (lambda img: 255 * img @ np.array([0.299, 0.587, 0.114]), "full-range"),
        (lambda img: 16.0 + 255 * img @ np.array([65.481, 128.553, 24.966]), "factor 255"),
        (lambda img: 16.0 + img @ np.array([24.966, 128.553, 65.481]), "black gave"),  # BGR order
        (lambda img: img.mean(), "one Y value per pixel"),
    ],
)
def test_rgb_to_y_wrong_answers(fn, hint, capsys):
    assert not nb01.check_rgb_to_y(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


@pytest.mark.parametrize(
    "answer, hint",
    [
        ((0, 0), "is not it"),
        ((85, 85), "rounded down"),
        ((85, 86), "swapped"),
        ((86, 86), "is not it"),
        ("86x85", "tuple"),
        ((86, 85, 3), "two whole numbers"),
        ((86.5, 85.2), "two whole numbers"),  # int() used to truncate this to (86, 85) and accept it
        ((86, 85.5), "two whole numbers"),
        ((86.0, np.float64(85.9)), "two whole numbers"),
        (86, "two whole numbers"),
    ],
)
def test_output_size_wrong_answers(answer, hint, capsys):
    assert not nb01.check_output_size(answer)
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out


def test_checker_survives_a_crashing_answer(capsys):
    assert not nb01.check_rgb_to_y(lambda img: img["R"])
    assert "raised" in capsys.readouterr().out
