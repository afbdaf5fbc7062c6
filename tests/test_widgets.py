"""srlib.widgets: the pure compositing functions pixel by pixel, and that the widgets react to their controls."""
from __future__ import annotations

import ipywidgets as w
import numpy as np
import pytest
import torch

from srlib.errors import SrlibError
from srlib.widgets import (
    LINE_COLOR, as_display, before_after, common_size, crop_box, decode_png, draw_box, encode_png, enlarge,
    grid_explorer, interpolation_slider, match_size, model_toggle, wipe, zoom_crop, zoom_viewer,
)

RED, BLUE = (255, 0, 0), (0, 0, 255)


def solid(h, w, color):
    return np.broadcast_to(np.asarray(color, np.uint8), (h, w, 3)).copy()


def ramp(h, w, seed=0):
    """A uint8 image whose pixels are all different enough to catch misplaced rows/columns."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def find(widget, cls):
    """All widgets of type `cls` inside a container, depth first."""
    found = [widget] if isinstance(widget, cls) else []
    for child in getattr(widget, "children", ()):
        found += find(child, cls)
    return found


# ------------------------------------------------------------------ pure functions


def test_as_display_floats_tensors_gray():
    a = np.array([[[0.0, 0.5, 1.0], [1.2, -0.1, 0.25]]])  # (1, 2, 3), out-of-range values clip
    assert as_display(a).tolist() == [[[0, 128, 255], [255, 0, 64]]]
    t = torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0)  # (1, 3, 1, 2)
    assert np.array_equal(as_display(t), as_display(a))
    g = np.array([[0, 7], [200, 255]], np.uint8)
    out = as_display(g)
    assert out.shape == (2, 2, 3) and np.array_equal(out[..., 2], g) and np.array_equal(out[..., 0], g)


def test_wipe_split_and_line_exact():
    left, right = solid(4, 10, RED), solid(4, 10, BLUE)
    out = wipe(left, right, 0.3, line_width=1)  # split at column 3
    assert (out[:, :3] == RED).all()
    assert (out[:, 3] == LINE_COLOR).all()
    assert (out[:, 4:] == BLUE).all()
    # without a line, column 3 is already the right image
    out0 = wipe(left, right, 0.3, line_width=0)
    assert (out0[:, :3] == RED).all() and (out0[:, 3:] == BLUE).all()
    # the inputs are untouched
    assert (left == RED).all() and (right == BLUE).all()


def test_wipe_line_centred_and_kept_inside():
    left, right = solid(2, 10, RED), solid(2, 10, BLUE)
    out = wipe(left, right, 0.5, line_width=2, line_color=(0, 255, 0))  # split 5, line on columns 4 and 5
    assert [tuple(c) for c in out[0]] == [RED] * 4 + [(0, 255, 0)] * 2 + [BLUE] * 4
    assert (wipe(left, right, 0.0)[:, 0] == LINE_COLOR).all() and (wipe(left, right, 0.0)[:, 1:] == BLUE).all()
    end = wipe(left, right, 1.0)
    assert (end[:, :9] == RED).all() and (end[:, 9] == LINE_COLOR).all()


def test_wipe_keeps_real_pixels():
    a, b = ramp(5, 8, 1), ramp(5, 8, 2)
    out = wipe(a, b, 0.5, line_width=0)
    assert np.array_equal(out[:, :4], a[:, :4]) and np.array_equal(out[:, 4:], b[:, 4:])
    with pytest.raises(SrlibError):
        wipe(a, b[:, :7], 0.5)


def test_enlarge_nearest_exact():
    a = np.array([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]], np.uint8)  # 2x2
    e = enlarge(a, 3)
    assert e.shape == (6, 6, 3)
    for i in range(6):
        for j in range(6):
            assert np.array_equal(e[i, j], a[i // 3, j // 3])
    assert enlarge(a, 1) is a
    with pytest.raises(SrlibError):
        enlarge(a, 0)


def test_match_size_equals_enlarge_for_integer_ratio_and_handles_others():
    a = ramp(3, 5)
    assert np.array_equal(match_size(a, (12, 20)), enlarge(a, 4))
    m = match_size(a, (7, 11))  # non-integer ratio: row i <- floor(i * 3 / 7)
    assert m.shape == (7, 11, 3)
    assert np.array_equal(m[6, 10], a[6 * 3 // 7, 10 * 5 // 11])
    assert np.array_equal(m[:, 0], a[[0, 0, 0, 1, 1, 2, 2], 0])


def test_common_size_rejects_different_pictures():
    assert common_size({"lr": ramp(4, 6), "hr": ramp(16, 24)}) == (16, 24)
    with pytest.raises(SrlibError, match="scaled copy"):
        common_size({"a": ramp(4, 24), "b": ramp(16, 6)})


def test_crop_box_centres_and_clamps():
    assert crop_box((10, 20), 6, (40, 50)) == (7, 17, 6, 6)
    assert crop_box((0, 0), 6, (40, 50)) == (0, 0, 6, 6)
    assert crop_box((39, 49), 6, (40, 50)) == (34, 44, 6, 6)
    assert crop_box((5, 5), 100, (8, 12)) == (0, 0, 8, 12)  # too big: clipped per axis


def test_zoom_crop_exact():
    a = ramp(10, 10)
    z = zoom_crop(a, (2, 3, 4, 5), 2)
    assert z.shape == (8, 10, 3)
    assert np.array_equal(z[::2, ::2], a[2:6, 3:8]) and np.array_equal(z[1::2, 1::2], a[2:6, 3:8])


def test_draw_box_outline_only():
    a = solid(10, 10, BLUE)
    d = draw_box(a, (2, 3, 5, 4), color=RED, thickness=1)
    mask = np.zeros((10, 10), bool)
    mask[2, 3:7] = mask[6, 3:7] = mask[2:7, 3] = mask[2:7, 6] = True
    assert (d[mask] == RED).all() and (d[~mask] == BLUE).all()
    assert (a == BLUE).all()


def test_png_roundtrip_is_lossless():
    a = ramp(13, 17, 3)
    data = encode_png(a)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(decode_png(data), a)
    f = np.linspace(0, 1, 13 * 17 * 3).reshape(13, 17, 3)
    assert np.array_equal(decode_png(encode_png(f)), np.round(f * 255).astype(np.uint8))


# ------------------------------------------------------------------ widgets react without a frontend


def test_before_after_slider_moves_the_split():
    left, right = solid(8, 20, RED), solid(8, 20, BLUE)
    box = before_after(left, right, labels=("L", "R"), line_width=1)
    (img,), (slider,) = find(box, w.Image), find(box, w.IntSlider)
    assert slider.value == 50
    shown = decode_png(img.value)
    assert (shown[:, :10] == RED).all() and (shown[:, 10] == LINE_COLOR).all() and (shown[:, 11:] == BLUE).all()
    slider.value = 25  # split at column 5
    shown = decode_png(img.value)
    assert (shown[:, :5] == RED).all() and (shown[:, 5] == LINE_COLOR).all() and (shown[:, 6:] == BLUE).all()


def test_before_after_enlarges_lr_with_nearest():
    hr = ramp(8, 12, 4)
    lr = ramp(2, 3, 5).astype(np.float32) / 255.0  # floats in [0, 1], 4x smaller
    box = before_after(lr, hr, line_width=0, position=100)
    shown = decode_png(find(box, w.Image)[0].value)
    assert shown.shape == (8, 12, 3)
    assert np.array_equal(shown, enlarge(ramp(2, 3, 5), 4))


def test_zoom_viewer_follows_sliders():
    hr = ramp(40, 40, 6)
    lr = hr[::4, ::4]
    box = zoom_viewer({"LR": lr, "HR": hr}, zoom=2, panel=8, center=(10, 10), overview=False)
    imgs = find(box, w.Image)
    x, y, z = find(box, w.IntSlider)
    assert len(imgs) == 2
    assert np.array_equal(decode_png(imgs[1].value), enlarge(hr[8:12, 8:12], 2))
    assert np.array_equal(decode_png(imgs[0].value), enlarge(enlarge(lr, 4)[8:12, 8:12], 2))
    x.value = 30
    assert np.array_equal(decode_png(imgs[1].value), enlarge(hr[8:12, 28:32], 2))
    z.value = 4  # 2x2 crop at 4x
    assert np.array_equal(decode_png(imgs[1].value), enlarge(hr[9:11, 29:31], 4))
    labels = [h.value for h in find(box, w.HTML)]
    assert any("LR" in s for s in labels) and any("HR" in s for s in labels)


def test_zoom_viewer_overview_outlines_region():
    hr = solid(64, 64, BLUE)
    box = zoom_viewer({"HR": hr}, zoom=2, panel=16, center=(32, 32), overview=True, overview_width=64)
    over = decode_png(find(box, w.Image)[0].value)  # the region: 8x8 at (28, 28), outlined 2 px thick
    assert over.shape == (64, 64, 3)
    assert np.array_equal(over, draw_box(hr, (28, 28, 8, 8), thickness=2))
    find(box, w.IntSlider)[1].value = 3  # y near the top: the region is shifted inside the image
    over = decode_png(find(box, w.Image)[0].value)
    assert np.array_equal(over, draw_box(hr, (0, 28, 8, 8), thickness=2))
    assert (over[0, 28:36] == LINE_COLOR).all() and (over[28, 28] == BLUE).all()


def test_zoom_viewer_overview_is_subsampled_to_its_width():
    hr = ramp(64, 64, 7)
    box = zoom_viewer({"HR": hr}, zoom=1, panel=8, center=(32, 32), overview=True, overview_width=32)
    over = decode_png(find(box, w.Image)[0].value)
    assert over.shape == (32, 32, 3)
    assert np.array_equal(over, draw_box(hr[::2, ::2], (14, 14, 4, 4), thickness=2))


def test_model_toggle_switches_image_and_psnr():
    rng = np.random.default_rng(0)
    hr = rng.random((32, 32, 3))
    noisy = np.clip(hr + rng.normal(0, 0.05, hr.shape), 0, 1)
    lr = hr[::4, ::4]
    box = model_toggle({"LR": lr, "noisy": noisy, "HR": hr}, reference="HR", crop=4)
    (toggle,), (img,), (label,) = find(box, w.ToggleButtons), find(box, w.Image), find(box, w.Label)
    assert np.array_equal(decode_png(img.value), enlarge(as_display(lr), 4))
    assert "no PSNR" in label.value
    toggle.value = "noisy"
    assert np.array_equal(decode_png(img.value), as_display(noisy))
    from srlib.metrics import psnr
    assert f"{psnr(noisy, hr, crop=4):.2f} dB" in label.value
    toggle.value = "HR"
    assert np.array_equal(decode_png(img.value), as_display(hr)) and "reference" in label.value
    with pytest.raises(SrlibError):
        model_toggle({"a": hr}, reference="b")


def test_interpolation_slider_renders_and_caches():
    calls = []

    def render(alpha):
        calls.append(alpha)
        return np.full((4, 4, 3), alpha)

    box = interpolation_slider(render, steps=5)
    (img,), (slider,) = find(box, w.Image), find(box, w.FloatSlider)
    assert calls == [0.0] and (decode_png(img.value) == 0).all()
    slider.value = 0.5
    assert calls == [0.0, 0.5] and (decode_png(img.value) == 128).all()
    slider.value = 0.0
    slider.value = 0.5
    assert calls == [0.0, 0.5]  # both from the cache
    assert (decode_png(img.value) == 128).all()
    slider.value = 1.0
    assert (decode_png(img.value) == 255).all() and calls[-1] == 1.0


def test_interpolation_slider_shows_render_errors():
    def render(alpha):
        if alpha > 0.5:
            raise ValueError("boom")
        return np.zeros((2, 2, 3))

    box = interpolation_slider(render, steps=3)
    find(box, w.FloatSlider)[0].value = 1.0
    assert "boom" in find(box, w.Label)[0].value


def _grid():
    """A 2 x 3 grid of solid images whose grey level encodes the key: 10 * i + 60 * j."""
    a_values, b_values = (0.0, 0.005), (0, 0.01, 0.1)
    return {(a, b): solid(4, 6, (10 * i + 60 * j,) * 3)
            for i, a in enumerate(a_values) for j, b in enumerate(b_values)}


def test_grid_explorer_toggles_pick_the_run_and_its_caption():
    images = _grid()
    captions = {k: f"PSNR {20 + k[1]:.2f} dB" for k in images}
    hr = solid(2, 3, RED)  # smaller: shown enlarged to the grid's size
    box = grid_explorer(images, ("adv", "fm"), captions=captions, fixed={"HR": hr})
    adv, fm = find(box, w.ToggleButtons)
    (label,) = find(box, w.Label)
    view, hr_view = find(box, w.Image)
    assert adv.options == (("0", 0.0), ("0.005", 0.005)) and [t for t, _ in fm.options] == ["0", "0.01", "0.1"]
    assert (adv.value, fm.value) == (0.0, 0)
    assert (decode_png(view.value) == 0).all()
    assert np.array_equal(decode_png(hr_view.value), solid(4, 6, RED))
    assert label.value == "adv = 0, fm = 0: PSNR 20.00 dB"
    fm.value = 0.1
    assert (decode_png(view.value) == 120).all() and label.value == "adv = 0, fm = 0.1: PSNR 20.10 dB"
    adv.value = 0.005
    assert (decode_png(view.value) == 130).all() and "adv = 0.005, fm = 0.1" in label.value
    assert "0.005, 0.1" in find(box, w.HTML)[0].value
    assert np.array_equal(decode_png(hr_view.value), solid(4, 6, RED))  # the fixed panel never changes


def test_grid_explorer_missing_run_and_one_axis():
    images = _grid()
    del images[(0.005, 0.01)]
    box = grid_explorer(images, ["adv", "fm"])
    adv, fm = find(box, w.ToggleButtons)
    view, label = find(box, w.Image)[0], find(box, w.Label)[0]
    adv.value, fm.value = 0.005, 0.01
    assert (decode_png(view.value) == 128).all() and "no run" in label.value
    fm.value = 0
    assert (decode_png(view.value) == 10).all() and label.value == "adv = 0.005, fm = 0"
    line = grid_explorer({1e-3: solid(3, 3, RED), 1e-2: solid(3, 3, BLUE)}, "weight")  # plain keys: one axis
    (toggle,) = find(line, w.ToggleButtons)
    assert toggle.options == (("0.001", 1e-3), ("0.01", 1e-2))
    toggle.value = 1e-2
    assert (decode_png(find(line, w.Image)[0].value) == BLUE).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(images={}, names=("a",)), "at least one"),
        (dict(images={(1, 2): solid(2, 2, RED), (1,): solid(2, 2, RED)}, names=("a", "b")), "lengths"),
        (dict(images={(1, 2): solid(2, 2, RED)}, names=("a",)), "one name per value"),
        (dict(images={(1, 2): solid(2, 2, RED)}, names=("a", "b"), captions={(3, 4): "x"}), "no image"),
        (dict(images={(1, 2): solid(2, 8, RED), (1, 3): solid(8, 2, RED)}, names=("a", "b")), "scaled copy"),
    ],
)
def test_grid_explorer_rejects_bad_input(kwargs, message):
    with pytest.raises(SrlibError, match=message):
        grid_explorer(**kwargs)
