"""Interactive comparisons for the notebooks: front-end widgets (anywidget) with no kernel round trip.

Each factory prepares its images once in Python (`compose`: uint8 RGB, the
common size, lossless WebP) and returns an `anywidget.AnyWidget` (`views`)
whose ES module (`js/<factory>.js`, styled by `js/widgets.css`) does every
drag, zoom and toggle in the browser. They work in JupyterLab 4, Notebook 7
and VS Code, and, from the saved widget state, in a static HTML page with no
kernel (only `interpolation_slider(live=True)`'s in-between positions need one).

* `before_after(left, right)`: a wiper; drag the line, or arrow keys (1 %, shift 10 %);
* `zoom_viewer({"name": img, ...})`: one region of every image, enlarged; drag pans, the wheel zooms;
* `model_toggle({"name": img, ...}, reference=...)`: flip between images (buttons, keys 1..N), PSNR shown;
* `interpolation_slider(render)`: alpha in [0, 1] -> `render(alpha)`, every step rendered up front;
* `grid_explorer({(w1, w2): img, ...}, names)`: one row of buttons per axis picks a precomputed result.

The pure functions (`as_display`, `enlarge`, `match_size`, `common_size`,
`wipe`, `crop_box`, `zoom_crop`, `draw_box`, `encode_png`, `encode_webp`,
`decode_png`) say pixel by pixel what the browser shows: an image smaller than
the largest is enlarged with nearest neighbour, so that its pixels stay visible.

DOM contract (browser tests rely on it):

* every widget's root element has class `srlib-widget` and
  `data-widget="<factory name>"` (e.g. `data-widget="zoom_viewer"`);
* every interactive control is keyboard-operable and has an `aria-label`;
  every `<img>` has an `alt` naming what it shows; the keys a widget uses do
  not reach JupyterLab's notebook shortcuts;
* images of one view are stacked in a `.srlib-stack`; the visible one is the
  `<img>` without class `srlib-hidden`; the line under it (`.srlib-status`,
  aria-live) says what is shown (PSNR, alpha, the run, the zoom region);
* before_after: the drag surface (both images stacked) has class `srlib-drag`;
  the split handle has `role="slider"`, `tabindex="0"`, `aria-valuenow` (0-100,
  rounded), `aria-valuemin/max`; arrows (1 %, shift 10 %), Home and End move
  it; the alts are "<left> (left of the split at P %)" and "<right> (right of
  the split at P %)";
* zoom_viewer: one `.srlib-zoom-panel` per image (`tabindex="0"`; drag and
  wheel there; arrows pan, + and - zoom), its `<img>` alt "<name>, region WxH
  px at (x L, y T), ×Z"; the overview `.srlib-overview` (click or drag; keys as
  a panel) with the region `.srlib-box`; buttons "zoom out" and "zoom in";
* model_toggle: one `<button aria-pressed>` per image (aria-label "show <name>
  (key i)"), number keys 1..N anywhere in the widget; each image's alt is its name;
* interpolation_slider: one `<input type="range">` (0 to 1; aria-label "alpha,
  from <a> (0) to <b> (1)"); frame alts "<a> (alpha = 0) to <b> (alpha = 1):
  the frame at alpha = X";
* grid_explorer: a `role="group"` per axis (aria-label: the axis name) of
  `<button aria-pressed>` (aria-label "<axis> = <value>"); run alts "run with
  <caption>", fixed images' alts their names; a missing run shows the grey
  stack and "no run with ... in this grid".
"""
from .compose import (
    LINE_COLOR, as_display, common_size, crop_box, decode_png, draw_box, encode_png, encode_webp, enlarge, match_size,
    wipe, zoom_crop,
)
from .views import before_after, grid_explorer, interpolation_slider, model_toggle, zoom_viewer

__all__ = [
    "LINE_COLOR", "as_display", "before_after", "common_size", "crop_box", "decode_png", "draw_box", "encode_png",
    "encode_webp", "enlarge", "grid_explorer", "interpolation_slider", "match_size", "model_toggle", "wipe",
    "zoom_crop", "zoom_viewer",
]
