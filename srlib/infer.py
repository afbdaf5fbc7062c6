"""Tiled inference: upscale an image of any size with memory bounded by the tile, not the image.

A convolutional generator's output pixel depends only on the LR pixels within
its receptive-field radius r. Cut the image into tiles (cores), give each core
at least r pixels of real image around it (context; none beyond the image
border), run the network on the tile and keep only the core's output: the
result equals the whole-image output, seams and all padding effects stay in
the discarded context. `receptive_radius` measures r from the model itself.

Every tile has the same size (the windows near the image border are shifted
inwards, which gives those cores more context, never less), so tiles run in
full batches with no padding; cores are balanced (their sides differ by at
most one pixel), so no thin leftover tiles are computed.
"""
from __future__ import annotations

import copy
import math
import warnings
import weakref
from contextlib import nullcontext

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .errors import SrlibError
from .metrics import as_hwc

_RADIUS_CACHE: "weakref.WeakKeyDictionary[nn.Module, dict]" = weakref.WeakKeyDictionary()
MAX_PROBE = 4097  # LR pixels: a receptive field wider than this is refused (not a convolutional SR model)


def model_scale(model: nn.Module, scale: int | None = None) -> int:
    """The model's upscaling factor: model.scale, checked against `scale` when both are known."""
    own = getattr(model, "scale", None)
    if own is not None and scale is not None and int(own) != int(scale):
        raise SrlibError(f"this model upscales x{own}, but x{scale} was asked: use a x{scale} model, or scale={own}.")
    s = own if own is not None else scale
    if s is None:
        raise SrlibError("the model has no .scale attribute: give scale= (its upscaling factor, e.g. 4).")
    if isinstance(s, bool) or int(s) != s or int(s) < 1:
        raise SrlibError(f"scale must be a whole number >= 1, got {s!r}.")
    return int(s)


def _support_copy(model: nn.Module) -> nn.Module:
    """A float32 copy that propagates the support of its input: positive weights, zero biases, 0/1 after every conv.

    With positive weights and a non-negative input no ReLU is dead and no sum
    cancels, so an output pixel is non-zero exactly where it structurally
    depends on a non-zero input pixel; turning every conv output into 0/1
    keeps the values from vanishing (or overflowing) through hundreds of layers.
    """
    m = copy.deepcopy(model).float().eval()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.modules.conv._ConvNd, nn.Linear)):
                mod.weight.fill_(1.0 / max(1, mod.weight[0].numel()))
                if mod.bias is not None:
                    mod.bias.zero_()
                mod.register_forward_hook(lambda _m, _i, y: (y != 0).to(y.dtype))
            elif isinstance(mod, nn.modules.batchnorm._NormBase):
                if mod.running_mean is not None:
                    mod.running_mean.zero_()
                    mod.running_var.fill_(1.0)
                if mod.affine:
                    mod.weight.fill_(1.0)
                    mod.bias.zero_()
            elif isinstance(mod, nn.PReLU):
                mod.weight.fill_(1.0)
    return m


def _check_output(x: torch.Tensor, y: torch.Tensor, s: int) -> None:
    if y.shape[2:] != (x.shape[2] * s, x.shape[3] * s):
        raise SrlibError(f"the model turned a {x.shape[3]}x{x.shape[2]} input into {y.shape[3]}x{y.shape[2]}, "
                         f"not x{s}: give the model's own scale.")


def _blocks(y: torch.Tensor, s: int) -> torch.Tensor:
    """(N, C, h*s, w*s) -> (h, w): sum of |y| over channels and over each LR pixel's s x s block."""
    return F.avg_pool2d(y.abs().sum(dim=1, keepdim=True), s)[0, 0] * s * s


def _extent(g: torch.Tensor, threshold: float) -> tuple[int, int]:
    """(radius along H, radius along W) of the pixels where g > threshold, from the centre pixel."""
    ys, xs = torch.nonzero(g > threshold, as_tuple=True)
    cy, cx = g.shape[0] // 2, g.shape[1] // 2
    return int((ys - cy).abs().max()), int((xs - cx).abs().max())


def structural_radius(model: nn.Module, scale: int | None = None) -> int:
    """Exact receptive-field radius in LR pixels: how far one LR pixel's output block reaches into the input.

    The support of a centre-pixel input is pushed through `_support_copy` on
    one thin probe strip per axis (a strip keeps its axis's full extent: the
    centre row of every kernel carries it), grown until the support stops
    short of the strip's ends. Dependence is translation invariant, so the
    output blocks a pixel reaches are as far as the inputs a block sees.
    """
    s = model_scale(model, scale)
    m = _support_copy(model)
    convs = [c for c in m.modules() if isinstance(c, nn.modules.conv._ConvNd)]
    guess = sum(max(d * (k - 1) // 2 for k, d in zip(c.kernel_size, c.dilation)) for c in convs)  # all at LR
    radius = 0
    for axis in (2, 3):
        side = min(MAX_PROBE, 2 * guess + 5)
        while True:
            shape = [1, 3, 3, 3]
            shape[axis] = side
            x = torch.zeros(shape)
            x[:, :, shape[2] // 2, shape[3] // 2] = 1.0
            with torch.no_grad():
                y = m(x)
            _check_output(x, y, s)
            r = _extent(_blocks(y, s), 0.0)[axis - 2]
            if r < side // 2:
                break
            if side >= MAX_PROBE:
                raise SrlibError(f"the model's receptive field exceeds {MAX_PROBE // 2} LR pixels: tile with "
                                 "tol= (an effective radius) or upscale the whole image (tile=None).")
            side = min(2 * side - 1, MAX_PROBE)
        radius = max(radius, r)
    return radius


def influence_map(model: nn.Module, size: int, scale: int | None = None, seed: int = 0,
                  dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(size, size) map: how much each LR pixel's output block changes per unit change of the centre pixel.

    The derivative (forward mode, no stored activations) of the output along
    brightening the centre input pixel, summed |.| over each block and the
    channels; real weights, eval mode, in `dtype`, at a random probe in [0, 1]
    (seeded). It shows how fast a pixel's influence fades with distance
    (notebook 09 plots it); the same distance holds backwards: what a block sees.
    """
    from torch.func import jvp

    s = model_scale(model, scale)
    m = copy.deepcopy(model).to(dtype).eval()
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    v = torch.zeros_like(x)
    v[:, :, size // 2, size // 2] = 1.0
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.func's first use warns about torch.jit internals
        y, dy = jvp(m, (x,), (v,))
    _check_output(x, y, s)
    return _blocks(dy, s)


def receptive_radius(model: nn.Module, scale: int | None = None, *, tol: float = 0.0) -> int:
    """Receptive-field radius of a generator in LR pixels, computed from the model (cached per model).

    tol=0: the exact radius (`structural_radius`): with at least this overlap a
    tiled output equals the whole-image output. tol>0: the effective radius,
    beyond which one pixel's influence (`influence_map`, real weights) stays
    below tol times its largest; the probe grows until it holds that radius.
    A heuristic for models whose exact field is hundreds of pixels wide (the
    23-block RRDBNet): check the price with `tiling_error`.
    """
    if not tol >= 0:
        raise SrlibError(f"tol must be >= 0, got {tol!r}.")
    s = model_scale(model, scale)
    versions = sum(p._version for p in model.parameters())  # weights changed in place -> measure again
    cache = _RADIUS_CACHE.setdefault(model, {})
    key = (s, float(tol), versions if tol else None)
    if key not in cache:
        exact = cache.get((s, 0.0, None))
        if exact is None:
            exact = cache[(s, 0.0, None)] = structural_radius(model, s)
        if tol:
            side = 2 * min(exact, 16) + 1
            while True:
                g = influence_map(model, side, s)
                r = max(_extent(g, tol * float(g.max())))
                if r < side // 2 - 1 or side > 2 * exact:
                    break
                side = 2 * side + 1
            cache[key] = min(exact, r)
        else:
            cache[key] = exact
    return cache[key]


def split_axis(length: int, tile: int, overlap: int, multiple: int = 1) -> list[tuple[int, int, int, int]]:
    """Tiles along one axis: (core_start, core_end, window_start, window_end), all windows one size.

    Cores are balanced (sides differ by at most one); each window is its core
    with `overlap` context on both sides, shifted inwards at the image border
    (never beyond the image), so it is never less than `overlap` where there is image.
    multiple: windows start at multiples of it and have a side that is one (a network that
    pixel-unshuffles its input by 2 computes alike only on the same 2x2 grid); a window that
    then stops short of the border by less than `multiple` reaches it, one or so pixels larger.
    """
    if not tile or tile >= length:
        return [(0, length, 0, length)]
    n = math.ceil(length / tile)
    bounds = [round(i * length / n) for i in range(n + 1)]
    need = max(b - a for a, b in zip(bounds, bounds[1:])) + 2 * overlap + multiple - 1
    size = min(length, -(-need // multiple) * multiple)
    out = []
    for a, b in zip(bounds, bounds[1:]):
        start = min(max(0, a - overlap), length - size)
        start -= start % multiple
        end = length if length - (start + size) < multiple else start + size
        out.append((a, b, start, end))
    return out


def _check_int(name: str, value, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise SrlibError(f"{name} must be a whole number >= {least}, got {value!r}.")
    return int(value)


def _precision(half, device: torch.device):
    """The autocast context for `half` on `device` (fp32 off CUDA)."""
    if half in (False, None, "fp32", "no"):
        return nullcontext(), torch.float32
    if device.type != "cuda":
        if half == "auto":
            return nullcontext(), torch.float32
        raise SrlibError(f"half precision ({half}) runs on CUDA only; on {device.type} use half=False (fp32).")
    if half in ("auto", True, "fp16"):
        dtype = torch.float16
    elif half == "bf16":
        if not torch.cuda.is_bf16_supported():
            raise SrlibError("this GPU has no bfloat16: use half='fp16' or half=False.")
        dtype = torch.bfloat16
    else:
        raise SrlibError(f"half must be 'auto', True, False, 'fp16' or 'bf16'; got {half!r}.")
    return torch.autocast("cuda", dtype=dtype), dtype


_DEVICE_COPIES: "weakref.WeakKeyDictionary[nn.Module, tuple]" = weakref.WeakKeyDictionary()


def _model_on(model: nn.Module, device: torch.device) -> nn.Module:
    """The model itself when its weights are already on `device`, else a copy there (the caller's stays put).

    The copy is kept for the next call (one per model) until the model's weights change.
    """
    p = next(model.parameters(), None)
    if p is None or (p.device.type == device.type and device.index in (None, p.device.index)):
        return model
    versions = sum(q._version for q in model.parameters())
    kept = _DEVICE_COPIES.get(model)
    if kept is None or kept[0] != (device, versions):
        kept = _DEVICE_COPIES[model] = ((device, versions), copy.deepcopy(model).to(device))
    return kept[1]


def upscale_tensor(model: nn.Module, lr: torch.Tensor, *, scale: int | None = None, tile: int | None = 256,
                   overlap: int | None = None, batch: int = 4, device=None, half="auto", progress: bool = True,
                   out: torch.Tensor | None = None, clip: bool = False) -> torch.Tensor:
    """Upscale (N, 3, H, W) in [0, 1] (or uint8) tile by tile: (N, 3, H*s, W*s) float, or fills `out`.

    tile: core side in LR pixels (None or 0: the whole image in one piece).
    overlap: context around each core (default: `receptive_radius(model)`,
    which makes the result equal the whole-image output). batch: tiles per
    forward pass. device: where the network runs (default: the model's).
    half: "auto" = fp16 on CUDA, fp32 elsewhere; True/"fp16", "bf16" (CUDA
    only) or False. out: a preallocated (N, 3, H*s, W*s) tensor to fill,
    float or uint8 (then clipped and rounded to 0..255), e.g. a view of a
    numpy array or memmap: only one batch of tiles is ever in memory besides it.
    clip: clamp to [0, 1] before writing.
    """
    from tqdm.auto import tqdm

    s = model_scale(model, scale)
    if not isinstance(lr, torch.Tensor) or lr.dim() != 4 or lr.shape[1] != 3 or not (
            lr.is_floating_point() or lr.dtype == torch.uint8):
        what = f"a {lr.dtype} tensor of shape {tuple(lr.shape)}" if isinstance(lr, torch.Tensor) else type(lr).__name__
        raise SrlibError(f"upscale_tensor takes a float (N, 3, H, W) tensor in [0, 1] (or uint8 0..255), got {what}; "
                         "for an (H, W, 3) array use upscale_array.")
    if lr.numel() == 0:
        raise SrlibError(f"the image is empty (shape {tuple(lr.shape)}).")
    tile = _check_int("tile", tile or 0, 0)
    batch = _check_int("batch", batch, 1)
    n, _, h, w = lr.shape
    if device is None:
        p = next(model.parameters(), None)
        device = p.device if p is not None else lr.device
    device = torch.device(device)
    overlap = receptive_radius(model, s) if overlap is None else _check_int("overlap", overlap, 0)
    autocast, _ = _precision(half, device)
    if out is None:
        dtype = lr.dtype if lr.dtype in (torch.float16, torch.bfloat16) else torch.float32
        out = torch.empty(n, 3, h * s, w * s, dtype=dtype, device=lr.device)
    elif tuple(out.shape) != (n, 3, h * s, w * s):
        raise SrlibError(f"out has shape {tuple(out.shape)}; this input needs {(n, 3, h * s, w * s)}.")
    to_uint8 = out.dtype == torch.uint8
    m = getattr(model, "tile_multiple", 1)
    jobs = [(i, ty, tx) for i in range(n) for ty in split_axis(h, tile, overlap, m) for tx in split_axis(w, tile, overlap, m)]
    jobs.sort(key=lambda job: (job[1][3] - job[1][2], job[2][3] - job[2][2]))  # equal windows batch together
    groups, k = [], 0
    while k < len(jobs):
        same = [j for j in jobs[k:k + batch] if (j[1][3] - j[1][2], j[2][3] - j[2][2]) ==
                (jobs[k][1][3] - jobs[k][1][2], jobs[k][2][3] - jobs[k][2][2])]
        groups.append(same)
        k += len(same)
    net = _model_on(model, device)
    training = model.training
    net.eval()
    try:
        with torch.inference_mode(), autocast, tqdm(total=len(jobs), desc="tiles", unit="tile",
                                                     disable=not progress, leave=False) as bar:
            for group in groups:
                x = torch.stack([lr[i, :, ty[2]:ty[3], tx[2]:tx[3]] for i, ty, tx in group])
                x = x.to(device, torch.float32).contiguous(memory_format=torch.channels_last)
                if lr.dtype == torch.uint8:
                    x = x.div_(255)
                y = net(x)
                if y.shape[2:] != (x.shape[2] * s, x.shape[3] * s):
                    raise SrlibError(f"the model turned a {x.shape[3]}x{x.shape[2]} tile into {y.shape[3]}x"
                                     f"{y.shape[2]}, not x{s}: is scale right for this model?")
                if clip or to_uint8:
                    y = y.clamp(0, 1)
                for j, (i, ty, tx) in enumerate(group):
                    core = y[j, :, (ty[0] - ty[2]) * s:(ty[1] - ty[2]) * s, (tx[0] - tx[2]) * s:(tx[1] - tx[2]) * s]
                    if to_uint8:
                        core = core.float().mul(255).round_()
                    out[i, :, ty[0] * s:ty[1] * s, tx[0] * s:tx[1] * s] = core.to(out.device)
                bar.update(len(group))
    finally:
        model.train(training)
        net.train(training)
    return out


def check_rgb_array(img, name: str = "image") -> np.ndarray:
    """img as an (H, W, 3) float array in [0, 1], checked by `as_hwc` in bands of rows (no full float64 copy)."""
    if not isinstance(img, np.ndarray):
        raise SrlibError(f"upscale_array takes an (H, W, 3) numpy array, got {type(img).__name__}.")
    if img.ndim != 3 or img.shape[2] != 3:
        hint = " (grayscale: np.repeat(img[..., None], 3, axis=2), or the upscale command)" if img.ndim == 2 or (
            img.ndim == 3 and img.shape[2] == 1) else ""
        raise SrlibError(f"expected an RGB image shaped (H, W, 3), got shape {img.shape}{hint}.")
    if img.dtype.kind != "f":
        raise SrlibError(f"the {name} has dtype {img.dtype}; upscale_array takes floats in [0, 1] "
                         "(e.g. img.astype(np.float32) / 255 for uint8).")
    for r in range(0, img.shape[0], 256):
        as_hwc(img[r:r + 256], name)
    if img.size == 0:
        raise SrlibError(f"the {name} is empty (shape {img.shape}).")
    return img


def upscale_array(model: nn.Module, img: np.ndarray, **kwargs) -> np.ndarray:
    """Upscale an (H, W, 3) float image in [0, 1]: (H*s, W*s, 3) float32 clipped to [0, 1]. kwargs: upscale_tensor's."""
    img = check_rgb_array(img)
    s = model_scale(model, kwargs.pop("scale", None))
    h, w, _ = img.shape
    res = np.empty((h * s, w * s, 3), np.float32)
    lr = torch.from_numpy(img).permute(2, 0, 1)[None]  # a view: HWC memory is channels_last NCHW
    upscale_tensor(model, lr, scale=s, out=torch.from_numpy(res).permute(2, 0, 1)[None], clip=True, **kwargs)
    return res


def tiling_error(model: nn.Module, img, tile: int, overlap: int | None = None, **kwargs) -> float:
    """max |tiled - whole-image output| over an (H, W, 3) image, unclipped outputs."""
    diff, _ = seam_map(model, img, tile, overlap, **kwargs)
    return float(diff.max())


def seam_map(model: nn.Module, img, tile: int, overlap: int | None = None, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """(|tiled - whole| max over channels, mask of the tile borders), both (H*s, W*s).

    The mask marks HR pixels less than `receptive_radius - overlap` LR pixels
    from a border between two cores: the only place where too little overlap
    can change the output (a seam); the image border is never one.
    """
    img = check_rgb_array(img)
    s = model_scale(model, kwargs.pop("scale", None))
    kwargs.setdefault("progress", False)
    lr = torch.from_numpy(np.ascontiguousarray(img, np.float32)).permute(2, 0, 1)[None]
    whole = upscale_tensor(model, lr, scale=s, tile=None, **kwargs)
    tiled = upscale_tensor(model, lr, scale=s, tile=tile, overlap=overlap, **kwargs)
    diff = (tiled - whole).abs().amax(dim=1)[0].numpy()
    r = receptive_radius(model, s) - (r if (r := overlap) is not None else receptive_radius(model, s))
    mask = np.zeros(diff.shape, bool)
    for axis, length in ((0, img.shape[0]), (1, img.shape[1])):
        for a, *_ in split_axis(length, tile, 0)[1:]:
            sl = slice(max(0, (a - r) * s), max(0, (a + r) * s))
            if axis == 0:
                mask[sl, :] = True
            else:
                mask[:, sl] = True
    return diff, mask
