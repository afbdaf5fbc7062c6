"""Blur kernels of the Real-ESRGAN degradation model, and the filters that apply them.

Wang et al. 2021, "Real-ESRGAN: Training Real-World Blind Super-Resolution with Pure
Synthetic Data", section 3.2; the formulas follow BasicSR's basicsr/data/degradations.py
(bivariate_Gaussian, bivariate_generalized_Gaussian, bivariate_plateau,
circular_lowpass_kernel) and its filter2D / USMSharp (basicsr/utils/img_process_util.py).
Kernels are computed in float64 and returned as float32 tensors that sum to 1.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..errors import SrlibError

KERNEL_TYPES = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso")


def _check_size(size: int) -> int:
    if int(size) != size or size < 1 or size % 2 == 0:
        raise SrlibError(f"kernel size must be an odd positive integer, got {size!r} (Real-ESRGAN draws 7, 9, ..., 21).")
    return int(size)


def _grid(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel offsets from the centre, x along columns and y along rows."""
    ax = torch.arange(size, dtype=torch.float64) - size // 2
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    return xx, yy


def _quadratic_form(size: int, sigma_x: float, sigma_y: float, theta: float) -> torch.Tensor:
    """p^T Sigma^-1 p on the grid, Sigma = R(theta) diag(sigma_x^2, sigma_y^2) R(theta)^T."""
    xx, yy = _grid(size)
    c, s = math.cos(theta), math.sin(theta)
    u = c * xx + s * yy  # coordinates in the rotated frame of the principal axes
    v = -s * xx + c * yy
    return (u / sigma_x) ** 2 + (v / sigma_y) ** 2


def bivariate_kernel(kind: str, size: int, sigma_x: float, sigma_y: float | None = None, theta: float = 0.0,
                     beta: float = 1.0) -> torch.Tensor:
    """One (size, size) blur kernel of a Real-ESRGAN kernel type (see KERNEL_TYPES).

    Gaussian exp(-q/2), generalised Gaussian exp(-q^beta / 2), plateau 1 / (1 + q^beta), with q the
    squared Mahalanobis distance; '*_iso' types ignore sigma_y and theta (sigma_y = sigma_x).
    """
    size = _check_size(size)
    if kind not in KERNEL_TYPES:
        raise SrlibError(f"unknown kernel type {kind!r}; known: {', '.join(KERNEL_TYPES)}.")
    if kind.endswith("iso") and not kind.endswith("aniso"):
        sigma_y, theta = sigma_x, 0.0
    sigma_y = sigma_x if sigma_y is None else sigma_y
    if sigma_x <= 0 or sigma_y <= 0:
        raise SrlibError(f"kernel sigmas must be positive, got {sigma_x}, {sigma_y}.")
    q = _quadratic_form(size, sigma_x, sigma_y, theta)
    if kind in ("iso", "aniso"):
        k = torch.exp(-0.5 * q)
    elif kind.startswith("generalized"):
        k = torch.exp(-0.5 * q.pow(beta))
    else:
        k = 1.0 / (q.pow(beta) + 1.0)
    return (k / k.sum()).float()


def sinc_kernel(size: int, cutoff: float, pad_to: int = 0) -> torch.Tensor:
    """Circularly symmetric 2-D sinc (ideal low-pass) kernel with cutoff frequency `cutoff` in radians (pi = Nyquist).

    h(r) = cutoff J1(cutoff r) / (2 pi r), h(0) = cutoff^2 / (4 pi), normalised; it imitates the ringing and
    overshoot of sharpened / band-limited images. Zero-padded to `pad_to` if larger.
    """
    size = _check_size(size)
    if not 0 < cutoff <= math.pi:
        raise SrlibError(f"sinc cutoff must lie in (0, pi], got {cutoff}.")
    xx, yy = _grid(size)
    r = torch.sqrt(xx**2 + yy**2)
    k = cutoff * torch.special.bessel_j1(cutoff * r) / (2 * math.pi * r.clamp_min(1e-12))
    k[size // 2, size // 2] = cutoff**2 / (4 * math.pi)
    k = k / k.sum()
    if pad_to > size:
        p = (_check_size(pad_to) - size) // 2
        k = F.pad(k, (p, p, p, p))
    return k.float()


def _pad(img: torch.Tensor, ph: int, pw: int) -> torch.Tensor:
    """Reflect padding as BasicSR's filter2D; replicate where the image is too small to reflect."""
    if ph == 0 and pw == 0:
        return img
    mode = "reflect" if ph < img.shape[-2] and pw < img.shape[-1] else "replicate"
    return F.pad(img, (pw, pw, ph, ph), mode=mode)


def filter2d(img: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Correlate (N, C, H, W) images with one (k, k) kernel or one kernel per image (N, k, k), same size out.

    Per-image kernels run as one grouped convolution (groups = N * C), the borders reflected.
    """
    n, c, h, w = img.shape
    kernel = kernel.to(img.dtype)
    if kernel.dim() == 2:
        kernel = kernel.expand(n, *kernel.shape)
    if kernel.shape[0] != n or kernel.shape[-1] != kernel.shape[-2] or kernel.shape[-1] % 2 == 0:
        raise SrlibError(f"filter2d needs one odd square kernel or one per image, got {tuple(kernel.shape)} for {n} images.")
    k = kernel.shape[-1]
    x = _pad(img, k // 2, k // 2).reshape(1, n * c, h + k - 1, w + k - 1)
    weight = kernel.repeat_interleave(c, dim=0).unsqueeze(1)
    return F.conv2d(x, weight, groups=n * c).reshape(n, c, h, w)


def _filter_matrix(n: int, k1d: torch.Tensor) -> torch.Tensor:
    """(n, n) matrix M with M @ x = 1-D correlation of x with k1d, borders as `_pad` (reflect, else replicate)."""
    k, p = k1d.numel(), k1d.numel() // 2
    j = torch.arange(n).unsqueeze(1) + torch.arange(k) - p  # input index of tap t for output i
    if p < n:
        j = j.abs()
        j = torch.where(j > n - 1, 2 * (n - 1) - j, j)
    else:
        j = j.clamp(0, n - 1)
    m = torch.zeros(n, n, dtype=torch.float64)
    m.index_put_((torch.arange(n).unsqueeze(1).expand(n, k), j), k1d.double().expand(n, k), accumulate=True)
    return m


def _separable(img: torch.Tensor, k1d: torch.Tensor) -> torch.Tensor:
    """Filter with the outer product of a 1-D kernel as two matrix products (the borders folded into the matrices)."""
    h, w = img.shape[-2:]
    mh, mw = _filter_matrix(h, k1d).to(img.dtype), _filter_matrix(w, k1d).to(img.dtype)
    return mh @ img @ mw.T


def gaussian_1d(size: int, sigma: float = 0.0) -> torch.Tensor:
    """OpenCV's getGaussianKernel: sigma <= 0 means 0.3 ((size - 1) / 2 - 1) + 0.8, as BasicSR's USMSharp uses."""
    size = _check_size(size)
    if sigma <= 0:
        sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    x = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return (g / g.sum()).float()


def usm_sharpen(img: torch.Tensor, weight: float = 0.5, radius: int = 50, threshold: float = 10) -> torch.Tensor:
    """Unsharp masking of (N, 3, H, W) images in [0, 1], as BasicSR's USMSharp (Real-ESRGAN's sharpened targets).

    sharp = clip(I + weight (I - G*I)), applied where |I - G*I| exceeds threshold/255, the mask softened by the
    same Gaussian G (size radius, made odd; sigma from OpenCV's rule). Real-ESRGAN trains its L1 and
    perceptual losses on these targets (train_realesrgan_x4plus.yml: l1_gt_usm, percep_gt_usm).
    """
    if img.dim() != 4:
        raise SrlibError(f"usm_sharpen takes (N, C, H, W) images, got shape {tuple(img.shape)}.")
    radius = int(radius) + (int(radius) % 2 == 0)
    g = gaussian_1d(radius)
    residual = img - _separable(img, g)
    mask = (residual.abs() * 255 > threshold).to(img.dtype)
    soft = _separable(mask, g)
    sharp = (img + weight * residual).clamp(0, 1)
    return soft * sharp + (1 - soft) * img
