"""Checkers for notebook 07, "ESRGAN".

Each checker runs the learner's answer against srlib's reference, prints a
one-line verdict that says what looks wrong, and returns True or False. A
learner's code that raises (for instance the `NotImplementedError` of the
unedited exercise cell) gets a verdict, not a traceback.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..losses.adversarial import relativistic_d_loss, relativistic_g_loss
from ..models.generators import SRResNet
from ..models.interpolate import interpolate_state
from . import call as _call, scalar_problem, verdict


def _close(a: float, b: float, tol: float = 1e-4) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


# --- Exercise 1: the relativistic average discriminator loss ------------------------------------

def _ra_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Logit batches: image D (N, 1) with unequal real/fake counts, a confident D, a patch D (N, 1, H, W)."""
    g = torch.Generator().manual_seed(7)
    return [
        (torch.randn(6, 1, generator=g) + 1.0, torch.randn(4, 1, generator=g) - 0.5),
        (torch.tensor([[60.0], [45.0], [70.0]]), torch.tensor([[-50.0], [-65.0], [-40.0]])),  # D very sure, and right
        (torch.tensor([[-60.0], [-45.0], [-70.0]]), torch.tensor([[50.0], [65.0], [40.0]])),  # D very sure, and wrong
        (torch.randn(2, 1, 5, 4, generator=g), torch.randn(2, 1, 5, 4, generator=g) * 2 + 0.3),
    ]


def _ra_wrong(r: torch.Tensor, f: torch.Tensor) -> list[tuple[float, str]]:
    """Values of the usual mistakes, each with its hint."""
    ref = relativistic_d_loss(r, f).item()
    pairwise = F.softplus(-(r.reshape(-1, 1) - f.reshape(1, -1))).mean() + F.softplus(f.reshape(-1, 1) - r.reshape(1, -1)).mean()
    return [
        (2 * ref, "that is eq. (1) as printed, the *sum* of the two terms; ESRGAN's code and srlib take their mean "
                  "(divide by 2), which keeps the loss on the scale of a single BCE."),
        (relativistic_g_loss(r, f).item(), "labels swapped: that is the generator's loss. D wants real logits ABOVE "
                                            "the mean fake logit (label 1) and fake logits BELOW the mean real one (label 0)."),
        (0.5 * (F.softplus(-r).mean() + F.softplus(f).mean()).item(),
         "that is the standard discriminator loss: subtract the mean logit of the other kind first, "
         "C(x_r) - E[C(x_f)] and C(x_f) - E[C(x_r)]."),
        ((F.softplus(-r).mean() + F.softplus(f).mean()).item(),
         "that is the standard discriminator loss: subtract the mean logit of the other kind first, "
         "C(x_r) - E[C(x_f)] and C(x_f) - E[C(x_r)]."),
        (0.5 * (F.softplus(-(r - r.mean())).mean() + F.softplus(f - f.mean())).mean().item(),
         "each logit is compared with the mean of the OTHER kind: real - mean(fake), fake - mean(real)."),
        (0.5 * pairwise.item(), "that compares every real with every fake (the pairwise relativistic GAN, RSGAN); "
                                "the *average* D compares each logit with the mean logit of the other kind."),
    ]


def check_relativistic_d_loss(fn) -> bool:
    """fn(real_logits, fake_logits) -> ESRGAN's relativistic average D loss, the mean of its two BCE terms, a tensor.

    Checked on image and patch logits, with unequal batch sizes and at logits of +-70,
    for the value, and for the gradient (means kept in the graph, as in ESRGAN's
    code, or detached, as in BasicSR's: both are accepted).
    """
    for r, f in _ra_cases():
        rr, ff = r.clone().requires_grad_(True), f.clone().requires_grad_(True)
        got, err = _call(fn, rr, ff)
        if err:
            return verdict(False, "", err)
        problem = scalar_problem(got, "D is trained through it", "the mean over all logits")
        if problem:
            return verdict(False, "", problem)
        value, want = got.item(), relativistic_d_loss(r, f).item()
        if not math.isfinite(value):
            return verdict(False, "", f"your loss is {value} when D is very sure and wrong (logits of +-70): sigmoid(z) "
                                      "rounds to 0 in float32 and its log overflows to -inf. Use "
                                      "F.binary_cross_entropy_with_logits or softplus.")
        if not _close(value, want):
            for wrong, hint in _ra_wrong(r, f):
                if _close(value, wrong, 1e-3) and not _close(wrong, want, 1e-3):
                    return verdict(False, "", hint)
            return verdict(False, "", f"expected {want:.4f}, got {value:.4f}. D_Ra(x_r, x_f) = sigmoid(C(x_r) - mean C(x_f)); "
                                      "the loss is (BCE(D_Ra(x_r, x_f), 1) + BCE(D_Ra(x_f, x_r), 0)) / 2, each BCE a mean.")
        if not got.requires_grad:
            return verdict(False, "", "the value is right, but it is not differentiable: compute it with torch operations "
                                      "on the logits (no .item(), numpy or .detach() of the result).")
        try:
            gr, gf = torch.autograd.grad(got, (rr, ff), allow_unused=True)
            gr = torch.zeros_like(rr) if gr is None else gr
            gf = torch.zeros_like(ff) if gf is None else gf
        except Exception as e:  # a learner's graph that cannot be differentiated
            return verdict(False, "", f"the value is right, but its gradient failed: {type(e).__name__}: {e}")
        for detach in (False, True):
            r2, f2 = r.clone().requires_grad_(True), f.clone().requires_grad_(True)
            wr, wf = torch.autograd.grad(relativistic_d_loss(r2, f2, detach_means=detach), (r2, f2))
            if torch.allclose(gr, wr, atol=1e-6, rtol=1e-4) and torch.allclose(gf, wf, atol=1e-6, rtol=1e-4):
                break
        else:
            return verdict(False, "", "the value is right, but the gradient is not: compute the loss from the logits "
                                      "with differentiable torch operations (detaching the two means is fine, "
                                      "detaching a logit batch is not).")
    return verdict(True, "(BCE(C(x_r) - E C(x_f), 1) + BCE(C(x_f) - E C(x_r), 0)) / 2: srlib's relativistic_d_loss.", "")


# --- Exercise 2: interpolating two state dicts -----------------------------------------------------

def _two_bn_nets() -> tuple[torch.nn.Module, torch.nn.Module]:
    """Two small SRResNets with batch norm, so that the state dicts hold buffers and an integer counter."""
    torch.manual_seed(3)
    a, b = SRResNet(channels=4, blocks=1), SRResNet(channels=4, blocks=1)
    x = torch.rand(2, 3, 8, 8)
    a.train(), b.train()
    with torch.no_grad():  # one forward pass in training mode: running statistics and counters differ
        a(x), b(x * 0.5), b(x)
    return a.eval(), b.eval()


def check_interpolate_state(fn) -> bool:
    """fn(a, b, alpha) -> a new state dict (1 - alpha) a + alpha b for float tensors; integer counters kept."""
    net_a, net_b = _two_bn_nets()
    a, b = net_a.state_dict(), net_b.state_dict()
    before_a, before_b = {k: v.clone() for k, v in a.items()}, {k: v.clone() for k, v in b.items()}
    for alpha in (0.3, 0.0, 1.0, 0.8):
        got, err = _call(fn, a, b, alpha)
        if err:
            return verdict(False, "", err)
        if isinstance(got, torch.nn.Module):
            return verdict(False, "", "return the state dict (a dict of tensors), not a model; "
                                      "model.load_state_dict(...) turns it into a network.")
        if not isinstance(got, dict):
            return verdict(False, "", f"return a dict name -> tensor, like model.state_dict(); got {type(got).__name__}.")
        changed = [k for k in a if not torch.equal(a[k], before_a[k])] + [k for k in b if not torch.equal(b[k], before_b[k])]
        if changed:
            return verdict(False, "", f"your function changed its inputs in place (e.g. {changed[0]}): build new tensors "
                                      "(no mul_, add_ or lerp_ on the given ones); the PSNR and GAN models must stay as they are.")
        if set(got) != set(a):
            missing = sorted(set(a) - set(got))
            extra = sorted(set(got) - set(a))
            what = f"missing {missing[:2]}" if missing else f"unexpected {extra[:2]}"
            return verdict(False, "", f"the keys must be those of the state dicts ({what}); batch-norm buffers "
                                      "(running_mean, running_var, num_batches_tracked) belong to the state too.")
        want = interpolate_state(a, b, alpha)
        for k, w in want.items():
            v = got[k]
            if not isinstance(v, torch.Tensor) or v.shape != w.shape:
                return verdict(False, "", f"{k} should be a tensor of shape {tuple(w.shape)}.")
            if not w.is_floating_point():
                if v.is_floating_point():
                    return verdict(False, "", f"{k} is an integer counter (how many batches BN has seen), and it came "
                                              "back as a float: copy integer tensors from one network instead of blending them.")
                if not (torch.equal(v, a[k]) or torch.equal(v, b[k])):
                    return verdict(False, "", f"{k} is an integer counter: take it from one of the two networks.")
                continue
            if not torch.allclose(v.to(w.dtype), w, atol=1e-6):
                if alpha not in (0.0, 1.0) and torch.allclose(v.to(w.dtype), interpolate_state(a, b, 1 - alpha)[k], atol=1e-6):
                    return verdict(False, "", f"alpha is the wrong way round: alpha = 0 must give a (the PSNR model) and "
                                              f"alpha = 1 b (the GAN model), i.e. (1 - alpha) * a + alpha * b.")
                return verdict(False, "", f"with alpha = {alpha}, {k} is not (1 - alpha) * a + alpha * b.")
            if v.dtype != w.dtype:
                return verdict(False, "", f"{k} changed its dtype from {w.dtype} to {v.dtype}.")
    model = SRResNet(channels=4, blocks=1).eval()
    try:
        model.load_state_dict(got)
    except Exception as e:
        return verdict(False, "", f"the values are right, but load_state_dict refused them: {type(e).__name__}: {e}")
    return verdict(True, "a straight line in weight space, counters copied: srlib's interpolate_state.", "")


# --- Exercise 3: variance through a stack of scaled residual blocks ---------------------------------

def reference_stack_variance(depth: int, beta: float, gain: float, corr: float = 0.0) -> float:
    """Var(x_L) / Var(x_0) for x_{l+1} = x_l + beta F(x_l).

    F(x) has variance gain * Var x and correlation `corr` with x, so one block
    multiplies the variance by 1 + 2 beta corr sqrt(gain) + beta^2 gain.
    """
    return (1.0 + 2.0 * beta * corr * math.sqrt(gain) + beta**2 * gain) ** depth


STACK_CASES = [  # (depth, beta, gain, corr)
    (1, 0.5, 2.0, 0.0), (3, 0.2, 0.125, 0.0), (23, 1.0, 0.5, 0.0), (23, 0.2, 1.0, 1.0), (23, 1.0, 1.0, 1.0),
    (10, 0.5, 3.0, 0.3), (4, 0.3, 0.5, -0.4), (5, 0.0, 4.0, 0.5), (0, 1.0, 2.0, 0.5),
]


def check_stack_variance(fn) -> bool:
    """fn(depth, beta, gain, corr) -> output over input variance of `depth` blocks x + beta F(x)."""
    for depth, beta, gain, corr in STACK_CASES:
        case = f"depth={depth}, beta={beta}, gain={gain}, corr={corr}"
        got, err = _call(fn, depth, beta, gain, corr)
        if err:
            return verdict(False, "", err)
        try:
            value = float(got)
        except (TypeError, ValueError):
            return verdict(False, "", f"return a number; for {case} you returned {got!r}.")
        want = reference_stack_variance(depth, beta, gain, corr)
        if _close(value, want, 1e-5):
            continue
        sg = math.sqrt(gain)
        wrong = [
            ((1 + beta**2 * gain) ** depth, "the covariance term is missing: Var(x + beta F) = Var x + "
                                            "2 beta Cov(x, F) + beta^2 Var F, and Cov(x, F) = corr sqrt(gain) Var x."),
            ((1 + 2 * beta * corr * sg + beta * gain) ** depth, "F is scaled by beta, so its variance by beta squared."),
            ((1 + beta * corr * sg + beta**2 * gain) ** depth, "the cross term of (a + b)^2 is 2ab: 2 beta Cov(x, F)."),
            ((1 + 2 * beta * corr * gain + beta**2 * gain) ** depth, "Cov(x, F) = corr * std(x) * std(F) = "
                                                                       "corr sqrt(gain) Var x (a square root of the gain)."),
            (1 + depth * (2 * beta * corr * sg + beta**2 * gain), "the growth compounds: each block multiplies the "
                                                                  "variance it receives, since Var F(x_l) grows with Var x_l."),
            ((2 * beta * corr * sg + beta**2 * gain) ** depth, "the skip passes x on unchanged: the 1 + ... comes from it."),
            ((1 + beta * sg) ** (2 * depth), "the standard deviations add only when F is perfectly correlated with x "
                                             "(corr = 1); in general the cross term carries corr."),
        ]
        for candidate, hint in wrong:
            if not _close(candidate, want, 1e-5) and _close(value, candidate, 1e-5):
                return verdict(False, "", f"for {case}: {hint}")
        return verdict(False, "", f"for {case} expected {want:.6g}, got {value:.6g}. Start from "
                                  "Var(x + beta F) = Var x + 2 beta Cov(x, F) + beta^2 Var F for one block.")
    return verdict(True, "(1 + 2 beta corr sqrt(gain) + beta^2 gain)^depth: an RRDB's body is close to the identity "
                         "(corr 1, gain 1), so each block multiplies the variance by (1 + beta)^2: 4 at beta = 1, "
                         "1.44 at beta = 0.2.", "")
