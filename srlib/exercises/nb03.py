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
from ..toygan import gaussian, grid, mixture, optimal_discriminator
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


# --- Exercise 4: the loss D minimises, from the seed's L_D ------------------------------------------

def _bce_reference(real: torch.Tensor, fake: torch.Tensor) -> tuple[float, np.ndarray, np.ndarray]:
    """-E log sigmoid(real) - E log(1 - sigmoid(fake)) and its gradients, in float64 NumPy (independent of srlib)."""
    r, f = real.double().numpy().ravel(), fake.double().numpy().ravel()
    value = np.logaddexp(0, -r).mean() + np.logaddexp(0, f).mean()
    return float(value), -(1 / (1 + np.exp(r))) / r.size, (1 / (1 + np.exp(-f))) / f.size


def _d_loss_hint(value: float, real: torch.Tensor, fake: torch.Tensor) -> str:
    r, f = real.double().numpy().ravel(), fake.double().numpy().ravel()
    sp = lambda t: np.logaddexp(0, t)  # noqa: E731  softplus
    want = sp(-r).mean() + sp(f).mean()
    known = [
        (-want, "that is -L_D: minimising it MAXIMISES L_D, as the seed's sentence says, and such a D learns to "
                "call real samples fake (section 4). The seed's L_D is already the loss D minimises."),
        (sp(r).mean() + sp(-f).mean(), "the labels are swapped: real samples carry label 1 (-log D(y)), "
                                       "generated ones label 0 (-log(1 - D(G)))."),
        (sp(-r).mean(), "only the real term: add -E log(1 - D(G(x))), the term for the generated samples."),
        (sp(f).mean(), "only the fake term: add -E log D(y), the term for the real samples."),
        (sp(-r).sum() + sp(f).sum(), "you summed over the batches; take the mean of each term, as the expectations say."),
        ((sp(-r).mean() + sp(f).mean()) / 2, "that is half of L_D: the seed's L_D adds the two means."),
        (sp(-f).mean(), "that is the generator's loss -E log D(G(x)), not the discriminator's."),
    ]
    for other, hint in known:
        if abs(value - other) < 1e-4 * max(1.0, abs(other)):
            return hint
    return f"expected {want:.5f}, got {value:.5f}."


def check_d_loss(fn) -> bool:
    """fn(real_logits, fake_logits) -> the loss D minimises (the seed's L_D, on logits): a scalar tensor.

    Values and gradients are compared with a float64 NumPy reference, for ordinary
    and for extreme logits; the maximised sign (-L_D) is rejected with a hint.
    """
    from . import scalar_problem

    rng = torch.Generator().manual_seed(3)
    cases = [("ordinary logits", torch.randn(32, 1, generator=rng) * 2 + 1, torch.randn(48, 1, generator=rng) * 2 - 1),
             ("extreme logits (-200 ... 200)", torch.tensor([[-200.0], [0.0], [150.0]]), torch.tensor([[200.0], [-90.0], [3.0]]))]
    for name, real, fake in cases:
        r_leaf, f_leaf = real.clone().requires_grad_(True), fake.clone().requires_grad_(True)
        got, err = _call(fn, r_leaf, f_leaf)
        if err:
            return verdict(False, "", err)
        problem = scalar_problem(got, "autograd needs one to step D's optimiser", "the mean of each term, added")
        if problem:
            return verdict(False, "", problem)
        value = float(got.detach())
        want, want_gr, want_gf = _bce_reference(real, fake)
        if not math.isfinite(value):
            return verdict(False, "", f"with {name} your loss is {value}: log(sigmoid(l)) underflows. Work on logits: "
                                      "-log sigmoid(l) = softplus(-l) and -log(1 - sigmoid(l)) = softplus(l).")
        if abs(value - want) > 1e-4 * max(1.0, abs(want)):
            return verdict(False, "", f"with {name}: {_d_loss_hint(value, real, fake)}")
        try:
            g_r, g_f = torch.autograd.grad(got, (r_leaf, f_leaf), allow_unused=True)
        except RuntimeError as e:
            return verdict(False, "", f"no gradient flows back to the logits ({str(e).splitlines()[0][:80]}): "
                                      "keep the computation in torch, no .item() or numpy.")
        for which, g, w in (("real", g_r, want_gr), ("fake", g_f, want_gf)):
            if g is None or not torch.isfinite(g).all() or not np.allclose(g.double().numpy().ravel(), w, rtol=1e-4, atol=1e-7):
                return verdict(False, "", f"with {name} the value is right but the gradient with respect to the {which} "
                                          "logits is not: D must learn from both terms (no detach, no clamping inside the loss).")
    return verdict(True, "D minimises L_D = -E log D(y) - E log(1 - D(G(x))), the BCE: it maximises V = -L_D.", "")


# --- Exercise 5: D* when G covers one mode of K ---------------------------------------------------------

def _one_of_k_reference(k: int) -> tuple[float, float]:
    """D* at the covered mode's centre and at a missed mode's centre, computed on srlib's densities."""
    p_data = mixture([10.0 * i for i in range(k)], 0.5)  # K equal, well-separated modes
    p_g = gaussian(0.0, 0.5)                            # G: exactly the first mode
    at = np.array([0.0, 10.0])
    d = optimal_discriminator(p_data.pdf(at), p_g.pdf(at))
    return float(d[0]), float(d[1])


def check_d_star_one_of_k(fn) -> bool:
    """fn(K) -> (D* on the mode G covers, D* on a mode G misses), for K equal, separated modes and G on one of them."""
    for k in (3, 2, 5, 10):
        got, err = _call(fn, k)
        if err:
            return verdict(False, "", err)
        try:
            covered, missed = (float(v) for v in got)
        except (TypeError, ValueError):
            return verdict(False, "", f"return two numbers, (D* on the covered mode, D* on a missed mode); got {got!r:.60}.")
        want_c, want_m = _one_of_k_reference(k)
        if abs(covered - want_c) > 1e-6:
            if abs(covered - 1 / k) < 1e-6:
                hint = ("1/K is p_data / p_g there; D* divides by the sum p_data + p_g, and p_g = K p_data on the "
                        "covered mode (it holds 1/K of the real mass but all of the generated mass).")
            elif abs(covered - k / (k + 1)) < 1e-6:
                hint = "that is 1 - D*, the generated share; D* = p_data / (p_data + p_g) is the real share."
            elif abs(covered - 0.5) < 1e-6:
                hint = "1/2 needs p_g = p_data; on the covered mode p_g = K p_data."
            elif abs(covered - 0.25) < 1e-6:
                hint = "1/4 is the answer for K = 3 (section 6); write it for any K."
            else:
                hint = f"for K = {k} the covered mode has D* = {want_c:.4f}; you gave {covered:.4f}."
            return verdict(False, "", f"on the covered mode: {hint}")
        if abs(missed - want_m) > 1e-6:
            hint = ("on a missed mode p_g = 0, so D* = p_data / (p_data + 0) = 1: D is sure these are real."
                    if abs(missed) < 1e-6 or abs(missed - 0.5) < 1e-6 else
                    f"for K = {k} a missed mode has D* = {want_m:.4f}; you gave {missed:.4f}.")
            return verdict(False, "", f"on a missed mode: {hint}")
    return verdict(True, "D* = 1/(K + 1) on the covered mode, flat, so G feels no gradient there; 1 on the missed modes.", "")
