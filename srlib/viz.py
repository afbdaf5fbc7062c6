"""Figures the notebooks share: image grids and zoomed crops."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .metrics import as_hwc


def _show(ax, img, title: str = "") -> None:
    a = np.clip(as_hwc(img), 0, 1)
    ax.imshow(a[..., 0] if a.shape[2] == 1 else a, cmap="gray" if a.shape[2] == 1 else None, vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()


def show_images(images, titles=None, ncols: int | None = None, size: float = 3.2):
    """Show images (arrays or tensors in [0, 1]) side by side; returns the figure."""
    images = list(images)
    titles = list(titles) if titles is not None else [""] * len(images)
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, img, t in zip(axes.ravel(), images, titles):
        _show(ax, img, t)
    fig.tight_layout()
    return fig


def crop(img, box):
    """Crop (top, left, height, width) from an HWC array or a CHW/NCHW tensor."""
    top, left, h, w = box
    if isinstance(img, torch.Tensor):
        return img[..., top : top + h, left : left + w]
    return img[top : top + h, left : left + w]


def zoom_compare(images, titles, box, size: float = 3.2):
    """The first image with `box` (top, left, height, width) outlined, then that crop of every image.

    Images of a smaller size (LR inputs) are shown enlarged with nearest
    neighbour, so each pixel stays visible.
    """
    ref_h = as_hwc(images[0]).shape[0]
    fig, axes = plt.subplots(1, len(images) + 1, figsize=(size * (len(images) + 1), size), squeeze=False)
    axes = axes[0]
    _show(axes[0], images[0], titles[0] + " (full)")
    top, left, h, w = box
    axes[0].add_patch(plt.Rectangle((left, top), w, h, fill=False, edgecolor="yellow", linewidth=2))
    for ax, img, t in zip(axes[1:], images, titles):
        a = as_hwc(img)
        f = a.shape[0] / ref_h
        b = (int(round(top * f)), int(round(left * f)), max(1, int(round(h * f))), max(1, int(round(w * f))))
        _show(ax, crop(a, b), t)
    fig.tight_layout()
    return fig


class LivePlot:
    """A loss curve that redraws in place while a loop runs (in Jupyter; a no-op elsewhere).

    Call `update(step, **values)` as often as you like; it redraws every
    `every` steps. `close()` draws the final state once more.
    """

    def __init__(self, title: str = "training", every: int = 50, logy: bool = True):
        self.title, self.every, self.logy = title, every, logy
        self.steps: list[int] = []
        self.values: dict[str, list[float]] = {}
        self._handle = None
        try:
            from IPython import get_ipython

            self.enabled = get_ipython() is not None and "IPKernelApp" in get_ipython().config
        except ImportError:
            self.enabled = False

    def update(self, step: int, **values: float) -> None:
        self.steps.append(step)
        for k, v in values.items():
            self.values.setdefault(k, []).append(float(v))
        if self.enabled and step % self.every == 0:
            self._draw()

    def figure(self):
        fig, ax = plt.subplots(figsize=(6, 3.2))
        for k, v in self.values.items():
            ax.plot(self.steps[: len(v)], v, label=k, linewidth=1)
        ax.set_xlabel("step")
        ax.set_title(self.title)
        if self.logy:
            ax.set_yscale("log")
        ax.legend(loc="upper right")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        return fig

    def _draw(self) -> None:
        from IPython.display import display

        fig = self.figure()
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)

    def close(self) -> None:
        if self.enabled and self.steps:
            self._draw()
