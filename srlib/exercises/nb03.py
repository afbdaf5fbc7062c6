"""Checkers for notebook 03, "GAN theory".

Each checker runs the learner's answer against srlib's reference, prints a
one-line verdict that says what looks wrong, and returns True or False. A
learner's function that raises (for instance the `NotImplementedError` of the
unedited exercise cell) gets a verdict, not a traceback.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..losses import minimax_g_loss, nonsaturating_g_loss
from ..toygan import gaussian, grid, optimal_discriminator
from . import call as _call, verdict




def _close(a, b, tol=1e-6) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and bool(np.allclose(a, b, rtol=0, atol=tol))


# --- Exercise 1: the optimal discriminator ------------------------------------------------------

def check_optimal_discriminator(fn) -> bool:
    """fn(p_data, p_g) -> D*(x) for arrays of densities (both > 0), elementwise."""
    x = grid(-4, 4, 81)
    cases = [
        (gaussian(0, 1).pdf(x), gaussian(2, 1).pdf(x)),
        (gaussian(-1, 0.5).pdf(x), gaussian(1, 2).pdf(x)),
        (np.array([0.3, 0.1, 2.0]), np.array([0.1, 0.3, 2.0])),
    ]
    for p_data, p_g in cases:
        got, err = _call(fn, p_data.copy(), p_g.copy())
        if err:
            return verdict(False, "", err)
        try:
            got = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return verdict(False, "", f"return an array of numbers, one per grid point; got {type(got).__name__}.")
        want = optimal_discriminator(p_data, p_g)
        if got.shape != want.shape:
            return verdict(False, "", f"return one value per point, shape {want.shape}; got shape {got.shape}.")
        if _close(got, want):
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            if _close(got, 1 - want):
                hint = "that is 1 - D*: D* is the share of the REAL density, p_data / (p_data + p_g)."
            elif _close(got, p_data / p_g):
                hint = "p_data / p_g is the density ratio; D* divides by the sum, p_data + p_g."
            elif _close(got, np.log(want)):
                hint = "return the probability D*(x) itself, not its logarithm."
            elif _close(got, np.log(p_data / p_g)):
                hint = "that is D*'s logit, log(p_data / p_g); return the probability sigmoid(logit) = p_data / (p_data + p_g)."
            else:
                hint = f"for p_data = {p_data[0]:.4g}, p_g = {p_g[0]:.4g} expected {want[0]:.4f}, got {got.ravel()[0]:.4f}."
        return verdict(False, "", hint)
    return verdict(True, "D*(x) = p_data / (p_data + p_g): 1/2 where the densities agree, near 1 where only real data lives.", "")


# --- Exercise 2: the non-saturating generator loss, on logits ------------------------------------

def check_nonsaturating_loss(fn) -> bool:
    """fn(fake_logits) -> -E log sigmoid(fake_logits), a finite scalar tensor with a finite gradient for any logit."""
    rng = torch.Generator().manual_seed(0)
    ordinary = torch.randn(64, 1, generator=rng) * 3
    extreme = torch.tensor([[-200.0], [-50.0], [0.0], [50.0], [200.0]])
    for name, logits in (("ordinary logits", ordinary), ("extreme logits (-200 ... 200)", extreme)):
        leaf = logits.clone().requires_grad_(True)
        got, err = _call(fn, leaf)
        if err:
            return verdict(False, "", err)
        if not isinstance(got, torch.Tensor) or got.numel() != 1:
            return verdict(False, "", f"return a scalar torch tensor (the mean over the batch); got {got!r:.60}.")
        value = float(got.detach())
        want = float(nonsaturating_g_loss(logits))
        if not math.isfinite(value):
            return verdict(False, "", f"with {name} your loss is {value}: log(sigmoid(l)) underflows for very negative "
                                      "l. Use -log sigmoid(l) = softplus(-l), i.e. F.softplus(-logits).mean().")
        if abs(value - want) > 1e-4 * max(1.0, abs(want)):
            if abs(value - float(minimax_g_loss(logits))) < 1e-4 * max(1.0, abs(want)):
                hint = "that is the minimax (saturating) loss E log(1 - D); the non-saturating one is -E log D."
            elif abs(value + want) < 1e-4 * max(1.0, abs(want)):
                hint = "the sign is flipped: G MINIMISES -E log D(G(z)), which is a positive number."
            elif abs(value - float(F.softplus(-logits).sum())) < 1e-4 * max(1.0, abs(want)):
                hint = "you summed over the batch; take the mean, as srlib's losses do."
            elif name.startswith("extreme") and abs(value - float(torch.clamp(F.softplus(-logits), max=100).mean())) < 1e-3:
                hint = ("the loss is capped at 100 per sample: nn.BCELoss on probabilities clamps log at -100. "
                        "Work on logits: F.softplus(-logits) or F.binary_cross_entropy_with_logits.")
            else:
                hint = f"expected {want:.5f}, got {value:.5f}."
            return verdict(False, "", f"with {name}: {hint}")
        try:
            (grad,) = torch.autograd.grad(got, leaf)
        except RuntimeError as e:
            return verdict(False, "", f"no gradient flows back to the logits ({str(e).splitlines()[0][:80]}): "
                                      "keep the computation in torch, no .item() or numpy.")
        want_grad = -(1 - torch.sigmoid(logits)) / logits.numel()
        if not torch.isfinite(grad).all() or not torch.allclose(grad, want_grad, atol=1e-6):
            return verdict(False, "", f"with {name} the value is right but the gradient is not "
                                      f"(expected -(1 - sigmoid(l)) / n): avoid clamping or detaching inside the loss.")
    return verdict(True, "stable: -log sigmoid(l) = softplus(-l), finite for any logit, gradient -(1 - D)/n.", "")


# --- Exercise 3: V(G, D*) at equilibrium -----------------------------------------------------------

def check_value_at_equilibrium(answer) -> bool:
    """answer: V(G, D*) when p_g = p_data, as a number (natural logarithm)."""
    try:
        got = float(answer)
    except (TypeError, ValueError):
        return verdict(False, "", f"answer with a number; got {answer!r}.")
    want = -math.log(4)
    if abs(got - want) < 1e-4:
        return verdict(True, "V(G, D*) = -log 4 ≈ -1.3863: D* = 1/2 everywhere, and JSD = 0 at p_g = p_data.", "")
    if abs(got + want) < 1e-4:
        return verdict(False, "", "the sign is off: V sums logarithms of probabilities (≤ 1), so it is negative.")
    if abs(got + math.log(2)) < 1e-4:
        return verdict(False, "", "that is one of the two terms: V = E log D*(y) + E log(1 - D*(G(z))), "
                                  "and each is log(1/2).")
    if abs(got) < 1e-4:
        return verdict(False, "", "0 is JSD(p_data || p_g) at p_g = p_data; V(G, D*) = -log 4 + 2 JSD.")
    if abs(got + 2) < 1e-4:
        return verdict(False, "", "that is in bits (log base 2); the course uses the natural logarithm.")
    if abs(got - 0.5) < 1e-4:
        return verdict(False, "", "0.5 is D*(x) at equilibrium; plug it into V = E log D + E log(1 - D).")
    return verdict(False, "", f"{got:.4f} is not it: at p_g = p_data, what is D*(x), and what is V with that D?")
