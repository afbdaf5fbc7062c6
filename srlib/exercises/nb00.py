"""Checkers for notebook 00 (welcome). Each compares the answer with what srlib computes."""
from __future__ import annotations

import numpy as np

from ..degrade import imresize, resize_matrix
from . import verdict, whole_number, whole_numbers

_NO_ANSWER = "no answer yet: replace None with your answer and run the cell again."


def lr_pixels_per_hr_pixel(scale: int = 4) -> int:
    """How many LR pixels MATLAB bicubic upscaling weighs for one HR pixel away from the border."""
    n = 16  # LR pixels along an axis, plenty to have an interior
    m = resize_matrix(n, n * scale, float(scale), True)
    per_axis = int(np.count_nonzero(m[m.shape[0] // 2]))  # one interior output pixel
    return per_axis * per_axis  # separable: rows x columns


def check_lr_pixels_per_hr_pixel(answer, scale: int = 4) -> bool:
    """Exercise 1: the number of LR pixels that feed one HR pixel in bicubic upscaling at x4."""
    if answer is None:
        return verdict(False, "", _NO_ANSWER)
    right = lr_pixels_per_hr_pixel(scale)
    given = whole_number(answer)
    if given is None:
        return verdict(False, "", f"expected a whole number (a count of pixels), got {answer!r}.")
    if given == right:
        k = int(round(right**0.5))
        return verdict(True, f"right: {right} = {k} x {k}. The cubic kernel reaches 2 LR pixels each side, along each axis.", "")
    hints = {
        4: "that is per axis. The kernel is applied along rows and along columns, so count a 2-D neighbourhood.",
        (4 * scale) ** 2: f"that is the downsampling direction: shrinking by {scale} with antialiasing stretches the "
        f"kernel to {4 * scale} pixels per axis. Upscaling uses the plain cubic kernel.",
        1: "one LR pixel is what nearest-neighbour upscaling uses; bicubic blends a neighbourhood.",
    }
    return verdict(False, "", hints.get(given, f"not {given}. Hint: Keys' cubic kernel is non-zero on (-2, 2), in LR pixels."))


def lr_size(width: int, height: int, scale: int = 4) -> tuple[int, int]:
    """(width, height) of MATLAB's imresize(img, 1/scale), computed by srlib's imresize itself."""
    out = imresize(np.zeros((height, width)), 1.0 / scale)
    return out.shape[1], out.shape[0]


def check_lr_size(answer, width: int = 510, height: int = 340, scale: int = 4) -> bool:
    """Exercise 2: the LR size (width, height) of a width x height image at 1/scale with MATLAB's ceil rule."""
    if answer is None:
        return verdict(False, "", _NO_ANSWER)
    right = lr_size(width, height, scale)
    given = whole_numbers(answer, 2)
    if given is None:
        return verdict(False, "", f"expected a pair of whole numbers (width, height), e.g. (100, 80); got {answer!r}.")
    if given == right:
        return verdict(
            True,
            f"right: ({right[0]}, {right[1]}). ceil({width}/{scale}) = {right[0]}, so x{scale} back would give "
            f"{right[0] * scale} columns, not {width}: that is why benchmark HR images are cropped to a multiple of the scale.",
            "",
        )
    if given == right[::-1]:
        return verdict(False, "", "width and height are swapped: give (width, height).")
    floor = (width // scale, height // scale)
    if given in (floor, floor[::-1]):
        return verdict(False, "", f"{width}/{scale} = {width / scale} is not whole: MATLAB rounds the size up (ceil), not down.")
    if given in ((round(width / scale), round(height / scale)),) and given != right:
        return verdict(False, "", "MATLAB does not round to the nearest integer, it rounds up (ceil).")
    return verdict(False, "", f"not {given}. Hint: along each side, out = ceil(in / {scale}), the smallest whole number >= in / {scale}.")
