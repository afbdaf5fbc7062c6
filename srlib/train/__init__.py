"""Training: devices and seeds, PSNR-oriented training (adversarial training comes with notebook 05)."""
from .device import pick_device, seed_everything
from .pixel import PIXEL_LOSSES, train_psnr

__all__ = ["PIXEL_LOSSES", "pick_device", "seed_everything", "train_psnr"]
