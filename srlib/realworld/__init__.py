"""Real-world degradations: Real-ESRGAN's second-order model and BSRGAN's shuffled order, seeded, on tensors."""
from .kernels import KERNEL_TYPES, bivariate_kernel, filter2d, gaussian_1d, sinc_kernel, usm_sharpen
from .noise import add_gaussian_noise, add_poisson_noise, jpeg_compress
from .pipeline import (BSRGAN_OPS, ORDERS, RESIZE_MODES, SECOND_PASS, PassOptions, RealESRGANOptions, degrade_realesrgan,
                       degrade_realesrgan_steps, draw_kernel, make_kernel)

__all__ = [
    "BSRGAN_OPS", "KERNEL_TYPES", "ORDERS", "RESIZE_MODES", "SECOND_PASS", "PassOptions", "RealESRGANOptions",
    "add_gaussian_noise", "add_poisson_noise", "bivariate_kernel", "degrade_realesrgan", "degrade_realesrgan_steps",
    "draw_kernel", "filter2d", "gaussian_1d", "jpeg_compress", "make_kernel", "sinc_kernel", "usm_sharpen",
]
