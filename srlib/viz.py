"""Figures the notebooks share: image grids, zoomed crops, training histories."""
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


# the panels of a GAN run's history: (title, keys or a key prefix, log scale)
# (a prefix panel leaves out keys that another panel names)
GAN_PANELS = (("generator loss terms", "loss_", True),
              ("discriminator: loss, D(x) real, D(G(z)) fake", ("loss_d", "d_real", "d_fake"), False),
              ("validation PSNR (dB)", ("val_psnr",), False))


def smooth(values, window: int) -> np.ndarray:
    """Running mean over `window` points (shorter at the start), for noisy per-step curves."""
    v = np.asarray(values, dtype=np.float64)
    if window <= 1 or v.size == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, v.size + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def _series(rows, keys, exclude=()) -> dict[str, tuple[list, list]]:
    """key -> (steps, values) for the keys (a tuple, or a prefix string) found in the rows."""
    out: dict[str, tuple[list, list]] = {}
    for row in rows:
        for k, v in row.items():
            if k != "step" and k not in exclude and (k.startswith(keys) if isinstance(keys, str) else k in keys):
                steps, values = out.setdefault(k, ([], []))
                steps.append(row.get("step", len(steps)))
                values.append(float(v))
    return out


def plot_history(history, panels=GAN_PANELS, title: str = "", window: int = 20, size=(4.2, 3.0)):
    """Panels of a training history (Trainer.history rows): loss terms, D's outputs, validation PSNR.

    Per-step curves are drawn faint, with a running mean of `window` steps on top.
    Panels with nothing to show are left out.
    """
    named = {k for _, keys, _ in panels if not isinstance(keys, str) for k in keys}
    filled = [(t, _series(history, keys, named if isinstance(keys, str) else ()), logy) for t, keys, logy in panels]
    filled = [p for p in filled if p[1]]
    if not filled:
        raise ValueError("nothing to plot: the history has none of the panels' keys.")
    fig, axes = plt.subplots(1, len(filled), figsize=(size[0] * len(filled), size[1]), squeeze=False)
    for ax, (t, series, logy) in zip(axes[0], filled):
        for i, (k, (steps, values)) in enumerate(series.items()):
            color = f"C{i}"
            if len(values) > 2 * window and window > 1:
                ax.plot(steps, values, color=color, alpha=0.25, linewidth=0.7)
                ax.plot(steps, smooth(values, window), color=color, label=k, linewidth=1.4)
            else:
                ax.plot(steps, values, color=color, label=k, linewidth=1.2, marker="o" if len(values) < 20 else None)
        if logy and all(v > 0 for _, vals in series.values() for v in vals):
            ax.set_yscale("log")
        ax.set_title(t, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


class LivePlot:
    """Curves that redraw in place while a loop runs (in Jupyter; a no-op elsewhere).

    Call `update(step, **values)` as often as you like; it redraws every
    `every` steps. `close()` draws the final state once more. With `panels`
    (see GAN_PANELS) the values are split over several axes; without, one
    axis shows them all.
    """

    def __init__(self, title: str = "training", every: int = 50, logy: bool = True, panels=None, window: int = 1):
        self.title, self.every, self.window = title, every, window
        self.panels = panels if panels is not None else ((title, "", logy),)
        self.rows: list[dict] = []
        self._handle = None
        try:
            from IPython import get_ipython

            self.enabled = get_ipython() is not None and "IPKernelApp" in get_ipython().config
        except ImportError:
            self.enabled = False

    @classmethod
    def for_gan(cls, title: str = "GAN training", every: int = 50) -> "LivePlot":
        """Loss terms, D(x) and D(G(z)), validation PSNR: what to watch in a GAN run."""
        return cls(title, every, panels=GAN_PANELS, window=20)

    @property
    def steps(self) -> list[int]:
        return [r["step"] for r in self.rows]

    @property
    def values(self) -> dict[str, list[float]]:
        return {k: v for k, (_, v) in _series(self.rows, "").items()}

    def update(self, step: int, **values: float) -> None:
        self.rows.append({"step": step, **{k: float(v) for k, v in values.items()}})
        if self.enabled and step % self.every == 0:
            self._draw()

    def figure(self):
        return plot_history(self.rows, self.panels, title=self.title if len(self.panels) > 1 else "",
                            window=self.window, size=(6, 3.2) if len(self.panels) == 1 else (4.2, 3.0))

    def _draw(self) -> None:
        from IPython.display import display

        fig = self.figure()
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)

    def close(self) -> None:
        if self.enabled and self.rows:
            self._draw()
