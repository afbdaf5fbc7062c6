"""srlib.widgets: the pure compositing functions pixel by pixel, and the state each widget sends its front end."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from srlib.errors import SrlibError
from ipywidgets.widgets.widget import _remove_buffers

from srlib.widgets import (
    LINE_COLOR, as_display, before_after, common_size, crop_box, decode_png, draw_box, encode_png, encode_webp, enlarge,
    grid_explorer, interpolation_slider, match_size, model_toggle, wipe, zoom_crop, zoom_viewer,
)
from srlib.widgets.compose import shrink, to_send, whole_factor
from srlib.widgets.views import JS

RED, BLUE = (255, 0, 0), (0, 0, 255)


def solid(h, w, color):
    return np.broadcast_to(np.asarray(color, np.uint8), (h, w, 3)).copy()


def ramp(h, w, seed=0):
    """A uint8 image whose pixels are all different enough to catch misplaced rows/columns."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def shown(widget, i=0, trait="images"):
    """Image i of a widget as the browser shows it: decoded, then enlarged to the widget's size (nearest)."""
    a = decode_png(getattr(widget, trait)[i])
    h, w = widget.size
    assert a.shape[:2] == (h, w) or whole_factor(a.shape, (h, w)), "sent at a size the browser cannot enlarge exactly"
    return match_size(a, (h, w))


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


def test_webp_roundtrip_is_lossless_and_smaller_than_png():
    from skimage import data as samples

    a = samples.astronaut()[100:228, 150:278]  # a photo: WebP lossless is what the widgets send because it is smaller
    data = encode_webp(a)
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert np.array_equal(decode_png(data), a)
    assert len(data) < len(encode_png(a))


def test_to_send_keeps_whole_factor_images_small_and_resizes_the_others():
    hr, lr = ramp(12, 18, 1), ramp(4, 6, 2)  # lr 3x smaller: sent as it is, the browser enlarges it
    sent, size = to_send({"hr": hr, "lr": lr, "odd": ramp(8, 12, 3)})
    assert size == (12, 18)
    assert sent["lr"].shape == (4, 6, 3) and np.array_equal(sent["hr"], hr)
    assert np.array_equal(sent["odd"], match_size(ramp(8, 12, 3), (12, 18)))  # 1.5x: resized here, as before
    assert whole_factor((4, 6), (12, 18)) == 3 and whole_factor((8, 12), (12, 18)) == 0
    assert whole_factor((4, 5), (12, 18)) == 0


def test_shrink_undoes_a_nearest_enlargement_and_nothing_else():
    a = ramp(5, 7, 4)
    assert np.array_equal(shrink(enlarge(a, 3)), a) and np.array_equal(shrink(enlarge(a, 16)), a)
    assert shrink(a) is a
    almost = enlarge(a, 2)
    almost[9, 13, 0] ^= 1  # one pixel off: not an enlargement any more
    assert shrink(almost) is almost
    assert shrink(solid(6, 4, RED)).shape == (3, 2, 3)  # the largest factor both sides divide
    sent, size = to_send({"nearest": enlarge(a, 4), "hr": ramp(20, 28, 5)})
    assert sent["nearest"].shape == (5, 7, 3) and size == (20, 28)


# ------------------------------------------------------------------ what each widget sends its front end


def test_every_widget_sends_its_images_once_as_binary_buffers():
    hr = ramp(16, 16, 9)
    widgets = [
        before_after(hr[::4, ::4], hr), zoom_viewer({"LR": hr[::4, ::4], "HR": hr}), model_toggle({"a": hr, "b": hr}),
        interpolation_slider(lambda a: hr, steps=3), grid_explorer({1: hr, 2: hr}, "w", fixed={"HR": hr}),
    ]
    for widget in widgets:
        state, paths, buffers = _remove_buffers(widget.get_state())
        image_paths = [p for p in paths if p[0] in ("images", "fixed")]
        assert image_paths and len(image_paths) == len(paths)
        assert all(bytes(b)[:4] == b"RIFF" for b in buffers)
        json.dumps(state)  # the rest is plain JSON
        assert "export default" in state["_esm"] and ".srlib-widget" in state["_css"]


@pytest.mark.parametrize("name", ["before_after", "zoom_viewer", "model_toggle", "interpolation_slider", "grid_explorer"])
def test_each_front_end_module_is_self_contained_and_tags_its_root(name):
    source = (JS / f"{name}.js").read_text()
    assert "export default" in source and "render(" in source
    assert re.search(rf'"data-widget": "{name}"', source)
    assert not re.search(r"^\s*import\b|https?://", source, re.M), "no imports, nothing from the network"


def test_before_after_state_gives_the_wipe():
    left, right = solid(8, 20, RED), solid(8, 20, BLUE)
    ba = before_after(left, right, labels=("L", "R"), line_width=1)
    assert ba.names == ["L", "R"] and ba.size == [8, 20] and ba.position == 50 and ba.line_width == 1
    assert ba.line_color == "rgb({}, {}, {})".format(*LINE_COLOR)
    out = wipe(shown(ba, 0), shown(ba, 1), ba.position / 100, ba.line_width)  # what the browser draws
    assert (out[:, :10] == RED).all() and (out[:, 10] == LINE_COLOR).all() and (out[:, 11:] == BLUE).all()
    ba.position = 25  # Python can move the split; the front end follows change:position
    assert ba.position == 25
    assert before_after(left, right, position=130).position == 100
    assert before_after(ramp(4, 512), ramp(4, 512)).line_width == 2  # default: width / 256


def test_before_after_sends_lr_small_and_the_browser_enlarges_it_with_nearest():
    hr = ramp(8, 12, 4)
    lr = ramp(2, 3, 5).astype(np.float32) / 255.0  # floats in [0, 1], 4x smaller
    ba = before_after(lr, hr, line_width=0, position=100)
    assert decode_png(ba.images[0]).shape == (2, 3, 3)
    assert np.array_equal(shown(ba, 0), enlarge(ramp(2, 3, 5), 4)) and np.array_equal(shown(ba, 1), hr)
    with pytest.raises(SrlibError, match="scaled copy"):
        before_after(ramp(4, 24), ramp(16, 6))


def test_zoom_viewer_state_gives_the_crops():
    hr = ramp(40, 40, 6)
    lr = hr[::4, ::4]
    zv = zoom_viewer({"LR": lr, "HR": hr}, zoom=2, panel=8, center=(10, 10), overview=False)
    assert zv.names == ["LR", "HR"] and zv.size == [40, 40] and zv.center == [10, 10]
    assert (zv.zoom, zv.panel, zv.overview) == (2, 8, False)
    box = crop_box(zv.center, zv.panel // zv.zoom, zv.size)  # what the front end crops
    assert np.array_equal(zoom_crop(shown(zv, 1), box, zv.zoom), enlarge(hr[8:12, 8:12], 2))
    assert np.array_equal(zoom_crop(shown(zv, 0), box, zv.zoom), enlarge(enlarge(lr, 4)[8:12, 8:12], 2))
    zv2 = zoom_viewer({"HR": hr}, zoom=40, center=(-5, 99))  # clamped: zoom 1..16, the centre inside the image
    assert zv2.zoom == 16 and zv2.center == [0, 39] and zv2.overview and zv2.overview_width == 256
    assert zoom_viewer({"HR": hr}).center == [20, 20]


def test_model_toggle_texts_hold_each_psnr():
    rng = np.random.default_rng(0)
    hr = rng.random((32, 32, 3))
    noisy = np.clip(hr + rng.normal(0, 0.05, hr.shape), 0, 1)
    lr = hr[::4, ::4]
    mt = model_toggle({"LR": lr, "noisy": noisy, "HR": hr}, reference="HR", crop=4)
    assert mt.names == ["LR", "noisy", "HR"] and mt.index == 0 and mt.size == [32, 32]
    assert np.array_equal(shown(mt, 0), enlarge(as_display(lr), 4))
    assert np.array_equal(shown(mt, 1), as_display(noisy)) and np.array_equal(shown(mt, 2), as_display(hr))
    from srlib.metrics import psnr
    assert "no PSNR" in mt.texts[0]
    assert f"{psnr(noisy, hr, crop=4):.2f} dB" in mt.texts[1] and "reference" in mt.texts[2]
    assert model_toggle({"a": hr, "b": noisy}).texts == ["a", "b"]  # no reference: just the names
    assert f"{psnr(noisy, hr, crop=2):.2f} dB vs reference" in model_toggle({"n": noisy}, reference=hr, crop=2).texts[0]
    with pytest.raises(SrlibError, match="not one of the images"):
        model_toggle({"a": hr}, reference="b")
    with pytest.raises(SrlibError, match="at least one"):
        model_toggle({})


def test_interpolation_slider_renders_every_step_once_up_front():
    calls = []

    def render(alpha):
        calls.append(alpha)
        return np.full((4, 4, 3), alpha)

    sl = interpolation_slider(render, labels=("A", "B"), steps=5, value=0.6)
    assert calls == [0.0, 0.25, 0.5, 0.75, 1.0] and sl.alphas == calls
    assert [int(shown(sl, i)[0, 0, 0]) for i in range(5)] == [0, 64, 128, 191, 255]
    assert sl.value == 0.5 and sl.labels == ["A", "B"] and not sl.live  # snapped to the nearest step
    reply, buffers = sl.answer({"type": "render", "alpha": 0.3})
    assert reply["type"] == "error" and buffers == [] and calls == [0.0, 0.25, 0.5, 0.75, 1.0]
    with pytest.raises(SrlibError, match="at least 2 steps"):
        interpolation_slider(render, steps=1)


def test_interpolation_slider_live_answers_a_message_with_the_frame():
    calls = []

    def render(alpha):
        calls.append(alpha)
        if alpha == 0.95:
            raise ValueError("boom")
        return np.full((2, 2, 3), alpha) if alpha != 0.9 else np.zeros((3, 3, 3))

    sl = interpolation_slider(render, steps=3, live=True)  # steps 0, 0.5, 1; live positions every 0.05
    assert sl.live and sl.fine == 10 and sl.snap(0.33) == 0.35
    sent = []
    sl.send = lambda content, buffers=None: sent.append((content, buffers))  # record what goes to the front end
    sl._handle_custom_msg({"type": "render", "alpha": 0.26}, [])  # as the kernel delivers a model.send
    ((reply, buffers),) = sent
    assert reply["type"] == "frame" and reply["alpha"] == 0.25 and calls[-1] == 0.25
    assert (decode_png(buffers[0]) == 64).all()
    sl._handle_custom_msg({"type": "render", "alpha": 0.25}, [])
    assert calls.count(0.25) == 1 and sent[1][1] == buffers  # from the cache
    reply, _ = sl.answer({"type": "render", "alpha": 0.95})
    assert reply["type"] == "error" and "render(0.95) failed: ValueError: boom" in reply["message"]
    reply, _ = sl.answer({"type": "render", "alpha": 0.9})
    assert reply["type"] == "error" and "larger than the first frames" in reply["message"]
    sl._handle_custom_msg({"type": "something else"}, [])
    assert len(sent) == 2


def test_interpolation_slider_render_errors_name_the_alpha():
    def render(alpha):
        if alpha > 0.5:
            raise ValueError("boom")
        return np.zeros((2, 2, 3))

    with pytest.raises(SrlibError, match=r"render\(1.00\) failed: ValueError: boom"):
        interpolation_slider(render, steps=3)


def _grid():
    """A 2 x 3 grid of solid images whose grey level encodes the key: 10 * i + 60 * j."""
    a_values, b_values = (0.0, 0.005), (0, 0.01, 0.1)
    return {(a, b): solid(4, 6, (10 * i + 60 * j,) * 3)
            for i, a in enumerate(a_values) for j, b in enumerate(b_values)}


def _cell(ge, *indices):
    """The flat cell index of a selection, row-major over the axes (as the front end computes it)."""
    cell = 0
    for axis, i in zip(ge.axes, indices):
        cell = cell * len(axis["values"]) + i
    return cell


def test_grid_explorer_state_maps_each_selection_to_its_run_and_caption():
    images = _grid()
    captions = {k: f"PSNR {20 + k[1]:.2f} dB" for k in images}
    hr = solid(2, 3, RED)  # smaller: shown enlarged to the grid's size
    ge = grid_explorer(images, ("adv", "fm"), captions=captions, fixed={"HR": hr})
    assert ge.axes == [{"name": "adv", "values": ["0", "0.005"]}, {"name": "fm", "values": ["0", "0.01", "0.1"]}]
    assert ge.selection == [0, 0] and ge.fixed_names == ["HR"] and ge.size == [4, 6]
    assert np.array_equal(shown(ge, 0, "fixed"), solid(4, 6, RED))
    first = _cell(ge, 0, 0)
    assert (shown(ge, ge.cells[first]) == 0).all() and ge.captions[first] == "adv = 0, fm = 0: PSNR 20.00 dB"
    c = _cell(ge, 0, 2)
    assert (shown(ge, ge.cells[c]) == 120).all() and ge.captions[c] == "adv = 0, fm = 0.1: PSNR 20.10 dB"
    c = _cell(ge, 1, 2)
    assert (shown(ge, ge.cells[c]) == 130).all() and "adv = 0.005, fm = 0.1" in ge.captions[c]
    assert ge.titles[c] == "0.005, 0.1"


def test_grid_explorer_missing_run_and_one_axis():
    images = _grid()
    del images[(0.005, 0.01)]
    ge = grid_explorer(images, ["adv", "fm"])
    missing = _cell(ge, 1, 1)
    assert ge.cells[missing] == -1 and ge.captions[missing] == "no run with adv = 0.005, fm = 0.01 in this grid"
    c = _cell(ge, 1, 0)
    assert (shown(ge, ge.cells[c]) == 10).all() and ge.captions[c] == "adv = 0.005, fm = 0"
    assert sorted(i for i in ge.cells if i >= 0) == list(range(5)) and len(ge.images) == 5
    line = grid_explorer({1e-3: solid(3, 3, RED), 1e-2: solid(3, 3, BLUE)}, "weight")  # plain keys: one axis
    assert line.axes == [{"name": "weight", "values": ["0.001", "0.01"]}]
    assert (shown(line, line.cells[1]) == BLUE).all() and line.captions == ["weight = 0.001", "weight = 0.01"]
    mixed = grid_explorer({"b": solid(2, 2, RED), 1: solid(2, 2, BLUE)}, "v")  # values that do not sort
    assert mixed.axes[0]["values"] == ["b", "1"] and mixed.selection == [0]


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
