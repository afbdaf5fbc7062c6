"""NIQE, the Natural Image Quality Evaluator (Mittal, Soundararajan and Bovik 2013), as MATLAB's `niqe` computes it.

NIQE needs no reference image and no trained network: it fits a multivariate
Gaussian to natural-scene statistics of the image's 96x96 blocks and measures
how far it lies from the Gaussian of a corpus of pristine photos (shipped here
as `niqe_pris_params.npz`, see README.md). Lower is more natural. The steps:

1. the Y channel of MATLAB's `rgb2ycbcr`, rounded to integers (0..255 scale);
2. the image cropped to whole 96x96 blocks;
3. MSCN coefficients (x - mu) / (sigma + 1), with mu and sigma from the 7x7
   Gaussian window (replicated borders, as `imfilter(..., 'replicate')`);
4. per block 18 features: an asymmetric generalised Gaussian (AGGD) fitted by
   moment matching to the coefficients (shape, mean scale) and to their products
   with 4 neighbours (shape, mean, left and right scale);
5. the same at half resolution (MATLAB `imresize(img, 0.5)`, antialiased bicubic);
6. sqrt((mu_p - mu)^T pinv((C_p + C) / 2) (mu_p - mu)).
Steps 3 and 5 run in single precision: that reproduces MATLAB R2021a's
5.72957338 on baboon.png to 1e-5, where double precision is 4e-4 away (sigma
is a difference of two nearly equal local moments). Every block is processed
at once (arrays of blocks), not in a loop.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
from scipy.ndimage import correlate
from scipy.special import gamma

from ..degrade import imresize
from ..errors import SrlibError
from ..metrics import as_hwc, check_crop, rgb_to_y

BLOCK = 96
SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))  # horizontal, vertical, main and secondary diagonal neighbours
_SHAPES = np.arange(0.2, 10.001, 0.001)  # the shape grid MATLAB's estimateaggdparam searches


@lru_cache(maxsize=1)
def pristine_model() -> dict[str, np.ndarray]:
    """The published pristine model: mu (36,), cov (36, 36) and the 7x7 Gaussian window."""
    with resources.files("srlib.quality").joinpath("niqe_pris_params.npz").open("rb") as f:
        d = np.load(f)
        return {"mu": d["mu_pris_param"].ravel(), "cov": d["cov_pris_param"], "window": d["gaussian_window"]}


@lru_cache(maxsize=1)
def _shape_ratios() -> np.ndarray:
    g = 1.0 / _SHAPES
    return gamma(2 * g) ** 2 / (gamma(g) * gamma(3 * g))


def mscn(y: np.ndarray, window: np.ndarray | None = None) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients of a 0..255 grey image: (y - mu) / (sigma + 1)."""
    window = pristine_model()["window"] if window is None else window
    mu = correlate(y, window, mode="nearest")
    sigma = np.sqrt(np.abs(correlate(y * y, window, mode="nearest") - mu * mu))
    return (y - mu) / (sigma + 1)


def aggd_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shape, left scale, right scale) of an AGGD fitted by moment matching to each row of x (n, m).

    A row with no negative or no positive value has no left or right scale: NaN,
    as in MATLAB (such blocks are left out of the covariance).
    """
    neg, pos = x < 0, x > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.sqrt((x * x * neg).sum(1) / neg.sum(1))
        right = np.sqrt((x * x * pos).sum(1) / pos.sum(1))
        gamma_hat = left / right
        r_hat = np.abs(x).mean(1) ** 2 / (x * x).mean(1)
        r_norm = r_hat * (gamma_hat**3 + 1) * (gamma_hat + 1) / (gamma_hat**2 + 1) ** 2
    diff = (_shape_ratios()[None, :] - r_norm[:, None]) ** 2
    alpha = _SHAPES[np.argmin(np.where(np.isnan(diff), np.inf, diff), axis=1)]
    alpha = np.where(np.isnan(r_norm), np.nan, alpha)
    scale = np.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, left * scale, right * scale


def block_features(blocks: np.ndarray) -> np.ndarray:
    """The 18 NIQE features of each MSCN block, (n, h, w) -> (n, 18)."""
    n = len(blocks)
    alpha, bl, br = aggd_fit(blocks.reshape(n, -1))
    feats = [alpha, (bl + br) / 2]
    for shift in SHIFTS:  # products with a neighbour; np.roll wraps inside the block, as MATLAB's circshift
        prod = blocks * np.roll(blocks, shift, axis=(1, 2))
        alpha, bl, br = aggd_fit(prod.reshape(n, -1))
        mean = (br - bl) * gamma(2 / alpha) / gamma(1 / alpha)
        feats += [alpha, mean, bl, br]
    return np.stack(feats, axis=1)


def _blocks(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape
    return img.reshape(h // size, size, w // size, size).transpose(2, 0, 1, 3).reshape(-1, size, size)


def niqe_y(y: np.ndarray) -> float:
    """NIQE of a grey image on the 0..255 scale (MATLAB `niqe` on the Y channel)."""
    h, w = (y.shape[0] // BLOCK) * BLOCK, (y.shape[1] // BLOCK) * BLOCK
    if h == 0 or w == 0:
        raise SrlibError(f"NIQE needs at least one whole {BLOCK}x{BLOCK} block; this image is {y.shape[1]}x{y.shape[0]} "
                         "(after the border crop). Score a larger image.")
    model = pristine_model()
    img = y[:h, :w].astype(np.float32)
    window = model["window"].astype(np.float32)
    feats = []
    for level in (1, 2):
        feats.append(block_features(_blocks(mscn(img, window).astype(np.float64), BLOCK // level)))
        if level == 1:
            img = imresize(img / np.float32(255), 0.5) * np.float32(255)
    feats = np.concatenate(feats, axis=1)
    complete = feats[~np.isnan(feats).any(axis=1)]
    if len(complete) < 2:
        raise SrlibError(f"NIQE cannot fit its model to this {y.shape[1]}x{y.shape[0]} image: fewer than two "
                         "96x96 blocks have any texture (a flat or constant image). Score a natural image.")
    mu, cov = np.nanmean(feats, axis=0), np.cov(complete, rowvar=False)
    d = model["mu"] - mu
    return float(np.sqrt(d @ np.linalg.pinv((model["cov"] + cov) / 2) @ d))


def niqe(img, crop: int = 0, quantize: bool = True) -> float:
    """NIQE of one image (HWC float RGB in [0, 1], uint8 or uint16, as `load_image` gives); lower = more natural.

    `crop` removes that many border pixels first (the SR literature uses the
    scale, as BasicSR's `crop_border`). With `quantize` (default) a float image is
    scored as its saved 8-bit PNG would be, like psnr/ssim. Colour images are
    scored on MATLAB's rounded Y channel; a grey image on its own values.
    """
    crop = check_crop(crop)
    a = as_hwc(img, "image")
    if quantize:
        a = np.round(np.clip(a, 0, 1) * 255) / 255
    y = np.round(a[..., 0] * 255) if a.shape[2] == 1 else rgb_to_y(a, round_y=True)
    if crop:
        if 2 * crop >= min(y.shape):
            raise SrlibError(f"a border crop of {crop} px leaves nothing of a {y.shape[1]}x{y.shape[0]} image.")
        y = y[crop:-crop, crop:-crop]
    return niqe_y(y)
