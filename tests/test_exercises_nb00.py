import numpy as np
import pytest

from srlib import exercises
from srlib.exercises import nb00


def test_lr_pixels_per_hr_pixel(capsys):
    assert nb00.check_lr_pixels_per_hr_pixel(16)
    assert not nb00.check_lr_pixels_per_hr_pixel(4)
    assert not nb00.check_lr_pixels_per_hr_pixel(None)
    assert "per axis" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [16.0, np.int64(16), np.float32(16.0), np.array(16)])
def test_lr_pixels_accepts_any_whole_number(answer):
    assert nb00.check_lr_pixels_per_hr_pixel(answer)


@pytest.mark.parametrize("answer", [16.9, 16.5, 15.99, np.float64(16.2), float("nan"), float("inf"), True, "16", [16]])
def test_lr_pixels_rejects_what_is_not_a_whole_number(answer, capsys):
    # int() used to truncate 16.9 to 16 and accept it
    assert not nb00.check_lr_pixels_per_hr_pixel(answer)
    assert "whole number" in capsys.readouterr().out


def test_lr_size():
    assert nb00.lr_size(510, 340) == (128, 85)
    assert nb00.check_lr_size((128, 85))
    assert nb00.check_lr_size([128.0, np.int64(85)])
    assert not nb00.check_lr_size((127, 85))
    assert not nb00.check_lr_size((85, 128))
    assert not nb00.check_lr_size("big")


@pytest.mark.parametrize("answer", [(128.5, 85), (128, 85.4), (128.9, 85.9), (128, 85, 3), (128,), 128])
def test_lr_size_rejects_non_integers_and_wrong_lengths(answer, capsys):
    assert not nb00.check_lr_size(answer)
    assert "pair of whole numbers" in capsys.readouterr().out


def test_whole_number():
    assert exercises.whole_number(3) == 3 and exercises.whole_number(3.0) == 3 and exercises.whole_number(np.uint8(3)) == 3
    assert exercises.whole_number(3.5) is None and exercises.whole_number(False) is None and exercises.whole_number(None) is None
    assert exercises.whole_numbers((1, 2.0), 2) == (1, 2)
    assert exercises.whole_numbers((1, 2.5), 2) is None and exercises.whole_numbers((1, 2), 3) is None
    assert exercises.whole_numbers(7, 1) is None
