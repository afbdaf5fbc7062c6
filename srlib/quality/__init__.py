"""Perceptual quality measures that need no download: NIQE, sliced Wasserstein distance, LPIPS where present.

PSNR and SSIM (srlib.metrics) score distortion against the HR image; these
score how natural an output looks (NIQE, no reference) or how close its
texture statistics are to HR's (SWD), the other axis of the
perception-distortion plane.
"""
from .lpips import lpips, lpips_status
from .niqe import mscn, niqe
from .swd import SwdResult, swd

__all__ = ["SwdResult", "lpips", "lpips_status", "mscn", "niqe", "swd"]
