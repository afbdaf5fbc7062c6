"""Checkers for notebook 02, "The generator and the pixel loss".

Each checker runs the learner's answer against srlib's reference, prints a
one-line verdict that says what looks wrong, and returns True or False. A
learner's code that raises (for instance the `NotImplementedError` of the
unedited exercise cell) gets a verdict, not a traceback.
"""
from __future__ import annotations

import builtins
import contextlib

import torch
import torch.nn.functional as F
from torch import nn

from ..models.generators import ResidualBlock
from . import call as _call, verdict


# --- Exercise 1: an EDSR-style residual block with residual scaling ------------------------------

def _reference_block(convs, channels: int, res_scale: float, padding_mode: str | None = None) -> ResidualBlock:
    """srlib's BN-free block carrying the learner's two convolutions' weights and padding mode.

    The exercise asks for size-keeping convolutions, not for zero padding: reflect,
    replicate or circular padding gives a correct block too (it only changes the border).
    padding_mode=None takes each learner convolution's own mode.
    """
    ref = ResidualBlock(channels, bn=False, act="relu", res_scale=res_scale)
    with torch.no_grad():
        for mine, theirs in zip((ref.body[0], ref.body[2]), convs):
            mine.padding_mode = padding_mode or theirs.padding_mode
            mine.weight.copy_(theirs.weight)
            if theirs.bias is None:
                mine.bias.zero_()
            else:
                mine.bias.copy_(theirs.bias)
    return ref.eval()


def check_scaled_residual_block(cls, channels: int = 8) -> bool:
    """cls(channels, res_scale) -> module computing x + res_scale * conv2(relu(conv1(x))), 3x3 convs, same size."""
    torch.manual_seed(0)
    x = torch.randn(2, channels, 12, 10)
    for res_scale in (0.2, 1.0):
        block, err = _call(cls, channels, res_scale)
        if err:
            return verdict(False, "", err)
        if not isinstance(block, nn.Module):
            return verdict(False, "", f"{getattr(cls, '__name__', cls)}(...) should build an nn.Module; got {type(block).__name__}.")
        if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in block.modules()):
            return verdict(False, "", "EDSR's block has no batch normalisation: conv, ReLU, conv, scaled, plus the input.")
        convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
        if len(convs) != 2:
            return verdict(False, "", f"the block should hold exactly two nn.Conv2d layers; found {len(convs)}.")
        for c in convs:
            if (c.in_channels, c.out_channels) != (channels, channels) or tuple(c.kernel_size) != (3, 3):
                return verdict(False, "", f"each convolution maps {channels} -> {channels} channels with a 3x3 kernel; "
                                          f"found {c.in_channels} -> {c.out_channels}, kernel {tuple(c.kernel_size)}.")
        block.eval()
        with torch.no_grad():
            got, err = _call(block, x.clone())
            if err:
                return verdict(False, "", err)
            if not isinstance(got, torch.Tensor) or got.shape != x.shape:
                shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
                return verdict(False, "", f"the output must have the input's shape {tuple(x.shape)} (padding=1 keeps "
                                          f"the size); got {shape}.")
            # accept the convs defined in either order, padded as declared or with zeros (a forward through F.conv2d)
            for order, mode in ((o, m) for o in (convs, convs[::-1]) for m in (None, "zeros")):
                if torch.allclose(got, _reference_block(order, channels, res_scale, mode)(x), atol=1e-5):
                    break
            else:
                if any(tuple(c.padding) == (0, 0) for c in convs):
                    return verdict(False, "", "pad inside the convolutions (padding=1, with any padding_mode), "
                                              "not around them: the output differs from "
                                              "x + res_scale * conv2(relu(conv1(x))).")
                c1, c2 = convs
                body = c2(F.relu(c1(x)))
                wrong = [
                    (x + body, "the body is not scaled: return x + res_scale * body."),
                    (res_scale * body, "the skip is missing: add the input x to the scaled body."),
                    (body, "the skip is missing: add the input x to the scaled body."),
                    (res_scale * (x + body), "scale only the body, not the input: x + res_scale * body."),
                    (F.relu(x + res_scale * body), "no ReLU after the sum: the block adds a correction to x, unchanged."),
                    (x + res_scale * c2(c1(x)), "the ReLU between the two convolutions is missing."),
                    (x + res_scale * F.relu(c2(F.relu(c1(x)))), "no activation after the second convolution: "
                                                                  "the correction must be able to be negative."),
                ]
                for candidate, hint in wrong:
                    if torch.allclose(got, candidate, atol=1e-5):
                        return verdict(False, "", f"with res_scale={res_scale}: {hint}")
                return verdict(False, "", f"with res_scale={res_scale} the output differs from "
                                          "x + res_scale * conv2(relu(conv1(x))); check the order of the layers "
                                          "and that res_scale is the argument, not a constant.")
    return verdict(True, "x + res_scale · conv(relu(conv(x))): the same output as srlib's "
                         "ResidualBlock(bn=False, act='relu', res_scale=...).", "")


# --- Exercise 2: channels before PixelShuffle ------------------------------------------------------

def check_channels_before_shuffle(fn) -> bool:
    """fn(channels, r) -> the output channels of the conv in front of PixelShuffle(r) that gives `channels`."""
    for c, r in ((64, 2), (64, 3), (3, 4), (32, 2), (1, 8)):
        got, err = _call(fn, c, r)
        if err:
            return verdict(False, "", err)
        want = c * r * r
        try:
            ok = int(got) == want and int(got) == got
        except (TypeError, ValueError):
            return verdict(False, "", f"fn({c}, {r}) returned {got!r}, not a whole number.")
        if ok:
            continue
        if got == c * r:
            hint = "PixelShuffle(r) turns r² channels into an r x r block: r² per output channel, not r."
        elif got == c // (r * r) or got == c / (r * r):
            hint = "that is the other direction (what PixelShuffle gives for C input channels); the conv must make more."
        elif got == r * r:
            hint = "r² channels make one output channel; multiply by the number of output channels."
        elif got == c * 2 * r:
            hint = "an r x r block has r·r sub-pixels, not 2·r."
        else:
            hint = f"expected {want}."
        return verdict(False, "", f"for {c} channels after PixelShuffle({r}) you gave {got}: {hint}")
    return verdict(True, "C · r² channels: PixelShuffle(r) folds each group of r² channels into an r x r block "
                         "(64 -> 256 for x2; 3 -> 48 for an RGB x4 output).", "")


# --- Exercise 3: PixelUnshuffle with reshape and permute -------------------------------------------

def _unshuffle_variants(x: torch.Tensor, r: int) -> list[tuple[torch.Tensor, str]]:
    """Typical wrong arrangements of the right values, with what each gets wrong."""
    n, c, hr, wr = x.shape
    h, w = hr // r, wr // r
    v = x.reshape(n, c, h, r, w, r)  # (n, c, h, i, w, j)
    return [
        (v.permute(0, 1, 5, 3, 2, 4).reshape(n, c * r * r, h, w),
         "the sub-pixel indices are swapped: channel c·r² + i·r + j takes row offset i and column offset j, "
         "so i must come before j (permute to (n, c, i, j, h, w))."),
        (v.permute(0, 3, 5, 1, 2, 4).reshape(n, c * r * r, h, w),
         "the channels are grouped by sub-pixel first; PixelUnshuffle keeps each input channel's r² sub-pixels "
         "together: output channel c·r² + i·r + j."),
        (v.permute(0, 5, 3, 1, 2, 4).reshape(n, c * r * r, h, w),
         "the channels are grouped by sub-pixel first and i, j are swapped; the output channel is c·r² + i·r + j."),
        (x.reshape(n, c * r * r, h, w),
         "a reshape alone does not move the pixels: split H and W into (h, i) and (w, j), permute, then reshape."),
    ]


_SHUFFLES = ("pixel_shuffle", "pixel_unshuffle")


def _builtin_shuffles_named(fn) -> list[str]:
    """Names in fn's code (and nested functions) bound to PyTorch's own (un)shuffle, e.g. an imported alias."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    banned = [getattr(torch, n) for n in _SHUFFLES] + [nn.PixelShuffle, nn.PixelUnshuffle]
    scope = dict(vars(builtins)) | dict(getattr(fn, "__globals__", {}))
    for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
        with contextlib.suppress(ValueError):
            scope[name] = cell.cell_contents
    found, codes = [], [code]
    while codes:
        c = codes.pop()
        codes += [k for k in c.co_consts if hasattr(k, "co_names")]
        for name in c.co_names + c.co_freevars:
            obj = scope.get(name)
            if any(obj is b for b in banned) or isinstance(obj, (nn.PixelShuffle, nn.PixelUnshuffle)):
                found.append(name)
    return found


@contextlib.contextmanager
def _watch_shuffles(used: list[str]):
    """Record calls of torch/F.pixel_(un)shuffle (nn.PixelUnshuffle's forward calls F's) while inside."""
    saved = [(mod, name, getattr(mod, name)) for mod in (torch, F) for name in _SHUFFLES]
    for mod, name, orig in saved:
        def spy(*args, _orig=orig, _name=name, **kwargs):
            used.append(_name)
            return _orig(*args, **kwargs)
        setattr(mod, name, spy)
    try:
        yield
    finally:
        for mod, name, orig in saved:
            setattr(mod, name, orig)


def check_pixel_unshuffle(fn) -> bool:
    """fn(x, r): (N, C, H·r, W·r) -> (N, C·r², H, W), the inverse of PixelShuffle, equal to nn.PixelUnshuffle(r).

    The exercise is to write the rearrangement with reshape and permute, so an answer
    that calls PyTorch's pixel_unshuffle / pixel_shuffle (directly, through
    nn.PixelUnshuffle, or under another name) is refused even though its values are right.
    """
    torch.manual_seed(0)
    named = _builtin_shuffles_named(fn)
    for shape, r in (((2, 3, 8, 12), 2), ((1, 2, 9, 6), 3), ((1, 1, 8, 4), 4)):
        x = torch.randn(shape)
        want = F.pixel_unshuffle(x, r)
        used: list[str] = []
        with _watch_shuffles(used):
            got, err = _call(fn, x.clone(), r)
        if used or named:
            which = ", ".join(dict.fromkeys(used + named))
            return verdict(False, "", f"your function uses PyTorch's own {which}; the exercise is to write the "
                                      "rearrangement with reshape and permute only (section 2 shows the steps "
                                      "for PixelShuffle).")
        if err:
            return verdict(False, "", err)
        if not isinstance(got, torch.Tensor):
            return verdict(False, "", f"return a tensor; got {type(got).__name__}.")
        if got.shape != want.shape:
            return verdict(False, "", f"for x of shape {tuple(x.shape)} and r={r} the result has shape "
                                      f"{tuple(want.shape)} (N, C·r², H/r, W/r); got {tuple(got.shape)}.")
        if torch.equal(got, want):
            continue
        for candidate, hint in _unshuffle_variants(x, r):
            if torch.equal(got, candidate):
                return verdict(False, "", f"right shape, wrong order: {hint}")
        if torch.equal(got.flatten().sort().values, x.flatten().sort().values):
            return verdict(False, "", "the values are all there but in the wrong places: compare with "
                                      "nn.PixelUnshuffle on a tensor of numbered pixels (torch.arange).")
        return verdict(False, "", "the values differ from nn.PixelUnshuffle's: only rearrange the pixels, "
                                  "do not compute anything.")
    return verdict(True, "reshape to (n, c, h, r, w, r), permute to (n, c, r, r, h, w), reshape: "
                         "the exact inverse of PixelShuffle.", "")
