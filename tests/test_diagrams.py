"""Diagrams: each draws, its numbers come from the built models, no text overlaps, sub-pixel colours
follow PixelShuffle."""
import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch, Rectangle  # noqa: E402

import torch  # noqa: E402

from srlib import SrlibError, diagrams  # noqa: E402
from srlib.models import ResidualBlock, build_discriminator, build_generator  # noqa: E402

# every function with its defaults, and other presets and arguments that change the layout
CASES = [(name, {}) for name in diagrams.ALL] + [
    ("srresnet", {"preset": "srresnet"}), ("srresnet", {"preset": "srresnet-cpu-bn", "scale": 2}),
    ("srresnet", {"preset": "srresnet-tiny", "scale": 8}), ("srresnet", {"preset": "srresnet", "scale": 3}),
    ("subpixel_conv", {"r": 3}), ("subpixel_conv", {"r": 2, "channels": 2}), ("subpixel_conv", {"r": 4}),
    ("srgan_discriminator", {"patch": 128, "preset": "srgan"}), ("rrdb", {"preset": "rrdbnet-cpu"}),
    ("residual_block", {"channels": 32, "bn": False, "act": "relu"}),
]


def draw(name, **kw):
    fig = diagrams.ALL[name](**kw)
    fig.canvas.draw()
    return fig


def texts(fig) -> list:
    """The texts a reader sees: titles, labels and annotations (the hidden axes' tick labels are left out)."""
    drawn = list(fig.texts) + [t for ax in fig.axes for t in (ax.title, *ax.texts)]
    return [t for t in drawn if t.get_visible() and t.get_text().strip()]


def all_text(fig) -> str:
    return "\n".join(t.get_text() for t in texts(fig))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{'-'.join(map(str, k.values()))}" for n, k in CASES])
def test_diagram_draws_legibly(name, kw):
    """A titled, described figure of notebook width in which no two texts overlap and every text fits."""
    fig = draw(name, **kw)
    width, height = fig.get_size_inches()
    assert 9 <= width <= 10.5 and 3 <= height <= 6
    assert len(fig.axes[0].get_title()) > 20
    assert len(fig.alt_text) > 100
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    boxes = [(t.get_text(), t.get_window_extent(renderer).expanded(0.98, 0.9)) for t in texts(fig)]
    for text, bb in boxes:
        assert page.x0 <= bb.x0 and bb.x1 <= page.x1 and page.y0 <= bb.y0 and bb.y1 <= page.y1, f"{text!r} is cut off"
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), f"{ta!r} overlaps {tb!r}"
    shapes = [p for p in fig.findobj(lambda a: isinstance(a, (FancyBboxPatch, Rectangle, Circle)))
              if p is not fig.patch and all(p is not ax.patch for ax in fig.axes)]
    for patch in shapes:  # boxes, grid cells, frames: a text is either inside one or clear of it
        pb = patch.get_window_extent(renderer)
        for text, bb in boxes:
            inside = pb.x0 <= bb.x0 and bb.x1 <= pb.x1 and pb.y0 <= bb.y0 and bb.y1 <= pb.y1
            assert inside or not pb.overlaps(bb), f"{text!r} sticks out of, or into, a box"


def test_text_overlap_is_detected():
    """The overlap check above can fail: two texts drawn on top of each other are caught."""
    fig, ax = diagrams._canvas(10, 3, "a title long enough for the check", "alt")
    ax.text(1, 1, "one label")
    ax.text(1.1, 1, "another label")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    a, b = (t.get_window_extent(renderer).expanded(0.98, 0.9) for t in texts(fig)[1:])  # [0] is the title
    assert a.overlaps(b)


@pytest.mark.parametrize("preset", ["srresnet-cpu", "srresnet-tiny", "srresnet", "srresnet-course"])
def test_srresnet_labels_come_from_the_model(preset):
    model = build_generator(preset, 4)
    channels = model.head[0].out_channels
    blocks = sum(isinstance(m, ResidualBlock) for m in model.body)
    lr_space = isinstance(model.tail, torch.nn.Identity)
    fig = draw("srresnet", preset=preset, scale=4, lr_size=20)
    text = all_text(fig)
    assert f"{blocks} × residual" in text and f"{channels} ch" in text
    assert f"3→{channels}" in text
    assert f"{blocks} residual block{'s' if blocks > 1 else ''} × {channels} channels" in fig.axes[0].get_title()
    assert "3×20×20" in text and "3×80×80" in text
    if lr_space:  # one conv to 3 * 4^2 channels on the LR grid, no HR-space feature maps
        assert f"{channels}→48" in text and "shuffle ×4" in text and f"{channels}×40×40" not in text
        assert "one LR-space sub-pixel conv" in fig.axes[0].get_title()
    else:
        assert f"{channels}→{channels * 4}" in text and f"{channels}×40×40" in text
    assert ("image skip" in text) == bool(model.image_skip)


def test_srresnet_follows_the_scale_and_preset():
    x2, x4 = (all_text(draw("srresnet", preset="srresnet", scale=s)) for s in (2, 4))
    assert x2.count("shuffle ×2") == 1 and x4.count("shuffle ×2") == 2
    assert "3×48×48" in x2 and "3×96×96" in x4
    assert "shuffle ×3" in all_text(draw("srresnet", preset="srresnet", scale=3))
    assert "shuffle ×2" in all_text(draw("srresnet", preset="srresnet-cpu", scale=2))
    assert "BN" in all_text(draw("srresnet", preset="srresnet-cpu-bn")) and "BN" not in all_text(draw("srresnet"))
    assert all_text(draw("srresnet", preset="srresnet-tiny")) != x4


@pytest.mark.parametrize("r,channels,size", [(2, 1, 2), (3, 1, 2), (2, 2, 2), (4, 1, 1), (2, 1, 3)])
def test_subpixel_colours_follow_pixel_shuffle(r, channels, size):
    """Output cell (c, r*y+i, r*x+j) has the colour and number of conv channel c*r^2 + r*i + j at (y, x)."""
    fig = draw("subpixel_conv", r=r, channels=channels, size=size)
    cells = {p.get_gid(): p for p in fig.findobj(Rectangle) if p.get_gid()}
    ins = {g: p for g, p in cells.items() if g.startswith("in:")}
    outs = {g: p for g, p in cells.items() if g.startswith("out:")}
    n = channels * r * r
    assert len(ins) == n * size * size and len(outs) == channels * (r * size) ** 2
    assert len({tuple(p.get_facecolor()) for p in ins.values()}) == n  # one colour per conv channel
    numbers = [(np.array(t.get_position()), t.get_text()) for t in texts(fig) if t.get_text().isdigit()]

    def label(p):
        centre = np.array([p.get_x() + p.get_width() / 2, p.get_y() + p.get_height() / 2])
        return min(numbers, key=lambda n: np.abs(n[0] - centre).sum())[1]

    for c, big_y, big_x in itertools.product(range(channels), range(r * size), range(r * size)):
        (y, i), (x, j) = divmod(big_y, r), divmod(big_x, r)
        k = c * r * r + r * i + j
        out, src = outs[f"out:{c}:{big_y}:{big_x}"], ins[f"in:{k}:{y}:{x}"]
        assert np.allclose(out.get_facecolor(), src.get_facecolor())
        assert label(out) == label(src) == str(k * size * size + y * size + x)


def test_subpixel_colour_check_can_fail():
    """A transposed rearrangement (blocks read column-major) would be caught by the check above."""
    fig = draw("subpixel_conv", r=2)
    cells = {p.get_gid(): p for p in fig.findobj(Rectangle) if p.get_gid()}
    wrong = cells["in:" + f"{2 * 0 + 1 * 2}:0:0"]  # channel r*j + i for (i, j) = (0, 1)
    assert not np.allclose(cells["out:0:0:1"].get_facecolor(), wrong.get_facecolor())


@pytest.mark.parametrize("preset,patch", [("srgan-cpu", 96), ("srgan", 96), ("srgan", 128), ("srgan-tiny", 40)])
def test_discriminator_numbers_come_from_the_model(preset, patch):
    model = build_discriminator(preset, patch)
    text = all_text(draw("srgan_discriminator", patch=patch, preset=preset))
    widths = [b[0].out_channels for b in model.body]
    side = -(-patch // 16)
    for w in set(widths):
        assert f"\n{w} ch\n" in text
    assert text.count(", s2\n") == 4 and text.count(", s1\n") == 4
    assert f"{widths[-1]}×{side}×{side}" in text and f"3×{patch}×{patch}" in text
    dense = model.head[2]
    assert f"{dense.in_features:,}→{dense.out_features}" in text and f"{dense.out_features}→1" in text


def test_rrdb_numbers_come_from_the_model():
    paper, cpu = all_text(draw("rrdb")), all_text(draw("rrdb", preset="rrdbnet-cpu"))
    assert "64→32" in paper and "192→64" in paper and "β\n0.2" in paper
    assert "32→16" in cpu and "96→32" in cpu and "192→64" not in cpu
    assert paper.count("dense\nblock") == 3


def test_residual_block_follows_its_switches():
    default, plain = all_text(draw("residual_block")), all_text(draw("residual_block", channels=32, bn=False,
                                                                      act="relu"))
    assert default.count("batch\nnorm") == 2 and "PReLU" in default and "64→64" in default
    assert "batch" not in plain and "ReLU" in plain and "32→32" in plain


def test_concept_diagrams_name_their_parts():
    pipeline, game, rel = (all_text(draw(n)) for n in ("srgan_pipeline", "gan_game", "relativistic_d"))
    assert "L_G" in pipeline and "L_D" in pipeline and "content loss" in pipeline and "adversarial loss" in pipeline
    assert "LR" in pipeline and "HR" in pipeline and "SR = G(LR)" in pipeline
    assert "D maximises" in game and "G minimises" in game and "non-saturating" in game
    assert "D_{Ra}" in rel and r"\mathbb{E}[C(x_f)]" in rel and r"\sigma(C(x))" in rel


@pytest.mark.parametrize("call", [lambda: diagrams.srresnet("rrdbnet-cpu"), lambda: diagrams.rrdb("srresnet-cpu"),
                                  lambda: diagrams.srgan_discriminator(preset="patch-sn-cpu"),
                                  lambda: diagrams.srresnet("srresnet-cpux"), lambda: diagrams.subpixel_conv(5),
                                  lambda: diagrams.srresnet(scale=5), lambda: diagrams.srresnet(lr_size=0),
                                  lambda: diagrams.srgan_discriminator(patch=0)])
def test_wrong_arguments_are_refused_in_one_line(call):
    with pytest.raises(SrlibError):
        call()
