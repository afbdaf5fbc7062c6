"""Content losses: pixel distances, total variation and discriminator feature matching.

Pixel losses compare SR with HR pixel by pixel; they reward the average of the
plausible answers, hence blur. Feature matching compares the discriminator's
intermediate activations instead, a perceptual loss that needs no pretrained network.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from ..errors import SrlibError

Tensor = torch.Tensor


def _nhwc_views(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """(a, b), seen as NHWC when `a` is a channels_last batch, for a loss that reduces them to a mean.

    A mean's backward hands its input an NCHW-contiguous gradient whatever the
    input's layout, so on the channels_last batches the trainer uses, every layer
    behind the loss meets mixed layouts and slows down (leaky_relu's backward on
    a 16x16x96x96 map: 7 ms with an NCHW gradient, 0.3 ms with a channels_last
    one; bench train: a srgan_x4 cpu step about 8 % faster). Through the NHWC
    view the gradient comes back channels_last. The value is the same: the
    permute is a view, and the mean takes every element.
    """
    if a.dim() == 4 and b.dim() == 4 and not a.is_contiguous() and a.is_contiguous(memory_format=torch.channels_last):
        return a.permute(0, 2, 3, 1), b.permute(0, 2, 3, 1)
    return a, b


class _MeanDistance(torch.autograd.Function):
    """mean |a - b| (p=1) or mean (a - b)^2 (p=2): two passes over the data forward, two backward (three
    when both inputs need a gradient).

    F.l1_loss and F.mse_loss run as sub, abs/pow, mean forward and mean, abs/pow,
    sub backward: three passes forward and three or four backward. Here the difference is
    kept from the forward and reused by the backward; gradients are
    the same to the last bit (tests/test_losses.py). Feature matching on the eight
    discriminator maps of a srgan_x4 cpu step, forward and backward: 13-15 ms with
    F.l1_loss, 6-7 ms here (2 threads). Not twice differentiable (nothing in srlib needs it).
    """

    @staticmethod
    def forward(ctx, a, b, p):
        with torch.autocast(a.device.type, enabled=False):
            d = torch.sub(a, b)
            value = torch.linalg.vector_norm(d, 1) if p == 1 else torch.dot(d.reshape(-1), d.reshape(-1))
        ctx.save_for_backward(d)
        ctx.p = p
        return value / d.numel()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        n = d.numel()  # the same operations, in the same order, as torch's backward of each loss
        g = torch.sign(d).mul_(grad / n) if ctx.p == 1 else torch.mul(d, 2.0 / n).mul_(grad)
        return g if ctx.needs_input_grad[0] else None, -g if ctx.needs_input_grad[1] else None, None


def _mean_distance(a: Tensor, b: Tensor, p: int) -> Tensor:
    if a.shape != b.shape or not (a.is_floating_point() and b.is_floating_point()):
        return (F.l1_loss if p == 1 else F.mse_loss)(a, b)  # broadcasting and odd types: torch's own message
    dtype = torch.promote_types(torch.promote_types(a.dtype, b.dtype), torch.float32)
    a, b = a.to(dtype), b.to(dtype)  # bf16 features under autocast are measured in fp32, as autocast runs F.l1_loss
    return _MeanDistance.apply(*_nhwc_views(a, b), p)


def l1_loss(sr: Tensor, hr: Tensor) -> Tensor:
    """Mean absolute error; the median of the plausible answers, a little less blurry than MSE."""
    return _mean_distance(sr, hr, 1)


def mse_loss(sr: Tensor, hr: Tensor) -> Tensor:
    """Mean squared error; minimising it maximises PSNR and gives the mean of the plausible answers."""
    return _mean_distance(sr, hr, 2)


def charbonnier_loss(sr: Tensor, hr: Tensor, eps: float = 1e-3) -> Tensor:
    """mean sqrt((sr - hr)^2 + eps^2): L1 for large errors, smooth (differentiable) at zero."""
    sr, hr = _nhwc_views(sr, hr)
    return torch.sqrt((sr - hr).pow(2) + eps**2).mean()


def tv_loss(img: Tensor) -> Tensor:
    """Anisotropic total variation: mean |vertical neighbour difference| + mean |horizontal one|.

    Small for smooth images; a 0/1 checkerboard scores 2.
    """
    if img.dim() < 2 or img.shape[-1] < 2 or img.shape[-2] < 2:
        raise SrlibError(f"tv_loss needs an image of at least 2x2 pixels; got shape {tuple(img.shape)}.")
    dy = (img[..., 1:, :] - img[..., :-1, :]).abs().mean()
    dx = (img[..., :, 1:] - img[..., :, :-1]).abs().mean()
    return dy + dx


def feature_matching_loss(fake_feats: Sequence[Tensor], real_feats: Sequence[Tensor]) -> Tensor:
    """Mean over layers of the L1 distance between D's features of SR and of HR (real ones detached).

    The idea is Salimans et al.'s (2016), who matched batch means; SR has a paired
    HR for every output, so features are matched per sample, as in pix2pixHD.
    Pass the lists that a discriminator's `features(x)` returns.
    """
    if len(fake_feats) != len(real_feats):
        raise SrlibError(f"feature_matching_loss got {len(fake_feats)} fake and {len(real_feats)} real feature maps; "
                         "pass D.features(sr) and D.features(hr) from the same discriminator.")
    if not fake_feats:
        raise SrlibError("feature_matching_loss got no feature maps; D.features(x) must return at least one tensor.")
    return torch.stack([l1_loss(f, r.detach()) for f, r in zip(fake_feats, real_feats)]).mean()
