"""Interactive comparisons for the notebooks, built from plain ipywidgets.

Everything here works in JupyterLab 4 (and classic Notebook 7, VS Code) with no
custom JavaScript: each view is an `ipywidgets.Image` whose value is a PNG that
Python composes with numpy whenever a slider or toggle changes. The widgets need
a live kernel; in an exported HTML page they show their first state at best.

Two layers:

* small pure functions on arrays (`as_display`, `enlarge`, `match_size`,
  `common_size`, `wipe`, `crop_box`, `zoom_crop`, `draw_box`, `encode_png`,
  `decode_png`) that unit tests check pixel by pixel;
* five widget factories that wire them to controls and return an ipywidgets
  container for the notebook to display:

  - `before_after(left, right)`: a wiper; the slider moves the split line;
  - `zoom_viewer({"name": img, ...})`: the same region of every image, enlarged;
  - `model_toggle({"name": img, ...}, reference=...)`: flip between images, PSNR shown;
  - `interpolation_slider(render)`: alpha in [0, 1] -> `render(alpha)`, cached;
  - `grid_explorer({(w1, w2): img, ...}, names)`: one toggle per axis picks a precomputed result.

Images are (H, W, 3) or (H, W) arrays in [0, 1], uint8 arrays, or tensors
((1, 3, H, W) or (3, H, W)) in [0, 1]. An LR-sized image shown next to a larger
one is enlarged with nearest neighbour, so that its pixels stay visible.
"""
from __future__ import annotations

import html
import io
import time
from typing import Callable, Mapping, Sequence

import numpy as np
from PIL import Image as PILImage

from .errors import SrlibError
from .metrics import as_hwc, psnr

Box = tuple[int, int, int, int]  # (top, left, height, width)
LINE_COLOR = (255, 214, 0)  # a yellow that reads on dark and light images

__all__ = [
    "as_display", "before_after", "common_size", "crop_box", "decode_png", "draw_box", "encode_png", "enlarge",
    "grid_explorer", "interpolation_slider", "match_size", "model_toggle", "wipe", "zoom_crop", "zoom_viewer",
]


# ---------------------------------------------------------------- pure image composition


def as_display(img) -> np.ndarray:
    """Any course image -> (H, W, 3) uint8 array, ready to show.

    Floats (arrays or tensors) must be in [0, 1] (`srlib.metrics.as_hwc` checks
    them and uint16); they are clipped and rounded. uint8 arrays pass through;
    grayscale becomes RGB.
    """
    if isinstance(img, np.ndarray) and img.dtype == np.uint8:
        a = img[..., None] if img.ndim == 2 else img
        if a.ndim != 3 or a.shape[2] not in (1, 3):
            raise SrlibError(f"expected an RGB or grayscale image, got shape {img.shape}.")
    else:
        a = np.clip(np.round(as_hwc(img) * 255.0), 0, 255).astype(np.uint8)
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    return np.ascontiguousarray(a)


def enlarge(img: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor: each pixel becomes a factor x factor block."""
    factor = int(factor)
    if factor < 1:
        raise SrlibError(f"the enlargement factor must be a whole number >= 1, got {factor}.")
    return img if factor == 1 else np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)


def match_size(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an HWC array to `shape` = (height, width).

    Output row i takes input row floor(i * h / H) (columns likewise), so an
    integer ratio gives exactly `enlarge(img, ratio)`.
    """
    h, w = img.shape[:2]
    th, tw = int(shape[0]), int(shape[1])
    if (h, w) == (th, tw):
        return img
    rows = np.arange(th) * h // th
    cols = np.arange(tw) * w // tw
    return img[rows][:, cols]


def common_size(images: Mapping[str, np.ndarray]) -> tuple[int, int]:
    """The size every image is shown at: the largest one's. Checks the others are smaller copies of it.

    Raises `SrlibError` when two images cannot be the same picture at two
    scales (e.g. one is wider but the other taller).
    """
    if not images:
        raise SrlibError("no images to compare: pass at least one.")
    th = max(a.shape[0] for a in images.values())
    tw = max(a.shape[1] for a in images.values())
    for name, a in images.items():
        fh, fw = th / a.shape[0], tw / a.shape[1]
        if abs(fh - fw) > 0.05 * max(fh, fw):
            sizes = ", ".join(f"{n} {b.shape[1]}x{b.shape[0]}" for n, b in images.items())
            raise SrlibError(
                f"cannot line up the images ({sizes}): {name!r} is not a scaled copy of the largest. "
                "Crop HR to a multiple of the scale (srlib.degrade.crop_to_multiple) or pass same-sized images."
            )
    return th, tw


def _prepare_all(images: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Convert to uint8 RGB and enlarge every image to the common (largest) size."""
    arrays = {str(k): as_display(v) for k, v in images.items()}
    size = common_size(arrays)
    return {k: match_size(a, size) for k, a in arrays.items()}


def wipe(left: np.ndarray, right: np.ndarray, fraction: float, line_width: int = 1, line_color=LINE_COLOR) -> np.ndarray:
    """Before/after composite: columns < round(fraction * W) from `left`, the rest from `right`.

    A vertical line `line_width` pixels wide is drawn over the split (centred
    on it, kept inside the image); `line_width=0` draws none.
    """
    if left.shape != right.shape:
        raise SrlibError(f"wipe needs two images of one size, got {left.shape} and {right.shape}.")
    w = left.shape[1]
    split = int(round(min(max(float(fraction), 0.0), 1.0) * w))
    out = right.copy()
    out[:, :split] = left[:, :split]
    if line_width > 0:
        lw = min(int(line_width), w)
        c0 = min(max(split - lw // 2, 0), w - lw)
        out[:, c0 : c0 + lw] = np.asarray(line_color, dtype=out.dtype)
    return out


def crop_box(center: tuple[int, int], size: int, shape: tuple[int, int]) -> Box:
    """A size x size box (top, left, height, width) centred at (y, x), shifted to lie inside `shape`."""
    hh, ww = int(shape[0]), int(shape[1])
    h, w = min(int(size), hh), min(int(size), ww)
    top = min(max(int(center[0]) - h // 2, 0), hh - h)
    left = min(max(int(center[1]) - w // 2, 0), ww - w)
    return top, left, h, w


def zoom_crop(img: np.ndarray, box: Box, factor: int) -> np.ndarray:
    """Crop `box` (top, left, height, width) and enlarge it `factor` times with nearest neighbour."""
    top, left, h, w = box
    return enlarge(img[top : top + h, left : left + w], factor)


def draw_box(img: np.ndarray, box: Box, color=LINE_COLOR, thickness: int = 1) -> np.ndarray:
    """A copy of `img` with the outline of `box` drawn inside its edges."""
    out = img.copy()
    top, left, h, w = box
    t = max(1, min(int(thickness), h, w))
    c = np.asarray(color, dtype=out.dtype)
    out[top : top + t, left : left + w] = c
    out[top + h - t : top + h, left : left + w] = c
    out[top : top + h, left : left + t] = c
    out[top : top + h, left + w - t : left + w] = c
    return out


def encode_png(img) -> bytes:
    """PNG bytes of an image (lossless, fast compression: the widgets re-encode on every slider move)."""
    buf = io.BytesIO()
    PILImage.fromarray(as_display(img)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """(H, W, 3) uint8 array of PNG bytes (the inverse of `encode_png`)."""
    with PILImage.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB")).copy()


# ---------------------------------------------------------------- widgets


def _widgets():
    try:
        import ipywidgets
    except ImportError:  # pragma: no cover - ipywidgets is a dependency
        raise SrlibError("the interactive comparisons need ipywidgets: pip install 'ipywidgets>=8.1'.") from None
    return ipywidgets


def _image_widget(png: bytes, width: int | None):
    w = _widgets()
    img = w.Image(value=png, format="png")
    if width:
        img.width = str(int(width))
    return img


def _caption(text: str):
    w = _widgets()
    return w.HTML(value=f"<b>{text}</b>")  # callers escape user-given labels with html.escape


def before_after(left, right, labels=("bicubic", "HR"), width: int | None = None, position: int = 50, line_width: int | None = None):
    """A before/after wiper: `left` left of the split, `right` right of it; a slider (0-100 %) moves the split.

    The smaller image (e.g. an LR input) is enlarged with nearest neighbour to
    the larger one's size. `width` sets the displayed width in pixels (default:
    the image's own). Returns a VBox: [caption, Image, IntSlider].
    """
    w = _widgets()
    a = _prepare_all({"left": left, "right": right})
    la, ra = a["left"], a["right"]
    lw = line_width if line_width is not None else max(1, la.shape[1] // 256)
    shown_width = int(width) if width else la.shape[1]
    slider = w.IntSlider(value=int(position), min=0, max=100, step=1, description="split %",
                         continuous_update=True, layout=w.Layout(width=f"{max(shown_width, 300)}px"))
    view = _image_widget(encode_png(wipe(la, ra, slider.value / 100, lw)), width)

    def update(change=None):
        view.value = encode_png(wipe(la, ra, slider.value / 100, lw))

    slider.observe(update, names="value")
    caption = _caption(f"◀ {html.escape(str(labels[0]))} &nbsp;|&nbsp; {html.escape(str(labels[1]))} ▶")
    return w.VBox([caption, view, slider])


def zoom_viewer(images: Mapping[str, object], zoom: int = 4, panel: int = 192, center: tuple[int, int] | None = None,
                overview: bool = True, overview_width: int = 256):
    """The same region of every image side by side, enlarged with nearest neighbour.

    images: {label: image}; smaller images (LR) are first enlarged to the
    largest one's size, so coordinates are those of the largest (HR) image.
    Sliders pick the region's centre (x, y) and the zoom factor; each panel
    shows a (panel // zoom)-pixel square of the image at `zoom` times. With
    `overview`, the first image is shown whole with the region outlined.
    Returns a VBox: [HBox of panels (caption + Image each), HBox of sliders].
    """
    w = _widgets()
    arrays = _prepare_all(images)
    names = list(arrays)
    hh, ww = next(iter(arrays.values())).shape[:2]
    cy, cx = center if center is not None else (hh // 2, ww // 2)
    xs = w.IntSlider(value=int(cx), min=0, max=ww - 1, description="x", continuous_update=True)
    ys = w.IntSlider(value=int(cy), min=0, max=hh - 1, description="y", continuous_update=True)
    zs = w.IntSlider(value=int(zoom), min=1, max=16, description="zoom ×", continuous_update=True)
    step = max(1, -(-ww // int(overview_width)))  # the overview is subsampled to about its display width
    small = arrays[names[0]][::step, ::step]

    def compose():
        z = zs.value
        box = crop_box((ys.value, xs.value), max(1, panel // z), (hh, ww))
        crops = [encode_png(zoom_crop(arrays[n], box, z)) for n in names]
        over = None
        if overview:
            top, left, h, w_ = box
            sh, sw = small.shape[:2]
            st, sl = min(top // step, sh - 1), min(left // step, sw - 1)
            sbox = (st, sl, min(-(-h // step), sh - st), min(-(-w_ // step), sw - sl))
            over = encode_png(draw_box(small, sbox, thickness=2))
        return crops, over

    crops, over = compose()
    views = [_image_widget(c, None) for c in crops]
    panels = [w.VBox([_caption(html.escape(n)), v]) for n, v in zip(names, views)]
    if overview:
        over_view = _image_widget(over, overview_width)
        panels.insert(0, w.VBox([_caption(f"{html.escape(names[0])} (region)"), over_view]))

    def update(change=None):
        new, new_over = compose()
        for v, c in zip(views, new):
            v.value = c
        if overview:
            over_view.value = new_over

    for s in (xs, ys, zs):
        s.observe(update, names="value")
    wrap = w.Layout(flex_flow="row wrap")  # panels wrap onto a new line in a narrow window
    return w.VBox([w.HBox(panels, layout=wrap), w.HBox([xs, ys, zs], layout=wrap)])


def model_toggle(images: Mapping[str, object], reference=None, crop: int = 4, width: int | None = None):
    """Toggle buttons choosing which image is shown (e.g. bicubic / model A / model B / HR).

    reference: None, the label of one of `images`, or an image. When given, a
    Label shows each image's PSNR against it (Y channel, `crop` border pixels
    removed, as in the literature: pass the scale). Images smaller than the
    reference (LR) are shown enlarged but get no PSNR. Returns a VBox:
    [ToggleButtons, Image, Label].
    """
    w = _widgets()
    if not images:
        raise SrlibError("model_toggle needs at least one image.")
    originals = {str(k): v for k, v in images.items()}
    shown = _prepare_all(originals)
    names = list(shown)
    ref_name, ref = None, None
    if isinstance(reference, str):
        if reference not in originals:
            raise SrlibError(f"reference {reference!r} is not one of the images: {', '.join(names)}.")
        ref_name, ref = reference, originals[reference]
    elif reference is not None:
        ref_name, ref = "reference", reference

    scores: dict[str, str] = {}

    def describe(name: str) -> str:
        if ref is None:
            return name
        if name not in scores:
            a, b = as_hwc(originals[name]), as_hwc(ref)
            if name == ref_name:
                scores[name] = f"{name} is the reference"
            elif a.shape[:2] != b.shape[:2]:
                scores[name] = f"{name}: {a.shape[1]}x{a.shape[0]}, not the reference's size, so no PSNR (shown enlarged)"
            else:
                p = psnr(originals[name], ref, crop=crop)
                scores[name] = f"{name}: PSNR {p:.2f} dB vs {ref_name} (Y channel, border {crop} px)"
        return scores[name]

    cache: dict[str, bytes] = {}

    def png(name: str) -> bytes:
        if name not in cache:
            cache[name] = encode_png(shown[name])
        return cache[name]

    toggle = w.ToggleButtons(options=names, value=names[0], description="show")
    view = _image_widget(png(names[0]), width)
    label = w.Label(value=describe(names[0]))

    def update(change=None):
        view.value = png(toggle.value)
        label.value = describe(toggle.value)

    toggle.observe(update, names="value")
    return w.VBox([toggle, view, label])


def interpolation_slider(render: Callable[[float], object], labels=("PSNR", "GAN"), steps: int = 11, value: float = 0.0,
                         width: int | None = None):
    """A slider alpha in [0, 1] (`steps` positions) showing `render(alpha)`.

    Made for network interpolation (ESRGAN: weights (1 - alpha) * PSNR model +
    alpha * GAN model), but `render` can be any function alpha -> image. Each
    alpha is rendered once and cached; the slider only reports where it is let
    go, since a render may take a while. If `render` fails on a move, the Label
    says why. Returns a VBox: [caption, Image, FloatSlider, Label].
    """
    w = _widgets()
    steps = int(steps)
    if steps < 2:
        raise SrlibError(f"interpolation_slider needs at least 2 steps (the two ends), got {steps}.")
    grid = 1.0 / (steps - 1)

    def snap(alpha: float) -> float:
        return round(round(min(max(float(alpha), 0.0), 1.0) / grid) * grid, 10)

    cache: dict[float, bytes] = {}

    def get(alpha: float) -> tuple[bytes, str]:
        if alpha in cache:
            return cache[alpha], "cached"
        t = time.perf_counter()
        cache[alpha] = encode_png(render(alpha))
        return cache[alpha], f"rendered in {time.perf_counter() - t:.2f} s"

    slider = w.FloatSlider(value=snap(value), min=0.0, max=1.0, step=grid, description="alpha", readout_format=".2f",
                           continuous_update=False)
    png, how = get(snap(value))
    view = _image_widget(png, width)
    status = w.Label(value=f"alpha = {snap(value):.2f} ({how})")

    def update(change=None):
        alpha = snap(slider.value)
        try:
            png, how = get(alpha)
        except Exception as e:  # shown in the widget: observer errors are otherwise invisible in JupyterLab
            status.value = f"render({alpha:.2f}) failed: {type(e).__name__}: {e}"
            return
        view.value = png
        status.value = f"alpha = {alpha:.2f} ({how})"

    slider.observe(update, names="value")
    caption = _caption(f"{html.escape(str(labels[0]))} (alpha = 0) ◀ ▶ {html.escape(str(labels[1]))} (alpha = 1)")
    return w.VBox([caption, view, slider, status])


def _format_value(v) -> str:
    """A grid value as a button label: numbers in short form (0.005 -> 0.005, 1e-05 -> 1e-05), the rest as text."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v:g}"
    return str(v)


def grid_explorer(images: Mapping[object, object], names: Sequence[str], captions: Mapping[object, str] | None = None,
                  fixed: Mapping[str, object] | None = None, width: int | None = None):
    """Explore a grid of precomputed results (e.g. short training runs) with one set of toggle buttons per axis.

    images: {(v1, v2, ...): image}, one entry per run, keyed by its settings
    (plain values for a one-axis grid); names: one label per key position, e.g.
    ("adversarial weight", "feature matching weight"); captions: {key: text}
    shown under the image (its metrics); fixed: {label: image} shown beside it
    for reference (HR, the starting model). All images are shown at one size
    (smaller ones enlarged with nearest neighbour). A combination that was not
    run shows a grey panel and says so. Returns a VBox:
    [ToggleButtons per axis..., HBox of panels (caption + Image each), Label].
    """
    w = _widgets()
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
    shown = _prepare_all({**{f"fixed:{k}": v for k, v in fixed.items()},
                          **{f"grid:{i}": images[k] for i, k in enumerate(keys.values())}})
    pngs = {key: encode_png(shown[f"grid:{i}"]) for i, key in enumerate(keys)}
    blank = encode_png(np.full_like(next(iter(shown.values())), 128))

    axes = []
    for i, name in enumerate(names):
        values = list(dict.fromkeys(k[i] for k in keys))
        try:
            values.sort()
        except TypeError:  # values that do not compare (mixed types) keep their order of appearance
            pass
        axes.append(w.ToggleButtons(options=[(_format_value(v), v) for v in values], value=next(iter(keys))[i],
                                    description=name, style={"description_width": "initial"}))

    def caption_of(key) -> str:
        settings = ", ".join(f"{n} = {_format_value(v)}" for n, v in zip(names, key))
        if key not in pngs:
            return f"no run with {settings} in this grid"
        text = captions.get(keys[key], captions.get(key, ""))
        return f"{settings}: {text}" if text else settings

    first = next(iter(keys))
    view = _image_widget(pngs[first], width)
    title = _caption(html.escape(", ".join(_format_value(v) for v in first)))
    panels = [w.VBox([_caption(html.escape(k)), _image_widget(encode_png(shown[f"fixed:{k}"]), width)]) for k in fixed]
    label = w.Label(value=caption_of(first))

    def update(change=None):
        key = tuple(a.value for a in axes)
        view.value = pngs.get(key, blank)
        title.value = f"<b>{html.escape(', '.join(_format_value(v) for v in key))}</b>"
        label.value = caption_of(key)

    for a in axes:
        a.observe(update, names="value")
    wrap = w.Layout(flex_flow="row wrap")
    return w.VBox([*axes, w.HBox([w.VBox([title, view]), *panels], layout=wrap), label])
