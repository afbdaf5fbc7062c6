"""Architecture and concept diagrams drawn with matplotlib, from srlib's real models.

Every function returns a matplotlib Figure about 10 inches wide (notebook width),
with a title and an `alt_text` attribute that describes the picture in words.
Where a diagram shows a network, its numbers (channels, blocks, strides, feature
map sizes) are read from the module that `build_generator`/`build_discriminator`
builds, and sizes come from running a zero tensor through it, so the picture
follows the presets. All diagrams share one small set of drawing helpers
(`_canvas`, `_box`, `_arrow`, `_path`, `_chain`, `_note`); axes coordinates are inches.
"""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.patches import Circle, FancyBboxPatch, Rectangle
from torch import nn

from .errors import SrlibError
from .models import (RRDB, DenseBlock, ResidualBlock, RRDBNet, SRGANDiscriminator, SRResNet, build_discriminator,
                     build_generator)

# face colour per kind of box; edges are a darker grey
FILL = {"image": "#e8e8e8", "conv": "#cfe2f3", "norm": "#fce5cd", "act": "#d9ead3", "loss": "#f4cccc",
        "net": "#d9d2e9", "op": "#ffffff", "dense": "#fff2cc", "block": "#cfe2f3"}
G_COLOR, D_COLOR, LOSS_COLOR, SKIP_COLOR = "#1f5fa8", "#b03a2e", "#b03a2e", "#2e7d32"
FONT = 8.5
TITLE_BAND = 0.45  # inches above the drawing for the title


@dataclass(frozen=True)
class Box:
    """A drawn box: centre (x, y) and size (w, h), in inches."""

    x: float
    y: float
    w: float
    h: float

    @property
    def left(self):
        return (self.x - self.w / 2, self.y)

    @property
    def right(self):
        return (self.x + self.w / 2, self.y)

    @property
    def top(self):
        return (self.x, self.y + self.h / 2)

    @property
    def bottom(self):
        return (self.x, self.y - self.h / 2)


def _canvas(width: float, height: float, title: str, alt: str):
    """A figure whose axes count in inches, with the title in a band above and `alt` as fig.alt_text."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, (height - TITLE_BAND) / height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height - TITLE_BAND)
    ax.set_axis_off()
    ax.set_title(title, fontsize=11, pad=8)
    fig.alt_text = alt
    return fig, ax


def _box(ax, x, y, text, w=0.9, h=0.62, kind="conv", fontsize=FONT, edge="0.35") -> Box:
    """A rounded box (a circle for kind "op") centred at (x, y) with centred text."""
    if kind == "op":
        ax.add_patch(Circle((x, y), w / 2, fc=FILL[kind], ec=edge, lw=1.1, zorder=2))
    else:
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.06",
                                    fc=FILL[kind], ec=edge, lw=1.1, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3, linespacing=1.25)
    return Box(x, y, w, w if kind == "op" else h)


def _op(ax, x, y, symbol="+", d=0.3) -> Box:
    """A small circle with an operator (+, −, ×) in it."""
    return _box(ax, x, y, symbol, w=d, h=d, kind="op", fontsize=11)


def _arrow(ax, a, b, text=None, color="0.2", offset=(0, 0.12), fontsize=FONT - 0.5, lw=1.2, ha="center"):
    """A straight arrow from point a to point b, with a label near its middle."""
    ax.annotate("", xy=b, xytext=a, zorder=2,
                arrowprops=dict(arrowstyle="-|>", color=color, lw=lw, shrinkA=0, shrinkB=0, mutation_scale=11))
    if text:
        ax.text((a[0] + b[0]) / 2 + offset[0], (a[1] + b[1]) / 2 + offset[1], text, ha=ha, va="center",
                fontsize=fontsize, color=color, zorder=3)


def _path(ax, points, text=None, at=1, color="0.2", offset=(0, 0.12), fontsize=FONT - 0.5, lw=1.2, ha="center"):
    """A polyline through `points` ending in an arrow; the label sits by the middle of segment `at`."""
    xs, ys = zip(*points[:-1])
    ax.plot(xs, ys, color=color, lw=lw, zorder=2, solid_capstyle="butt")
    _arrow(ax, points[-2], points[-1], color=color, lw=lw)
    if text:
        (x0, y0), (x1, y1) = points[at], points[at + 1]
        ax.text((x0 + x1) / 2 + offset[0], (y0 + y1) / 2 + offset[1], text, ha=ha, va="center", fontsize=fontsize,
                color=color, zorder=3)


def _skip(ax, a: Box, b: Box, height, text=None, color=SKIP_COLOR, below=False, offset=0.12):
    """A right-angled skip connection from box a to box b, `height` above (or below) the row."""
    y = (a.y - a.h / 2 - height) if below else (a.y + a.h / 2 + height)
    start = a.bottom if below else a.top
    end = b.bottom if below else b.top
    _path(ax, [start, (start[0], y), (end[0], y), end], text, color=color,
          offset=(0, -offset if below else offset))


def _note(ax, x, y, text, fontsize=FONT - 1.5, color="0.3", **kw):
    """Small grey text: a tensor shape, a remark."""
    ax.text(x, y, text, ha=kw.pop("ha", "center"), va=kw.pop("va", "center"), fontsize=fontsize, color=color,
            zorder=3, **kw)


def _chain(ax, items, y, x0, gap=0.25, h=0.62, fontsize=FONT) -> list[Box]:
    """Boxes left to right from x0, `gap` apart, joined by arrows; items are (text, kind, width) or "+"/"−"."""
    boxes: list[Box] = []
    x = x0
    for item in items:
        if isinstance(item, str):
            w = 0.3
            box = _op(ax, x + w / 2, y, item, d=w)
        else:
            text, kind, w = item
            box = _box(ax, x + w / 2, y, text, w=w, h=h, kind=kind, fontsize=fontsize)
        if boxes:
            _arrow(ax, boxes[-1].right, box.left)
        boxes.append(box)
        x += w + gap
    return boxes


def _chain_width(items, gap=0.25) -> float:
    """The width `_chain` gives these items, to centre a row."""
    return sum(0.3 if isinstance(i, str) else i[2] for i in items) + gap * (len(items) - 1)


def _shape(t: torch.Tensor) -> str:
    return "×".join(str(s) for s in t.shape[1:])


def _act_name(m: nn.Module) -> str:
    if isinstance(m, nn.LeakyReLU):
        return f"LReLU {m.negative_slope:g}"
    return type(m).__name__


# ---------------------------------------------------------------------------------------------------------- SRGAN

def srgan_pipeline():
    """SRGAN training: LR -> G -> SR; D judges SR and HR; content loss (SR vs HR) and adversarial loss train G."""
    alt = ("An HR image is downscaled to LR; the generator G maps LR to SR. A content loss (pixel L1/MSE or "
           "VGG perceptual) compares SR with HR. The discriminator D sees SR and HR and outputs a real/fake logit "
           "for each; its loss L_D teaches it to tell them apart, and the adversarial term flows back to G, whose "
           "loss L_G is the content loss plus a small weight times the adversarial loss.")
    fig, ax = _canvas(10, 4.6, "SRGAN training: G turns LR into SR; D tells SR from HR; two losses train them", alt)
    lr = _box(ax, 0.75, 2.85, "LR image\n(input)", w=0.95, kind="image")
    g = _box(ax, 2.55, 2.85, "generator G\n(SRResNet)", w=1.2, h=0.7, kind="net", edge=G_COLOR)
    sr = _box(ax, 4.5, 2.85, "SR = G(LR)", w=1.1, kind="image")
    hr = _box(ax, 4.5, 0.55, "HR image\n(ground truth)", w=1.1, kind="image")
    content = _box(ax, 4.5, 1.7, "content loss\npixel L1 / VGG", w=1.25, h=0.6, kind="loss", edge=LOSS_COLOR)
    d = _box(ax, 7.0, 1.7, "discriminator D\n(conv net)", w=1.3, h=0.7, kind="net", edge=D_COLOR)
    out = _box(ax, 8.95, 1.7, "logits\nD(SR), D(HR)", w=1.2, kind="image")
    _arrow(ax, lr.right, g.left)
    _arrow(ax, g.right, sr.left)
    _arrow(ax, sr.bottom, content.top)
    _arrow(ax, hr.top, content.bottom)
    _arrow(ax, sr.right, (d.left[0], d.y + 0.15), "fake", offset=(0.05, 0.2))
    _arrow(ax, hr.right, (d.left[0], d.y - 0.15), "real", offset=(0.05, -0.2))
    _arrow(ax, d.right, out.left)
    _path(ax, [hr.left, (lr.x, hr.y), lr.bottom], "downscale ×s (bicubic)", at=0, color="0.35")
    _path(ax, [content.left, (g.x + 0.3, content.y), (g.x + 0.3, g.y - 0.35)], "content", at=0,
          color=LOSS_COLOR, offset=(0, 0.13))
    _path(ax, [(d.x, d.y + 0.35), (d.x, 3.75), (g.x, 3.75), g.top],
          "adversarial loss: G wants D to call SR real", at=1, color=LOSS_COLOR)
    ax.text(0.95, 2.05, r"$L_G = L_{content} + \lambda\, L_{adv}$", fontsize=10, color=G_COLOR, ha="left")
    ax.text(0.95, 1.72, "(G's step; D frozen)", fontsize=FONT - 1, color=G_COLOR, ha="left")
    ax.text(9.9, 0.85, r"$L_D = \mathrm{BCE}(D(HR), 1) + \mathrm{BCE}(D(SR), 0)$", fontsize=10, color=D_COLOR,
            ha="right")
    ax.text(9.9, 0.5, "(D's step; SR detached from G)", fontsize=FONT - 1, color=D_COLOR, ha="right")
    return fig


def residual_block(channels: int = 64, bn: bool = True, act: str = "prelu"):
    """SRResNet's residual block as srlib builds it (conv-BN-PReLU-conv-BN by default), with its identity path."""
    block = ResidualBlock(channels, bn=bn, act=act)
    items = [("x\n" + f"{channels} ch", "image", 0.7)]
    for m in block.body:
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0]
            items.append((f"conv {k}×{k}\n{m.in_channels}→{m.out_channels}", "conv", 0.95))
        elif isinstance(m, nn.BatchNorm2d):
            items.append(("batch\nnorm", "norm", 0.75))
        else:
            items.append((_act_name(m), "act", 0.8))
    items += ["+", ("x + F(x)", "image", 0.9)]
    names = "-".join("BN" if isinstance(m, nn.BatchNorm2d) else
                     ("conv" if isinstance(m, nn.Conv2d) else _act_name(m)) for m in block.body)
    alt = (f"The input x ({channels} channels) goes through {names}, giving the residual F(x); an identity path "
           "carries x around the body unchanged, and the two are added: the block outputs x + F(x), so it only "
           "has to learn a correction.")
    fig, ax = _canvas(10, 3.2, f"SRResNet residual block: {names}, plus the identity path", alt)
    boxes = _chain(ax, items, 1.2, (10 - _chain_width(items)) / 2)
    _skip(ax, boxes[0], boxes[-2], 0.65, "identity path: x passes unchanged", color=SKIP_COLOR)
    body = boxes[1:-2]
    x0, x1 = body[0].x - body[0].w / 2, body[-1].x + body[-1].w / 2
    ax.add_patch(Rectangle((x0 - 0.08, 0.62), x1 - x0 + 0.16, 1.16, fill=False, ec="0.5", ls="--", lw=0.9))
    _note(ax, (x0 + x1) / 2, 0.42, "residual branch F(x): same shape in and out (3×3 convs, padding 1)")
    return fig


def srresnet(preset: str = "srresnet-cpu", scale: int = 4, lr_size: int = 24):
    """The SRResNet preset's pipeline, its numbers read from the built model and its shapes from a forward pass."""
    if not isinstance(lr_size, int) or lr_size < 1:
        raise SrlibError(f"lr_size is the LR input's side in pixels, a positive integer; got {lr_size!r}.")
    model = build_generator(preset, scale)
    if not isinstance(model, SRResNet):
        raise SrlibError(f"srresnet() draws SRResNet presets; {preset!r} is a {type(model).__name__}. "
                         "Use rrdb() for RRDBNet presets.")
    model.eval()
    seen: dict[str, torch.Tensor] = {}
    hooks = [model.head.register_forward_hook(lambda m, i, o: seen.__setitem__("head", o))]
    shuffles = [m for m in model.upsample if isinstance(m, nn.PixelShuffle)]
    for k, m in enumerate(shuffles):
        hooks.append(m.register_forward_hook(lambda m, i, o, k=k: seen.__setitem__(f"up{k}", o)))
    with torch.no_grad():
        out = model(torch.zeros(1, 3, lr_size, lr_size))
    for h in hooks:
        h.remove()

    head_conv, head_act = model.head[0], model.head[1]
    blocks = [m for m in model.body if isinstance(m, ResidualBlock)]
    c = head_conv.out_channels
    bn = any(isinstance(m, nn.BatchNorm2d) for m in model.body.modules())
    block_act = next((_act_name(m) for m in blocks[0].body if not isinstance(m, (nn.Conv2d, nn.BatchNorm2d))), "")
    ups = [m for m in model.upsample if isinstance(m, nn.Conv2d)]
    up_acts = [m for m in model.upsample if not isinstance(m, (nn.Conv2d, nn.PixelShuffle))]
    lr_space = isinstance(model.tail, nn.Identity)  # upsampler="lr": one conv to 3r^2 channels, then the shuffle
    k_head = head_conv.kernel_size[0]

    items = [(f"LR\n3×{lr_size}×{lr_size}", "image", 0.75),
             (f"conv {k_head}×{k_head}\n3→{c}\n{_act_name(head_act)}", "conv", 0.85),
             (f"{len(blocks)} × residual\nblock\n{c} ch{', BN' if bn else ''}", "block", 1.0),
             (f"conv 3×3\n{c}→{c}" + ("\n+ BN" if bn else ""), "conv", 0.8), "+"]
    if lr_space:
        stages = [f"conv {ups[0].in_channels}→{ups[0].out_channels}\n(3·{scale}²) on LR\nshuffle ×{scale}"]
    else:
        stages = [f"conv {conv.in_channels}→{conv.out_channels}\nshuffle ×{shuffle.upscale_factor}\n{_act_name(act)}"
                  for conv, shuffle, act in zip(ups, shuffles, up_acts)]
    merged = len(stages) > 2 and len(set(stages)) == 1  # x8: three equal stages drawn as one box
    items += [(f"{len(stages)} × stage:\n{stages[0]}", "conv", 0.95)] if merged else [(t, "conv", 0.95)
                                                                                     for t in stages]
    if not lr_space:
        k_tail = model.tail.kernel_size[0]
        items.append((f"conv {k_tail}×{k_tail}\n{c}→3", "conv", 0.75))
    if model.image_skip:
        items.append("+")
    items.append((f"SR\n{_shape(out)}", "image", 0.75))

    factors = " and ".join(f"×{m.upscale_factor}" for m in shuffles)
    alt = (f"SRResNet preset {preset} at x{scale}: an LR input of 3×{lr_size}×{lr_size} goes through a {k_head}×"
           f"{k_head} head conv to {c} channels, {len(blocks)} residual blocks of {c} channels"
           f"{' with batch norm' if bn else ' without batch norm'} ({block_act}), a 3×3 conv, and a long skip from "
           f"the head adds the head's features back. "
           + (f"One conv on the LR grid makes 3·{scale}² channels and one pixel shuffle (×{scale}) turns them into "
              f"the RGB image" if lr_space else
              f"{len(shuffles)} sub-pixel stage(s) ({factors}) enlarge the feature maps, a {model.tail.kernel_size[0]}×"
              f"{model.tail.kernel_size[0]} conv maps them to 3 channels")
           + f"{', and a ' + model.image_skip + ' upscaled copy of the input is added' if model.image_skip else ''}; "
           f"the output is {_shape(out)}.")
    plural = "s" if len(blocks) != 1 else ""
    up_title = ("one LR-space sub-pixel conv" if lr_space else
                f"{len(shuffles)} sub-pixel stage{'s' if len(shuffles) > 1 else ''}")
    fig, ax = _canvas(10, 3.6, f"SRResNet '{preset}' at ×{scale}: {len(blocks)} residual block{plural} × {c} "
                               f"channels, {up_title}", alt)
    gap = 0.2
    y = 1.6
    boxes = _chain(ax, items, y, (10 - _chain_width(items, gap)) / 2, gap=gap, h=0.78, fontsize=FONT - 0.5)
    head, plus = boxes[1], boxes[4]
    _skip(ax, head, plus, 0.35, "long skip (head features)")
    shape_of = {1: seen["head"], 2: seen["head"], 3: seen["head"]}
    if merged:
        shape_of[5] = seen[f"up{len(shuffles) - 1}"]
    else:
        shape_of.update({5 + k: seen[f"up{k}"] for k in range(len(shuffles))})
    for i, t in shape_of.items():
        _note(ax, boxes[i].x, y - 0.55, _shape(t))
    if model.image_skip:
        lr_box, plus2 = boxes[0], boxes[-2]
        _skip(ax, lr_box, plus2, 0.5, f"image skip: {model.image_skip} ×{scale} of the LR input", below=True)
    return fig


def subpixel_conv(r: int = 2, channels: int = 1, size: int = 2):
    """Sub-pixel convolution: a conv makes C·r² channels, PixelShuffle puts each r² group into r×r blocks.

    The cells are coloured by input channel and numbered by their index in the
    conv's output tensor; the output grid is `pixel_shuffle` applied to that
    index tensor, so the picture is the real rearrangement. Output cells carry
    gid "out:c:row:col", conv-output cells "in:k:row:col".
    """
    if r not in (2, 3, 4) or channels not in (1, 2) or not 1 <= size <= 3 or channels * r * r > 20:
        raise SrlibError(f"subpixel_conv draws r in 2..4, channels 1 or 2 (at most 20 sub-channels) and size 1..3; "
                         f"got r={r}, channels={channels}, size={size}.")
    n = channels * r * r
    index = torch.arange(n * size * size).reshape(1, n, size, size)
    shuffled = F.pixel_shuffle(index, r)[0]
    colors = plt.get_cmap("tab20" if n > 10 else "tab10")(range(n))
    alt = (f"A feature map of {channels} channel(s), {size}×{size}, goes through a convolution to {n} channels "
           f"(C·r² with r={r}), each drawn in its own colour. PixelShuffle({r}) then moves every group of {r * r} "
           f"channels into {r}×{r} blocks of one {channels}-channel map of {size * r}×{size * r}: output pixel "
           f"(c, {r}y+i, {r}x+j) is channel c·{r * r}+{r}i+j at (y, x). Numbers are element indices of the conv "
           "output, rearranged by torch.nn.functional.pixel_shuffle.")
    fig, ax = _canvas(10, 3.9, f"Sub-pixel convolution (r={r}): conv to C·r² = {n} channels, then PixelShuffle "
                               f"moves each group of {r * r} into {r}×{r} blocks", alt)
    y_axis, room = 2.02, 2.5  # the row's centre line and the height the grids may fill (captions below)
    # the input feature map (channels stacked with an offset)
    cell_in = 0.36
    x_in, y_in = 0.35, y_axis - size * cell_in / 2
    for ch in range(channels):
        for yy in range(size):
            for xx in range(size):
                ax.add_patch(Rectangle((x_in + xx * cell_in + ch * 0.12, y_in + (size - 1 - yy) * cell_in - ch * 0.12),
                                       cell_in, cell_in, fc="0.85", ec="0.4", lw=0.8, zorder=2 + ch))
    _note(ax, x_in + size * cell_in / 2, y_in - 0.12 * (channels - 1) - 0.32, f"features\n{channels}×{size}×{size}",
          fontsize=FONT - 0.5)
    # the conv's output: n channels of size×size, r to a row
    rows = n // r
    cell = min(0.4, (room - 0.15 * (rows - 1)) / (rows * size))
    grid, gap = size * cell, 0.15
    x_mid = 2.7
    y_mid = y_axis + (rows * grid + (rows - 1) * gap) / 2
    for k in range(n):
        row, col = divmod(k, r)
        gx, gy = x_mid + col * (grid + gap), y_mid - (row + 1) * grid - row * gap
        for yy in range(size):
            for xx in range(size):
                ax.add_patch(Rectangle((gx + xx * cell, gy + (size - 1 - yy) * cell), cell, cell, fc=colors[k],
                                       ec="white", lw=1, zorder=2, gid=f"in:{k}:{yy}:{xx}"))
                ax.text(gx + (xx + 0.5) * cell, gy + (size - 0.5 - yy) * cell, str(int(index[0, k, yy, xx])),
                        ha="center", va="center", fontsize=FONT - 1.5 if cell < 0.3 else FONT - 0.5, zorder=3)
    x_mid_end = x_mid + r * (grid + gap) - gap
    _note(ax, (x_mid + x_mid_end) / 2, y_mid - rows * (grid + gap) - 0.2,
          f"conv output: C·r² = {n} channels of {size}×{size}\n(channel k drawn in colour k)", fontsize=FONT - 0.5)
    _arrow(ax, (x_in + size * cell_in + 0.15 + 0.12 * (channels - 1), y_axis), (x_mid - 0.15, y_axis),
           f"conv 3×3\n{channels}→{n}", offset=(0, 0.3))
    # the PixelShuffle output
    big = size * r
    cell_out = min(0.45, room / big)
    width_out = channels * big * cell_out + (channels - 1) * 0.25
    x_out = 9.75 - width_out
    y_out = y_axis - big * cell_out / 2
    for c in range(channels):
        ox = x_out + c * (big * cell_out + 0.25)
        for yy in range(big):
            for xx in range(big):
                src = int(shuffled[c, yy, xx])
                ax.add_patch(Rectangle((ox + xx * cell_out, y_out + (big - 1 - yy) * cell_out), cell_out, cell_out,
                                       fc=colors[src // (size * size)], ec="white", lw=1, zorder=2,
                                       gid=f"out:{c}:{yy}:{xx}"))
                ax.text(ox + (xx + 0.5) * cell_out, y_out + (big - 0.5 - yy) * cell_out, str(src), ha="center",
                        va="center", fontsize=FONT - 1.5 if cell_out < 0.3 else FONT - 0.5, zorder=3)
    _note(ax, x_out + width_out / 2, y_out - 0.22, f"PixelShuffle output: {channels}×{big}×{big}",
          fontsize=FONT - 0.5)
    _arrow(ax, (x_mid_end + 0.15, y_axis), (x_out - 0.15, y_axis), f"PixelShuffle({r})", offset=(0, 0.25))
    _note(ax, (x_mid_end + x_out) / 2, y_axis - 0.55,
          f"out[c, {r}y+i, {r}x+j]\n= conv[c·{r * r}+{r}i+j, y, x]:\neach {r}×{r} block takes one\n"
          f"pixel from each of {r * r} channels", fontsize=FONT - 1)
    return fig


def srgan_discriminator(patch: int = 96, preset: str = "srgan-cpu"):
    """SRGAN's discriminator preset: 8 conv blocks (channels, strides, map sizes from the built model), dense head."""
    model = build_discriminator(preset, patch)
    if not isinstance(model, SRGANDiscriminator):
        raise SrlibError(f"srgan_discriminator() draws SRGAN discriminator presets; {preset!r} is a "
                         f"{type(model).__name__}.")
    model.eval()
    with torch.no_grad():
        feats = model.features(torch.zeros(1, 3, patch, patch))
        pooled = model.head[:2](feats[-1])
    pool, dense1, act, dense2 = model.head[0], model.head[2], model.head[3], model.head[4]
    items = [(f"SR or HR\npatch\n3×{patch}×{patch}", "image", 0.8)]
    for block in model.body:
        conv = block[0]
        has_bn = any(isinstance(m, nn.BatchNorm2d) for m in block)
        items.append((f"conv {conv.kernel_size[0]}×{conv.kernel_size[1]}, s{conv.stride[0]}\n"
                      f"{conv.out_channels} ch\n{'BN, ' if has_bn else ''}LReLU", "conv", 0.86))
    grid = pool.output_size if isinstance(pool.output_size, int) else pool.output_size[0]
    head = [(f"avg pool\nto {grid}×{grid}", "norm", 0.9), (f"flatten\n{pooled.shape[1]:,}", "norm", 0.9),
            (f"dense\n{dense1.in_features:,}→{dense1.out_features}", "dense", 1.1), (_act_name(act), "act", 0.9),
            (f"dense\n{dense2.in_features}→{dense2.out_features}", "dense", 0.95),
            ("logit\n(no sigmoid)", "image", 1.0)]
    widths = [b[0].out_channels for b in model.body]
    strides = [b[0].stride[0] for b in model.body]
    alt = (f"Discriminator preset {preset} for {patch}×{patch} patches: 8 conv blocks with channels "
           f"{', '.join(map(str, widths))} and strides {', '.join(map(str, strides))}, LeakyReLU after each and "
           f"batch norm after all but the first, shrink the map to {_shape(feats[-1])}; an average pool to "
           f"{grid}×{grid}, a dense layer of {dense1.out_features}, LeakyReLU and a dense layer to 1 give one raw "
           "logit per image (real or fake), read with BCE-with-logits.")
    fig, ax = _canvas(10, 3.9, f"SRGAN discriminator '{preset}' on {patch}×{patch} patches: 8 conv blocks "
                               f"{widths[0]}→{widths[-1]} ch, dense {dense1.out_features}, one logit", alt)
    _note(ax, 0.1, 3.22, "s = stride; map sizes (C×H×W) under each block, from a forward pass", ha="left")
    gap = 0.2
    top = _chain(ax, items, 2.5, (10 - _chain_width(items, gap)) / 2, gap=gap, h=0.8, fontsize=FONT - 1)
    for box, f in zip(top[1:], feats):
        _note(ax, box.x, box.y - 0.54, _shape(f), fontsize=FONT - 1.5)
    bottom = _chain(ax, head, 0.75, (10 - _chain_width(head, 0.3)) / 2, gap=0.3, h=0.62, fontsize=FONT - 1)
    start = (top[-1].x + 0.32, top[-1].y - top[-1].h / 2)
    _path(ax, [start, (start[0], 1.5), (bottom[0].x, 1.5), bottom[0].top], color="0.2")
    _note(ax, 5.0, 1.62, f"after 8 blocks: {_shape(feats[-1])} (each stride 2 halves the side, rounding up)",
          fontsize=FONT - 1)
    return fig


# ---------------------------------------------------------------------------------------------------------- ESRGAN

def rrdb(preset: str = "rrdbnet", scale: int = 4):
    """ESRGAN's residual-in-residual dense block, its channels, growth and beta read from the preset's first RRDB."""
    model = build_generator(preset, scale)
    if not isinstance(model, RRDBNet):
        raise SrlibError(f"rrdb() draws RRDBNet presets; {preset!r} is a {type(model).__name__}. "
                         "Use srresnet() for SRResNet presets.")
    block: RRDB = model.body[0]
    dense: list[DenseBlock] = list(block.blocks)
    convs = list(dense[0].convs)
    c, beta, beta_in = convs[0].in_channels, block.res_scale, dense[0].res_scale
    growth = convs[0].out_channels
    alt = (f"Top: an RRDB of preset {preset} ({len(model.body)} RRDBs in the network): the input passes through "
           f"{len(dense)} dense blocks in a row, the result is scaled by beta={beta:g} and added to the input "
           f"(residual in residual). Bottom: one dense block: {len(convs)} 3×3 convs, each fed the concatenation of "
           f"the block input and all earlier conv outputs ({', '.join(f'{m.in_channels}' for m in convs)} input "
           f"channels, growth {growth}), LeakyReLU after all but the last, whose {convs[-1].out_channels}-channel "
           f"output is scaled by beta={beta_in:g} and added to the block input. No batch norm anywhere.")
    fig, ax = _canvas(10, 5.6, f"ESRGAN's RRDB ('{preset}': {len(model.body)} RRDBs × {c} ch, growth {growth}): "
                               f"{len(dense)} dense blocks in a residual-in-residual, scaled by β = {beta:g}", alt)
    top_items = [(f"x\n{c} ch", "image", 0.6)]
    top_items += [(f"dense\nblock {i + 1}", "block", 0.95) for i in range(len(dense))]
    top_items += [(f"× β\n{beta:g}", "norm", 0.6), "+", ("out", "image", 0.6)]
    y_top = 3.75
    tops = _chain(ax, top_items, y_top, (10 - _chain_width(top_items, 0.4)) / 2, gap=0.4)
    _skip(ax, tops[0], tops[-2], 0.3, "identity (outer residual)")
    _note(ax, 0.15, y_top + 0.75, "RRDB", fontsize=FONT + 1, color="0.1", ha="left", weight="bold")

    items = [(f"x\n{c} ch", "image", 0.6)]
    for i, m in enumerate(convs):
        items.append((f"conv 3×3\n{m.in_channels}→{m.out_channels}" + ("\nLReLU" if i < len(convs) - 1 else ""),
                      "conv", 0.9))
    items += [(f"× β\n{beta_in:g}", "norm", 0.6), "+", ("out", "image", 0.6)]
    y = 1.55
    gap = 0.3
    boxes = _chain(ax, items, y, (10 - _chain_width(items, gap)) / 2, gap=gap, h=0.7)
    _skip(ax, boxes[0], boxes[-2], 0.3, "identity (inner residual)")
    _note(ax, 0.15, y + 0.9, f"inside each dense block ({len(convs)} convs)", fontsize=FONT + 1, color="0.1",
          ha="left", weight="bold")
    # dense connections: each earlier feature (x, conv1..conv4 outputs) runs along its own bus below the row
    # into every later conv but the next one (that one is the chain arrow)
    n = len(convs)
    cmap = plt.get_cmap("tab10")
    low = y - boxes[1].h / 2
    for s in range(n - 1):
        level = low - 0.14 * (s + 1)
        targets = [boxes[t].x - 0.3 + 0.15 * s for t in range(s + 2, n + 1)]
        x0 = boxes[s].x + (0.2 if s else 0.0)
        ax.plot([x0, x0, targets[-1]], [low, level, level], color=cmap(s), lw=0.9, zorder=1)
        for tx in targets:
            _arrow(ax, (tx, level), (tx, low), color=cmap(s), lw=0.9)
    _note(ax, 5.0, 0.25, "dense connections (coloured): each conv reads the concatenation of x and all earlier "
                         f"outputs, so its input grows by {growth} channels a conv", fontsize=FONT - 1)
    return fig


# ---------------------------------------------------------------------------------------------------------- GANs

def gan_game(sample: str = "y"):
    """The GAN game: G maps noise to fakes, D scores real and fake; D maximises, G minimises (or non-saturating).

    sample: the symbol of a judged sample (notebook 03 writes y; x is the LR image there).
    """
    alt = ("Noise z from N(0, I) goes into the generator G, which makes a fake sample G(z). The discriminator D "
           f"sees fakes and real samples {sample} from the data and outputs D(·), a score in (0, 1) trained towards 1 on "
           f"real and 0 on fake samples (a probability of realness only for 50/50 batches). D maximises "
           f"log D({sample}) + log(1 − D(G(z))). G minimises log(1 − D(G(z))), which saturates when D rejects "
           "fakes easily, so in practice G maximises log D(G(z)): the BCE of D(G(z)) against the real label.")
    fig, ax = _canvas(10, 4.6, "The GAN game: G makes fakes from noise, D scores real vs fake, each against the other",
                      alt)
    z = _box(ax, 0.8, 3.1, "noise\nz ~ N(0, I)", w=1.05, kind="image")
    g = _box(ax, 2.55, 3.1, "generator\nG", w=1.0, h=0.7, kind="net", edge=G_COLOR)
    fake = _box(ax, 4.35, 3.1, "fake\nG(z)", w=0.95, kind="image")
    real = _box(ax, 4.35, 1.6, f"real\n{sample} ~ data", w=0.95, kind="image")
    d = _box(ax, 6.3, 2.35, "discriminator\nD", w=1.2, h=0.7, kind="net", edge=D_COLOR)
    out = _box(ax, 8.55, 2.35, "D(·) ∈ (0, 1)\nreal → 1, fake → 0", w=1.55, kind="image")
    _arrow(ax, z.right, g.left)
    _arrow(ax, g.right, fake.left)
    _arrow(ax, fake.right, (d.left[0], d.y + 0.15))
    _arrow(ax, real.right, (d.left[0], d.y - 0.15))
    _arrow(ax, d.right, out.left)
    _path(ax, [out.top, (out.x, 3.85), (g.x, 3.85), g.top], "G's gradient flows back through D (D frozen in G's step)",
          at=1, color=G_COLOR)
    lines = [(D_COLOR, rf"D maximises   $\mathbb{{E}}_{sample}[\log D({sample})] + \mathbb{{E}}_z[\log(1 - D(G(z)))]$"
                       "   (BCE: real → 1, fake → 0)"),
             (G_COLOR, r"G minimises   $\mathbb{E}_z[\log(1 - D(G(z)))]$"
                       "   (minimax: flat gradient when D rejects fakes, early in training)"),
             (G_COLOR, r"non-saturating G maximises   $\mathbb{E}_z[\log D(G(z))]$"
                       "   = BCE(D(G(z)), real labels): what GANs train with")]
    for i, (color, text) in enumerate(lines):
        ax.text(0.3, 0.95 - 0.36 * i, text, fontsize=FONT + 0.5, color=color, ha="left", va="center")
    return fig


def relativistic_d():
    """Standard D(x) = σ(C(x)) next to ESRGAN's relativistic average D_Ra(x_r, x_f) = σ(C(x_r) − E[C(x_f)])."""
    alt = ("Top: the standard discriminator passes an image x through the critic network C to a raw logit C(x), and "
           "a sigmoid turns it into D(x) = σ(C(x)), the probability that x is real. Bottom: the relativistic average "
           "discriminator passes a real image x_r and a batch of fakes x_f through the same C, subtracts the mean "
           "fake logit from the real logit, and applies the sigmoid: D_Ra(x_r, x_f) = σ(C(x_r) − E[C(x_f)]), the "
           "probability that the real image looks more realistic than the average fake (and D_Ra(x_f, x_r) the "
           "other way round).")
    fig, ax = _canvas(10, 4.6, "Standard vs relativistic average discriminator (ESRGAN): "
                               "is x real, or more real than the average fake?", alt)
    y1 = 3.2
    _note(ax, 0.15, y1 + 0.6, "standard D", fontsize=FONT + 1, color="0.1", ha="left", weight="bold")
    row = _chain(ax, [("image\nx", "image", 0.85), ("critic\nC", "net", 0.9), (r"logit $C(x)$", "image", 1.1),
                      (r"sigmoid $\sigma$", "act", 1.0), (r"$D(x) = \sigma(C(x))$", "loss", 1.7)],
                 y1, 0.35, gap=0.45)
    _note(ax, row[-1].right[0] + 0.15, y1, "\"how likely is x real?\"", fontsize=FONT, ha="left")

    y2, y3 = 1.75, 0.6
    _note(ax, 0.15, y2 + 0.6, "relativistic average D", fontsize=FONT + 1, color="0.1", ha="left", weight="bold")
    xr = _box(ax, 0.78, y2, "real\n$x_r$", w=0.85, kind="image")
    xf = _box(ax, 0.78, y3, "fakes $x_f$\n(batch)", w=0.85, kind="image")
    cr = _box(ax, 2.2, y2, "critic\nC", w=0.9, kind="net")
    cf = _box(ax, 2.2, y3, "critic\nC", w=0.9, kind="net")
    lr_ = _box(ax, 3.75, y2, r"$C(x_r)$", w=1.1, kind="image")
    mean = _box(ax, 3.75, y3, r"$\mathbb{E}[C(x_f)]$" + "\nbatch mean", w=1.3, kind="image")
    minus = _op(ax, 5.0, y2, "−")
    sig = _box(ax, 6.0, y2, r"sigmoid $\sigma$", w=1.0, kind="act")
    out = _box(ax, 7.9, y2, r"$D_{Ra} = \sigma(C(x_r) - \mathbb{E}[C(x_f)])$", w=2.55, kind="loss", fontsize=FONT)
    for a, b in ((xr, cr), (xf, cf), (cr, lr_), (cf, mean), (lr_, minus), (minus, sig), (sig, out)):
        _arrow(ax, a.right, b.left)
    _path(ax, [mean.right, (minus.x, y3), minus.bottom], color="0.2")
    _note(ax, 7.9, y2 - 0.62, "\"how likely is the real image more realistic\nthan the average fake?\"",
          fontsize=FONT)
    _note(ax, 7.9, y3 - 0.15, r"and $D_{Ra}(x_f, x_r) = \sigma(C(x_f) - \mathbb{E}[C(x_r)])$ for the fakes",
          fontsize=FONT)
    ax.plot([0.15, 9.85], [2.55, 2.55], color="0.8", lw=0.8)
    return fig


ALL = {"srgan_pipeline": srgan_pipeline, "residual_block": residual_block, "srresnet": srresnet,
       "subpixel_conv": subpixel_conv, "srgan_discriminator": srgan_discriminator, "rrdb": rrdb,
       "gan_game": gan_game, "relativistic_d": relativistic_d}
