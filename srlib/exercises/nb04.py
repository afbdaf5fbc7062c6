"""Checkers for notebook 04, "The discriminator".

Each checker runs the learner's answer against a reference, prints a one-line
verdict that says what looks wrong, and returns True or False. A learner's
function that raises (for instance the `NotImplementedError` of the unedited
exercise cell) gets a verdict, not a traceback.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ..models.discriminators import receptive_field
from . import call as _call, scalar_problem, verdict, whole_number


# --- Exercise 1: the receptive field of a conv stack -------------------------------------------

RF_CASES = [
    [(3, 1)],
    [(3, 1), (3, 1), (3, 1)],
    [(3, 2), (3, 2), (3, 2)],
    [(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)],  # pix2pix's 70x70 PatchGAN
    [(3, 1), (3, 2), (3, 1), (3, 2), (3, 1), (3, 2), (3, 1), (3, 2)],  # SRGAN's D body
    [(7, 2), (3, 2), (3, 1)],  # a ResNet stem: 7x7/2 conv, 3x3/2 max pool, a 3x3 conv
    [(1, 1)],
    [(1, 2), (3, 1)],  # a strided 1x1 conv: sees one pixel, but spreads the next layer's taps
]


def reference_receptive_field(layers) -> int:
    """r = 1, j = 1; for each (k, s): r += (k - 1) * j, then j *= s (srlib's `receptive_field`)."""
    return receptive_field(list(layers))


def _wrong_rf_variants(layers) -> dict[str, int]:
    """What the usual mistakes give, mapped to the hint that explains each."""
    ks = [k for k, _ in layers]
    no_stride = 1 + sum(k - 1 for k in ks)
    own_stride, j = 1, 1
    for k, s in layers:
        j *= s
        own_stride += (k - 1) * j
    no_one = reference_receptive_field(layers) - 1
    return {
        "strides ignored: each layer widens the field by (k - 1) times the *jump* j, the product of the "
        "strides of the layers before it (neighbouring units of a strided layer are j input pixels apart).": no_stride,
        "a layer's own stride does not widen its own window: add (k - 1) * j first, then multiply j by the "
        "stride (the stride only spreads the taps of the layers *after* it).": own_stride,
        "off by one: start from r = 1 (one output unit sees one pixel before any layer), not 0.": no_one,
    }


def check_receptive_field(fn) -> bool:
    """fn(layers) with layers a list of (kernel, stride) pairs -> receptive field side in input pixels."""
    for layers in RF_CASES:
        got, err = _call(fn, [tuple(l) for l in layers])
        if err:
            return verdict(False, "", err)
        want = reference_receptive_field(layers)
        try:
            ok = float(got) == want
        except (TypeError, ValueError):
            return verdict(False, "", f"for {layers} your function returned {got!r}, not a number.")
        if ok:
            continue
        for hint, value in _wrong_rf_variants(layers).items():
            if value != want and float(got) == value:
                return verdict(False, "", f"for {layers} you gave {got}, expected {want}: {hint}")
        return verdict(False, "", f"for {layers} you gave {got}, expected {want}. Walk the layers from the input: "
                                  "r = 1, j = 1; then for each (k, s): r += (k - 1) * j; j *= s.")
    return verdict(True, "r += (k - 1) · j, then j *= s: SRGAN's D body sees 61x61 pixels, pix2pix's PatchGAN 70x70.", "")


# --- Exercise 2: binary cross-entropy on logits, stably -------------------------------------------

def reference_bce_with_logits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """mean of y softplus(-z) + (1 - y) softplus(z) = mean of softplus(z) - y z."""
    return (labels * F.softplus(-logits) + (1 - labels) * F.softplus(logits)).mean()


def _bce_case():
    logits = torch.tensor([-120.0, -30.0, -5.0, -0.5, 0.0, 2.0, 20.0, 120.0, 30.0, -20.0, 4.0, -3.0])
    labels = torch.tensor([1.0, 1.0, 0.0, 1.0, 0.5, 0.9, 0.0, 0.0, 1.0, 0.0, 0.1, 1.0])
    return logits, labels


# the library functions exercise 2 asks the learner to do without (nn.BCEWithLogitsLoss and nn.BCELoss call them)
FORBIDDEN = {F.binary_cross_entropy_with_logits: "F.binary_cross_entropy_with_logits (what nn.BCEWithLogitsLoss calls)",
             torch.binary_cross_entropy_with_logits: "torch.binary_cross_entropy_with_logits",
             F.binary_cross_entropy: "F.binary_cross_entropy (what nn.BCELoss calls)"}


class _ForbiddenCalls(TorchFunctionMode):
    """Records which FORBIDDEN functions run, however they were imported or wrapped."""

    def __init__(self):
        super().__init__()
        self.used: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in FORBIDDEN and FORBIDDEN[func] not in self.used:
            self.used.append(FORBIDDEN[func])
        return func(*args, **(kwargs or {}))


def _shape_trap(fn) -> str | None:
    """Logits (N, 1) against labels (N,): a refusal or the elementwise loss is right; a broadcast (N, N) mean is not."""
    logits = torch.tensor([[4.0], [-3.0], [3.0], [-4.0]])  # D right about all four
    labels = torch.tensor([1.0, 0.0, 1.0, 0.0])
    want = reference_bce_with_logits(logits, labels.view_as(logits)).item()
    broadcast = reference_bce_with_logits(logits, labels).item()
    got, err = _call(fn, logits, labels)
    if err:
        return None  # refused, as BCEWithLogitsLoss does
    if isinstance(got, torch.Tensor) and got.numel() == 1 and abs(got.item() - want) < 1e-5:
        return None  # matched the elements one to one
    value = got.item() if isinstance(got, torch.Tensor) and got.numel() == 1 else got
    shown = (f"{value:.4f}" if isinstance(value, float) else
             f"a tensor of shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else repr(value)[:60])
    hint = " (that is the mean over all (N, N) pairs)" if isinstance(value, float) and abs(value - broadcast) < 1e-5 else ""
    return (f"with logits of shape (4, 1) and labels of shape (4,) your function returned {shown}{hint}, not the "
            f"elementwise {want:.4f}: (4, 1) against (4,) broadcasts to (4, 4) and compares every logit with every "
            "label. Refuse a shape mismatch (raise ValueError, as BCEWithLogitsLoss does).")


def check_bce_with_logits(fn) -> bool:
    """fn(logits, labels) -> the mean binary cross-entropy of sigmoid(logits) against labels, as a tensor.

    Checked in float32 at logits up to +-120 (where Sigmoid + BCELoss fails), with
    soft labels too, for the value and for the gradient with respect to the logits;
    the library's BCE functions are refused, and so are (N, 1) logits silently
    broadcast against (N,) labels.
    """
    logits, labels = _bce_case()
    want = F.binary_cross_entropy_with_logits(logits.double(), labels.double()).item()
    want_grad = ((torch.sigmoid(logits.double()) - labels.double()) / logits.numel()).float()
    moderate = logits.abs() <= 5

    z = logits.clone().requires_grad_(True)
    spy = _ForbiddenCalls()
    with spy:
        got, err = _call(fn, z, labels.clone())
    if spy.used:
        return verdict(False, "", f"your function calls {', '.join(spy.used)}: the exercise is to write the loss "
                                  "yourself, with F.softplus.")
    if err:
        return verdict(False, "", err)
    problem = scalar_problem(got, "so that it can be backpropagated", "the mean over all elements")
    if problem:
        return verdict(False, "", problem)
    value = got.item()
    if not math.isfinite(value):
        return verdict(False, "", f"your loss is {value} at logits of +-120: sigmoid(z) rounds to exactly 0 or 1 in "
                                  "float32 and log(0) = -inf. Write -log sigmoid(z) as softplus(-z) and "
                                  "-log(1 - sigmoid(z)) as softplus(z).")
    if abs(value - want) > 1e-4 * max(1.0, abs(want)):
        # is it right on moderate logits only (a clamped log, as in nn.BCELoss)?
        zm = logits[moderate].clone().requires_grad_(True)
        sub, sub_err = _call(fn, zm, labels[moderate].clone())
        sub_want = F.binary_cross_entropy_with_logits(zm.detach().double(), labels[moderate].double()).item()
        if sub_err is None and isinstance(sub, torch.Tensor) and sub.numel() == 1 and abs(sub.item() - sub_want) < 1e-4:
            return verdict(False, "", f"right for moderate logits, but {value:.3f} instead of {want:.3f} with the extreme "
                                      "ones: did you clamp a log or a probability (nn.BCELoss caps each log at -100)? "
                                      "Use softplus: it is exact for any logit.")
        swapped = reference_bce_with_logits(logits, 1 - labels).item()
        summed = want * logits.numel()
        if abs(value - swapped) < 1e-3 * max(1.0, abs(swapped)):
            return verdict(False, "", "labels swapped: label 1 (real) must cost -log sigmoid(z) = softplus(-z), "
                                      "small when the logit z is large.")
        if abs(value - summed) < 1e-3 * max(1.0, summed):
            return verdict(False, "", "you summed over the elements; return the mean (as BCEWithLogitsLoss does).")
        return verdict(False, "", f"expected {want:.4f}, got {value:.4f}. Per element the loss is "
                                  "y·softplus(-z) + (1 - y)·softplus(z); then take the mean.")
    if not got.requires_grad:
        return verdict(False, "", "the value is right, but it is not differentiable: compute it with torch operations "
                                  "on the logits (no .item(), numpy or .detach()).")
    try:
        got.backward()
    except Exception as e:
        return verdict(False, "", f"the value is right, but backward() failed: {type(e).__name__}: {e}")
    grad = z.grad
    if grad is None or not torch.isfinite(grad).all():
        return verdict(False, "", "the value is right, but the gradient is not finite: avoid log(sigmoid(z)); use softplus.")
    if not torch.allclose(grad, want_grad, atol=1e-6, rtol=1e-4):
        dead = (grad == 0) & (want_grad != 0)
        if dead.any():
            where = ", ".join(f"{v:g}" for v in logits[dead].tolist())
            return verdict(False, "", f"the value is right, but the gradient is 0 at logits {where}, where it should be "
                                      "(sigmoid(z) - y)/N: a clamp cuts the gradient. Use softplus, which is exact everywhere.")
        return verdict(False, "", "the value is right, but the gradient is not (sigmoid(z) - y)/N.")
    trap = _shape_trap(fn)
    if trap:
        return verdict(False, "", trap)
    return verdict(True, "softplus(z) - y·z: finite, exact and with the right gradient, even at logits of +-120.", "")


# --- Exercise 3: output shapes of the discriminators ------------------------------------------------

INPUT_SHAPE = (8, 3, 100, 150)


def _conv_s2(n: int) -> int:
    """Side after a 3x3 conv with stride 2 and padding 1: floor((n + 2 - 3) / 2) + 1 = ceil(n / 2)."""
    return (n + 2 - 3) // 2 + 1


def reference_shapes(input_shape=INPUT_SHAPE, channels: int = 64) -> dict[str, tuple[int, ...]]:
    """Shapes that SRGANDiscriminator(channels) (body and output) and PatchDiscriminatorSN give for an input."""
    n, _, h, w = input_shape
    for _ in range(4):
        h, w = _conv_s2(h), _conv_s2(w)
    return {"body": (n, 8 * channels, h, w), "logits": (n, 1), "patch": (n, 1, input_shape[2], input_shape[3])}


def _as_shape(value):
    if isinstance(value, torch.Size):
        return tuple(value)
    try:
        shape = tuple(whole_number(v) for v in value)
    except TypeError:  # not iterable
        return None
    return None if None in shape else shape


def check_output_shapes(body_shape, logits_shape, patch_shape, input_shape=INPUT_SHAPE) -> bool:
    """Shapes for an input batch `input_shape` of: SRGANDiscriminator().body, SRGANDiscriminator(), PatchDiscriminatorSN()."""
    want = reference_shapes(input_shape)
    n, _, h, w = input_shape
    got = {"body": _as_shape(body_shape), "logits": _as_shape(logits_shape), "patch": _as_shape(patch_shape)}
    for key, value in got.items():
        if value is None:
            return verdict(False, "", f"give each shape as a tuple of integers, e.g. (8, 1); the {key} shape is not.")
    body = got["body"]
    if body != want["body"]:
        floor = (n, want["body"][1], h // 16, w // 16)
        if body == floor:
            hint = ("you rounded down: a 3x3 conv with stride 2 and padding 1 gives floor((n + 2 - 3)/2) + 1 = ceil(n/2) "
                    f"outputs, so {h} -> {want['body'][2]} and {w} -> {want['body'][3]} after four of them.")
        elif body[2:] == (6, 6):
            hint = "6x6 is the grid the head's adaptive pool makes; the body's output still depends on the input size."
        elif len(body) == 4 and body[2:] == want["body"][2:]:
            hint = f"the sides are right; the channels are not: the last block has 8 x 64 = {want['body'][1]} channels."
        elif len(body) == 4 and body[2:] == want["body"][:1:-1]:
            hint = "height and width are swapped: PyTorch shapes are (N, C, H, W)."
        else:
            hint = f"four stride-2 convs each halve a side, rounding up: (N, 8c, ceil(H/16), ceil(W/16))."
        return verdict(False, "", f"body shape {body} is not it: {hint}")
    if got["logits"] != want["logits"]:
        if got["logits"] in ((n,), (n, 1, 1, 1)):
            hint = "the head ends with nn.Linear(1024, 1), which keeps the batch and the feature axis: (N, 1)."
        elif got["logits"] == (n, 1, want["body"][2], want["body"][3]):
            hint = "the head pools and flattens the map, then its dense layers give one logit per image."
        else:
            hint = "SRGAN's D gives one logit per image."
        return verdict(False, "", f"SRGAN D output {got['logits']} is not it: {hint}")
    if got["patch"] != want["patch"]:
        p = got["patch"]
        if p == (n, 1, w, h):
            hint = "height and width are swapped: PyTorch shapes are (N, C, H, W)."
        elif len(p) == 4 and p[2] < h:
            hint = "the U-Net's decoder upsamples back to the input size: one logit per input pixel."
        else:
            hint = "the patch D gives one logit per pixel, (N, 1, H, W)."
        return verdict(False, "", f"patch D output {p} is not it: {hint}")
    return verdict(True, f"body {want['body']}, SRGAN D {want['logits']}, patch D {want['patch']}: "
                         "one verdict per image vs one per pixel.", "")
