"""Training: devices and seeds, the PSNR loop of notebook 02, and the full trainer (PSNR and GAN)."""
from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig, load_recipe, recipe_names, recipe_run, run_size
from .device import pick_device, seed_everything
from .ema import EMA
from .pixel import PIXEL_LOSSES, train_psnr
from .trainer import Trainer, TrainingDiverged

__all__ = [
    "EMA", "PIXEL_LOSSES", "TrainConfig", "Trainer", "TrainingDiverged", "load_checkpoint", "load_recipe",
    "pick_device", "recipe_names", "recipe_run", "run_size", "save_checkpoint", "seed_everything", "train_psnr",
]
