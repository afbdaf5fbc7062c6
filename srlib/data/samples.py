"""An offline stand-in for the data sets: photos that scikit-image ships.

When the data root is empty the course still runs: five of these images play
the role of a test set (like Set5) and the rest a small training set. They are
read from scikit-image's own package folder, so no network is needed.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

from .images import load_image

# name -> file inside skimage/data; all ship with scikit-image (no download)
SAMPLE_FILES = {
    "astronaut": "astronaut.png",
    "coffee": "coffee.png",
    "chelsea": "chelsea.png",
    "rocket": "rocket.jpg",
    "motorcycle": "motorcycle_left.png",
    "retina": "retina.jpg",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "immunohistochemistry": "ihc.png",
    "grass": "grass.png",
    "gravel": "gravel.png",
    "brick": "brick.png",
    "camera": "camera.png",
    "coins": "coins.png",
    "moon": "moon.png",
}
EVAL_SAMPLES = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle")
TRAIN_SAMPLES = tuple(n for n in SAMPLE_FILES if n not in EVAL_SAMPLES)
MAX_SIDE = 512  # large samples are centre-cropped so that CPU work stays quick


@lru_cache(maxsize=None)
def load_sample(name: str) -> np.ndarray:
    """One embedded sample as RGB float32 in [0, 1] (grayscale ones become RGB)."""
    from ..errors import SrlibError

    if name not in SAMPLE_FILES:
        raise SrlibError(f"unknown sample {name!r}; samples are: {', '.join(SAMPLE_FILES)}.")
    with resources.as_file(resources.files("skimage.data") / SAMPLE_FILES[name]) as path:
        img = load_image(path)
    h, w = img.shape[:2]
    top, left = max(0, (h - MAX_SIDE) // 2), max(0, (w - MAX_SIDE) // 2)
    img = img[top : top + MAX_SIDE, left : left + MAX_SIDE]
    img.setflags(write=False)
    return img
