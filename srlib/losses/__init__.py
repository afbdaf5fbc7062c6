"""Losses for super-resolution GANs: adversarial (on logits), content (pixel, TV, feature matching), perceptual (VGG19)."""
from .adversarial import (
    ADVERSARIAL,
    AdversarialLoss,
    get_adversarial,
    gradient_penalty,
    hinge_d_loss,
    hinge_g_loss,
    lsgan_d_loss,
    lsgan_g_loss,
    minimax_d_loss,
    minimax_g_loss,
    nonsaturating_g_loss,
    relativistic_d_loss,
    relativistic_g_loss,
    seed_d_loss,
    seed_g_loss,
    wgan_d_loss,
    wgan_g_loss,
)
from .content import charbonnier_loss, feature_matching_loss, l1_loss, mse_loss, tv_loss
from .perceptual import VGG19_LAYERS, VGG19_URL, PerceptualLoss, vgg19_available, vgg19_weights_path

__all__ = [
    "ADVERSARIAL", "AdversarialLoss", "get_adversarial", "gradient_penalty",
    "hinge_d_loss", "hinge_g_loss", "lsgan_d_loss", "lsgan_g_loss", "minimax_d_loss", "minimax_g_loss",
    "nonsaturating_g_loss", "relativistic_d_loss", "relativistic_g_loss", "seed_d_loss", "seed_g_loss",
    "wgan_d_loss", "wgan_g_loss",
    "charbonnier_loss", "feature_matching_loss", "l1_loss", "mse_loss", "tv_loss",
    "VGG19_LAYERS", "VGG19_URL", "PerceptualLoss", "vgg19_available", "vgg19_weights_path",
]
