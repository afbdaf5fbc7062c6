"""The five comparison widgets: state prepared once in Python, every move handled in the browser.

Each class is an `anywidget.AnyWidget` whose front end is one ES module in
`js/` (plus the shared `js/widgets.css`). The images travel once, as lossless
WebP bytes in binary traits; the browser stacks them, clips, crops and enlarges
them (`image-rendering: pixelated`) itself, so nothing goes back to the kernel
while a learner drags, and the saved widget state works in a static HTML page.
The controls' positions are synced back (`position`, `center`, `zoom`, `index`,
`value`, `selection`) so Python can read or set them.
"""
from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

import anywidget
import numpy as np
import traitlets as t
from tqdm.auto import tqdm

from ..errors import SrlibError
from ..metrics import as_hwc, psnr
from .compose import LINE_COLOR, as_display, common_size, encode_webp, match_size, to_send

JS = Path(__file__).with_name("js")


def _read(name: str) -> str:
    return (JS / name).read_text(encoding="utf-8")


def _module(name: str) -> str:
    """A widget's ES module: the shared helpers (js/common.js), then its own code; anywidget takes one module."""
    return _read("common.js") + "\n" + _read(name)


class Comparison(anywidget.AnyWidget):
    """What every widget shares: images (sent once), their names, the size they are shown at, the width."""

    _css = _read("widgets.css")
    images = t.List(t.Bytes()).tag(sync=True)
    names = t.List(t.Unicode()).tag(sync=True)
    size = t.List(t.Int(), minlen=2, maxlen=2, default_value=[1, 1]).tag(sync=True)  # (height, width) shown
    width = t.Int(0).tag(sync=True)  # displayed width in CSS pixels; 0: the image's own width

    @classmethod
    def of(cls, images: Mapping[str, object], **traits):
        """A widget showing `images` ({name: image}) at their common size, each encoded once."""
        sent, size = to_send(images)
        return cls(images=[encode_webp(a) for a in sent.values()], names=list(sent), size=list(size), **traits)


class BeforeAfter(Comparison):
    _esm = _module("before_after.js")
    position = t.Float(50.0).tag(sync=True)  # the split, in % of the width
    line_width = t.Int(1).tag(sync=True)  # image pixels
    line_color = t.Unicode("rgb({}, {}, {})".format(*LINE_COLOR)).tag(sync=True)


class ZoomViewer(Comparison):
    _esm = _module("zoom_viewer.js")
    zoom = t.Int(4).tag(sync=True)
    panel = t.Int(192).tag(sync=True)  # CSS pixels a panel spans at most
    center = t.List(t.Int(), minlen=2, maxlen=2, default_value=[0, 0]).tag(sync=True)  # (y, x) in the shown size
    overview = t.Bool(True).tag(sync=True)
    overview_width = t.Int(256).tag(sync=True)
    line_color = t.Unicode("rgb({}, {}, {})".format(*LINE_COLOR)).tag(sync=True)


class ModelToggle(Comparison):
    _esm = _module("model_toggle.js")
    texts = t.List(t.Unicode()).tag(sync=True)  # the line shown under each image (its PSNR)
    index = t.Int(0).tag(sync=True)


class InterpolationSlider(Comparison):
    """`images` are the precomputed frames, at `alphas`; `live` lets the browser ask for the positions between."""

    _esm = _module("interpolation_slider.js")
    alphas = t.List(t.Float()).tag(sync=True)
    labels = t.List(t.Unicode()).tag(sync=True)
    value = t.Float(0.0).tag(sync=True)
    live = t.Bool(False).tag(sync=True)
    fine = t.Int(10).tag(sync=True)  # live positions per precomputed step

    def __init__(self, render: Callable[[float], object] | None = None, **traits):
        super().__init__(**traits)
        self._render = render
        self._frames: dict[float, bytes] = {}
        self.on_msg(self._on_msg)

    def snap(self, alpha: float) -> float:
        """The nearest position the slider offers (the fine grid in live mode)."""
        n = (len(self.alphas) - 1) * (self.fine if self.live else 1)
        return round(round(min(max(float(alpha), 0.0), 1.0) * n) / n, 10)

    def answer(self, content: dict) -> tuple[dict, list[bytes]]:
        """The reply to the front end's {"type": "render", "alpha": a}: the frame at snap(a), or why not."""
        alpha = self.snap(content.get("alpha", 0.0))
        if not self.live or self._render is None:
            return {"type": "error", "alpha": alpha, "message": "this slider is not live: only its precomputed frames"}, []
        start = time.perf_counter()
        try:
            if alpha not in self._frames:
                self._frames[alpha] = encode_webp(_fit(self._render(alpha), tuple(self.size)))
        except Exception as e:  # shown in the widget: an error in a message handler is otherwise invisible
            return {"type": "error", "alpha": alpha, "message": f"render({alpha:.2f}) failed: {type(e).__name__}: {e}"}, []
        return {"type": "frame", "alpha": alpha, "seconds": round(time.perf_counter() - start, 3)}, [self._frames[alpha]]

    def _on_msg(self, _widget, content, _buffers):
        if isinstance(content, dict) and content.get("type") == "render":
            reply, buffers = self.answer(content)
            self.send(reply, buffers)


class GridExplorer(Comparison):
    """`images` are the runs; `cells` maps each combination (row-major over `axes`) to one of them, or -1."""

    _esm = _module("grid_explorer.js")
    axes = t.List(t.Dict()).tag(sync=True)  # [{"name": ..., "values": [button labels]}]
    cells = t.List(t.Int()).tag(sync=True)
    titles = t.List(t.Unicode()).tag(sync=True)
    captions = t.List(t.Unicode()).tag(sync=True)
    fixed = t.List(t.Bytes()).tag(sync=True)
    fixed_names = t.List(t.Unicode()).tag(sync=True)
    selection = t.List(t.Int()).tag(sync=True)  # one value index per axis


def _fit(img, size: tuple[int, int]) -> np.ndarray:
    """A rendered frame at the slider's size (a smaller scaled copy is enlarged, nearest neighbour)."""
    a = as_display(img)
    common_size({"frame": a, "first frame": np.zeros((*size, 3), np.uint8)})
    if a.shape[0] > size[0]:
        raise SrlibError(f"render gave a {a.shape[1]}x{a.shape[0]} image, larger than the first frames "
                         f"({size[1]}x{size[0]}): every alpha must give an image of one size.")
    return match_size(a, size)


def before_after(left, right, labels=("bicubic", "HR"), width: int | None = None, position: int = 50,
                 line_width: int | None = None):
    """A before/after wiper: `left` left of the split, `right` right of it; drag the line (or arrow keys) to move it.

    The smaller image (e.g. an LR input) is enlarged with nearest neighbour to
    the larger one's size. `width` sets the displayed width in pixels (default:
    the image's own); `position` is the split in % of the width; `line_width`
    is in image pixels (default: width / 256).
    """
    left_label, right_label = str(labels[0]), str(labels[1])
    sent, size = to_send({"left": left, "right": right})
    lw = line_width if line_width is not None else max(1, size[1] // 256)
    return BeforeAfter(images=[encode_webp(a) for a in sent.values()], names=[left_label, right_label], size=list(size),
                       width=int(width or 0), position=min(max(float(position), 0.0), 100.0), line_width=max(int(lw), 0))


def zoom_viewer(images: Mapping[str, object], zoom: int = 4, panel: int = 192, center: tuple[int, int] | None = None,
                overview: bool = True, overview_width: int = 256):
    """The same region of every image side by side, enlarged with nearest neighbour.

    images: {label: image}; smaller images (LR) are shown enlarged to the
    largest one's size, so coordinates are those of the largest (HR) image.
    Drag a panel (or the arrow keys) to pan, the wheel (or + / -) to zoom
    (1 to 16 times); every panel follows. Each panel shows a (panel // zoom)-pixel
    square at `zoom` times. With `overview`, the first image is shown whole
    (`overview_width` pixels wide) with the region outlined; click it to move there.
    """
    widget = ZoomViewer.of(images, zoom=min(max(int(zoom), 1), 16), panel=max(int(panel), 1), overview=bool(overview),
                           overview_width=max(int(overview_width), 1))
    hh, ww = widget.size
    cy, cx = center if center is not None else (hh // 2, ww // 2)
    widget.center = [min(max(int(cy), 0), hh - 1), min(max(int(cx), 0), ww - 1)]
    return widget


def model_toggle(images: Mapping[str, object], reference=None, crop: int = 4, width: int | None = None):
    """Buttons (or number keys 1..N) choosing which image is shown (e.g. bicubic / model A / model B / HR).

    reference: None, the label of one of `images`, or an image. When given, the
    line under the image gives each image's PSNR against it (Y channel, `crop`
    border pixels removed, as in the literature: pass the scale). Images smaller
    than the reference (LR) are shown enlarged but get no PSNR.
    """
    if not images:
        raise SrlibError("model_toggle needs at least one image.")
    originals = {str(k): v for k, v in images.items()}
    names = list(originals)
    ref_name, ref = None, None
    if isinstance(reference, str):
        if reference not in originals:
            raise SrlibError(f"reference {reference!r} is not one of the images: {', '.join(names)}.")
        ref_name, ref = reference, originals[reference]
    elif reference is not None:
        ref_name, ref = "reference", reference

    def describe(name: str) -> str:
        if ref is None:
            return name
        a, b = as_hwc(originals[name]), as_hwc(ref)
        if name == ref_name:
            return f"{name} is the reference"
        if a.shape[:2] != b.shape[:2]:
            return f"{name}: {a.shape[1]}x{a.shape[0]}, not the reference's size, so no PSNR (shown enlarged)"
        return f"{name}: PSNR {psnr(originals[name], ref, crop=crop):.2f} dB vs {ref_name} (Y channel, border {crop} px)"

    return ModelToggle.of(originals, texts=[describe(n) for n in names], width=int(width or 0))


def interpolation_slider(render: Callable[[float], object], labels=("PSNR", "GAN"), steps: int = 11, value: float = 0.0,
                         width: int | None = None, live: bool = False):
    """A slider alpha in [0, 1] (`steps` positions) showing `render(alpha)`.

    Made for network interpolation (ESRGAN: weights (1 - alpha) * PSNR model +
    alpha * GAN model), but `render` can be any function alpha -> image. Every
    position is rendered here, once, before the widget shows (a progress bar
    counts them), so scrubbing is instant, also in a saved page. `live=True`
    adds ten positions per step, which the browser asks the kernel to render
    when the slider stops there (with no kernel: the nearest precomputed frame).
    """
    steps = int(steps)
    if steps < 2:
        raise SrlibError(f"interpolation_slider needs at least 2 steps (the two ends), got {steps}.")
    alphas = [round(i / (steps - 1), 10) for i in range(steps)]
    frames = {}
    for alpha in tqdm(alphas, desc="rendering alpha", leave=False):
        try:
            frames[f"{alpha:.10g}"] = render(alpha)
        except Exception as e:
            raise SrlibError(f"render({alpha:.2f}) failed: {type(e).__name__}: {e}") from e
    sent, size = to_send(frames)
    widget = InterpolationSlider(render, images=[encode_webp(a) for a in sent.values()], names=list(sent),
                                 size=list(size), alphas=alphas, labels=[str(labels[0]), str(labels[1])],
                                 live=bool(live), width=int(width or 0))
    widget.value = widget.snap(value)
    return widget


def _format_value(v) -> str:
    """A grid value as a button label: numbers in short form (0.005 -> 0.005, 1e-05 -> 1e-05), the rest as text."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v:g}"
    return str(v)


def grid_explorer(images: Mapping[object, object], names: Sequence[str], captions: Mapping[object, str] | None = None,
                  fixed: Mapping[str, object] | None = None, width: int | None = None):
    """Explore a grid of precomputed results (e.g. short training runs) with one row of buttons per axis.

    images: {(v1, v2, ...): image}, one entry per run, keyed by its settings
    (plain values for a one-axis grid); names: one label per key position, e.g.
    ("adversarial weight", "feature matching weight"); captions: {key: text}
    shown under the image (its metrics); fixed: {label: image} shown beside it
    for reference (HR, the starting model). All images are shown at one size
    (smaller ones enlarged with nearest neighbour). A combination that was not
    run shows a grey panel and says so.
    """
    if not images:
        raise SrlibError("grid_explorer needs at least one result.")
    names = [str(n) for n in ([names] if isinstance(names, str) else names)]
    keys = {(k if isinstance(k, tuple) else (k,)): k for k in images}
    lengths = {len(k) for k in keys}
    if len(lengths) != 1:
        raise SrlibError(f"every key must name one value per axis; got keys of lengths {sorted(lengths)}.")
    if lengths != {len(names)}:
        raise SrlibError(f"{len(names)} axis name(s) {names} for keys with {lengths.pop()} value(s), e.g. "
                         f"{next(iter(images))!r}: give one name per value.")
    captions = dict(captions or {})
    unknown = [k for k in captions if (k if isinstance(k, tuple) else (k,)) not in keys]
    if unknown:
        raise SrlibError(f"captions for settings that have no image: {', '.join(map(repr, unknown))}.")
    fixed = {str(k): v for k, v in (fixed or {}).items()}
    sent, size = to_send({**{f"grid:{i}": images[k] for i, k in enumerate(keys.values())},
                          **{f"fixed:{k}": v for k, v in fixed.items()}})

    axes = []
    for i in range(len(names)):
        values = list(dict.fromkeys(k[i] for k in keys))
        try:
            values.sort()
        except TypeError:  # values that do not compare (mixed types) keep their order of appearance
            pass
        axes.append(values)
    order = {key: i for i, key in enumerate(keys)}
    cells, titles, texts = [], [], []
    for key in itertools.product(*axes):
        settings = ", ".join(f"{n} = {_format_value(v)}" for n, v in zip(names, key))
        cells.append(order.get(key, -1))
        titles.append(", ".join(_format_value(v) for v in key))
        text = captions.get(keys[key], captions.get(key, "")) if key in keys else None
        texts.append(f"no run with {settings} in this grid" if text is None else f"{settings}: {text}" if text else settings)
    first = next(iter(keys))
    return GridExplorer(
        images=[encode_webp(sent[f"grid:{i}"]) for i in range(len(keys))], names=[", ".join(map(_format_value, k)) for k in keys],
        size=list(size), width=int(width or 0), cells=cells, titles=titles, captions=texts,
        axes=[{"name": n, "values": [_format_value(v) for v in vs]} for n, vs in zip(names, axes)],
        fixed=[encode_webp(sent[f"fixed:{k}"]) for k in fixed], fixed_names=list(fixed),
        selection=[vs.index(v) for vs, v in zip(axes, first)])
