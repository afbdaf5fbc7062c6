"""PSNR-oriented training: a generator, a pixel loss, Adam and a one-cycle schedule (warm-up, then cosine).

The loop is deliberately plain (notebook 02 walks through it): draw a batch of
aligned patches, predict, measure the pixel loss, step. Batches come straight
from the in-memory patch set, so there is no DataLoader overhead per step.
"""
from __future__ import annotations

import time

import torch
from tqdm.auto import tqdm

from ..data.patches import PairedPatchDataset
from ..errors import SrlibError
from ..losses.content import charbonnier_loss, l1_loss, mse_loss
from .device import pick_device, seed_everything
from .schedule import lr_lambda

PIXEL_LOSSES = {"l1": l1_loss, "mse": mse_loss, "charbonnier": charbonnier_loss}


def train_psnr(model: torch.nn.Module, patches: PairedPatchDataset, steps: int, batch_size: int = 16,
               lr: float = 1e-3, loss: str = "l1", seed: int = 0, device: str = "auto",
               progress: bool = True, live=None) -> dict[str, list[float]]:
    """Train `model` in place with a pixel loss; returns the history (step, loss, lr, seconds).

    live: an optional srlib.viz.LivePlot that receives the loss every step.
    """
    if loss not in PIXEL_LOSSES:
        raise SrlibError(f"unknown pixel loss {loss!r}; choose one of {', '.join(PIXEL_LOSSES)}.")
    if steps < 1:
        raise SrlibError(f"steps must be at least 1, got {steps}.")
    seed_everything(seed)
    dev = pick_device(device)
    model.to(dev).train()
    if dev.type != "mps":
        model.to(memory_format=torch.channels_last)
    criterion = PIXEL_LOSSES[loss]
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda("onecycle", steps))
    history: dict[str, list[float]] = {"step": [], "loss": [], "lr": [], "seconds": []}
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=f"training ({loss})", disable=not progress)
    for step in bar:
        lr_batch, hr_batch = patches.batch(range(step * batch_size, (step + 1) * batch_size))
        lr_batch = lr_batch.to(dev).contiguous(memory_format=torch.channels_last)
        value = criterion(model(lr_batch), hr_batch.to(dev))
        if not torch.isfinite(value):
            raise SrlibError(f"the {loss} loss became {value.item()} at step {step}; lower the learning rate (now {lr}).")
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        sched.step()
        v = value.item()
        for k, x in zip(history, (step, v, sched.get_last_lr()[0], time.perf_counter() - start)):
            history[k].append(x)
        if step % 10 == 0:
            bar.set_postfix(loss=f"{v:.4f}")
        if live is not None:
            live.update(step, **{loss: v})
    if live is not None:
        live.close()
    model.eval()
    return history
