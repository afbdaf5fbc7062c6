"""Checkers for notebook 05, "SRGAN training".

Each checker runs the learner's answer against a reference, prints a one-line
verdict that says what looks wrong, and returns True or False. A learner's
function that raises (for instance the `NotImplementedError` of the unedited
exercise cell) gets a verdict, not a traceback.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..losses import seed_d_loss
from ..models import build_generator
from . import call as _call, scalar_problem, verdict


# --- Exercise 1: the discriminator's loss, with the fake detached ---------------------------------

def _d_step_case(seed: int = 0):
    """A tiny G, a tiny D without batch norm (so splitting the batch does not matter) and a batch.

    D's last layer is scaled up so that its logits differ clearly between real and
    fake images and between images: swapped labels or a missing term then change the loss.
    """
    torch.manual_seed(seed)
    G = build_generator("srresnet-tiny", 4)
    D = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(8, 8, 3, stride=2, padding=1),
                      nn.LeakyReLU(0.2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 1))
    with torch.no_grad():
        D[-1].weight.mul_(40)
    lr = torch.rand(4, 3, 8, 8)
    hr = torch.rand(4, 3, 32, 32) * torch.linspace(0.4, 1.0, 4).view(4, 1, 1, 1)
    return G, D, lr, hr


def _d_grads(D, loss) -> list[torch.Tensor]:
    return [g if g is not None else torch.zeros_like(p)
            for p, g in zip(D.parameters(), torch.autograd.grad(loss, list(D.parameters()), allow_unused=True))]


def _d_gradient_problem(D, hr, sr) -> str | None:
    """What is wrong with D's gradient (in D's .grad, from the learner's backward) next to the reference loss's.

    The right value with the wrong gradient is the typical slip of detaching D's
    verdict instead of the image: seed_d_loss(D(hr), D(sr).detach()), or D(sr)
    under no_grad. D then never learns from the fakes.
    """
    got = [p.grad.detach().clone() for p in D.parameters()]
    image = sr.detach()
    want = _d_grads(D, seed_d_loss(D(hr), D(image)))
    flat = lambda grads: torch.cat([g.flatten() for g in grads])  # noqa: E731
    close = lambda a, b: (flat(a) - flat(b)).norm() <= 1e-3 * flat(b).norm()  # noqa: E731  (float32 sums in any order)
    if close(got, want):
        return None
    if close(got, _d_grads(D, seed_d_loss(D(hr), D(image).detach()))):
        return ("the value is right, but D learns nothing from the fakes: its verdict on sr is detached (or computed "
                "under no_grad), so only the real term trains D. Detach the IMAGE, not D's output: D(sr.detach()).")
    if close(got, _d_grads(D, seed_d_loss(D(hr).detach(), D(image)))):
        return ("the value is right, but D learns nothing from the real images: D(hr) must keep its graph "
                "(no detach, no torch.no_grad()).")
    return ("the value is right, but D's gradient is not the loss's: D must see hr and sr.detach() with its graph, "
            "and the loss must be computed from those outputs.")


def check_d_step_loss(fn) -> bool:
    """fn(D, hr, sr) -> the D step's loss: BCE of D's logits, real HR labelled 1 and G's output labelled 0.

    sr = G(lr) arrives with its graph. The loss must train D only: after
    loss.backward() no G parameter has a gradient, and D's gradient is the
    reference loss's (so D learns from the real AND the fake images).
    """
    G, D, lr, hr = _d_step_case()
    sr = G(lr)
    got, err = _call(fn, D, hr, sr)
    if err:
        return verdict(False, "", err)
    problem = scalar_problem(got, "D's optimiser needs its gradient", "a scalar tensor (average over the batch)")
    if problem:
        return verdict(False, "", problem)
    with torch.no_grad():
        real, fake = D(hr), D(sr)
    want = seed_d_loss(real, fake).item()
    value = got.item()
    if not math.isfinite(value):
        return verdict(False, "", f"your loss is {value}: compute it on logits (softplus or BCEWithLogitsLoss).")
    if abs(value - want) > 1e-5 * max(1.0, abs(want)):
        wrong = {
            "labels swapped: real HR gets label 1 (loss softplus(-logit)), G's output label 0 (softplus(logit)).":
                seed_d_loss(fake, real).item(),
            "only the real term: add the fake term, -log(1 - D(G(x))) = softplus(D's logit on sr).":
                seed_d_loss(real, torch.full_like(fake, -1e4)).item(),
            "only the fake term: add the real term, -log D(y) = softplus(-D's logit on hr).":
                seed_d_loss(torch.full_like(real, 1e4), fake).item(),
            "that is half the loss: srlib (and the seed) add the two BCE terms; some codebases average them, "
            "which halves D's gradient. Use the sum here.": want / 2,
            "that is the generator's loss, -log D(G(x)); the D step scores real AND fake.":
                torch.nn.functional.softplus(-fake).mean().item(),
        }
        for hint, w in wrong.items():
            if abs(value - w) < 1e-5 * max(1.0, abs(w)):
                return verdict(False, "", hint)
        return verdict(False, "", f"expected {want:.5f}, got {value:.5f}: -mean log sigmoid(D(hr)) - mean log(1 - sigmoid(D(sr))).")
    if not got.requires_grad:
        return verdict(False, "", "the value is right, but it has no gradient: do not compute D's outputs under "
                                  "torch.no_grad() or detach the loss; only the fake IMAGE is detached.")
    try:
        got.backward()
    except Exception as e:
        return verdict(False, "", f"the value is right, but backward() failed: {type(e).__name__}: {e}")
    if any(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters()):
        return verdict(False, "", "the gradient reached the generator: use D(sr.detach()). Without it the D step "
                                  "also computes gradients for G (wasted work, and they pile up in G's .grad "
                                  "unless it is zeroed before the G step).")
    if any(p.grad is None for p in D.parameters()):
        return verdict(False, "", "some of D's parameters got no gradient: D must see both hr and sr with its graph.")
    problem = _d_gradient_problem(D, hr, sr)
    if problem:
        return verdict(False, "", problem)
    return verdict(True, "seed_d_loss(D(hr), D(sr.detach())): D learns, G is a constant in the D step.", "")


# --- Exercise 2: reading D's outputs --------------------------------------------------------------

def reference_d_outputs(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> tuple[float, float]:
    """(D(x), D(G(z))): batch means of sigmoid(logit), as the Trainer's history logs them."""
    return torch.sigmoid(real_logits).mean().item(), torch.sigmoid(fake_logits).mean().item()


LOSS_D_AT_CHANCE = 2 * math.log(2)  # -log(1/2) - log(1 - 1/2)


def check_d_outputs(fn, loss_d_at_chance) -> bool:
    """fn(real_logits, fake_logits) -> (D(x), D(G(z))) as floats; loss_d_at_chance: loss_d when D outputs 1/2 everywhere."""
    g = torch.Generator().manual_seed(5)
    real = 1.5 + 2.5 * torch.randn(16, 1, generator=g)  # skewed: the mean of sigmoid differs from sigmoid of the mean
    fake = -2.0 + 3.0 * torch.randn(16, 1, generator=g)
    got, err = _call(fn, real.clone(), fake.clone())
    if err:
        return verdict(False, "", err)
    try:
        d_real, d_fake = (float(v) for v in got)
    except (TypeError, ValueError):
        return verdict(False, "", f"return a pair of numbers (D(x), D(G(z))); got {got!r:.80}.")
    want = reference_d_outputs(real, fake)
    close = lambda pair: all(abs(a - b) < 1e-5 for a, b in zip((d_real, d_fake), pair))  # noqa: E731
    if not close(want):
        if close(want[::-1]):
            return verdict(False, "", "swapped: the first number is D(x), D's verdict on REAL images.")
        if close((real.mean().item(), fake.mean().item())):
            return verdict(False, "", "those are the mean logits; D(x) is a probability: apply torch.sigmoid first.")
        if close((torch.sigmoid(real.mean()).item(), torch.sigmoid(fake.mean()).item())):
            return verdict(False, "", "sigmoid of the mean logit is not the mean of the sigmoids (sigmoid is not "
                                      "linear): take torch.sigmoid(logits).mean().")
        return verdict(False, "", f"expected D(x) = {want[0]:.4f}, D(G(z)) = {want[1]:.4f}; got {d_real:.4f}, {d_fake:.4f}.")
    try:
        chance = float(loss_d_at_chance)
    except (TypeError, ValueError):
        return verdict(False, "", f"loss_d_at_chance must be a number; got {loss_d_at_chance!r:.60}.")
    if abs(chance - LOSS_D_AT_CHANCE) > 1e-3:
        hints = {math.log(2): "that is one of the two terms: loss_d adds -log D(x) and -log(1 - D(G(z))).",
                 0.5: "0.5 is D's output; the loss is a cross-entropy: -log(0.5) - log(1 - 0.5).",
                 1.0: "0.5 + 0.5 is not it: the loss takes logarithms, -log(0.5) - log(0.5).",
                 -LOSS_D_AT_CHANCE: "mind the sign: a cross-entropy is positive, -log(0.5) = +0.693."}
        for value, hint in hints.items():
            if abs(chance - value) < 1e-3:
                return verdict(False, "", f"D outputs are right; loss_d_at_chance {chance:.4f}: {hint}")
        return verdict(False, "", f"D outputs are right; loss_d_at_chance should be -log(1/2) - log(1 - 1/2), not {chance:.4f}.")
    return verdict(True, f"D(x) = mean sigmoid(logits); a D that cannot tell sits at loss_d = 2 ln 2 = {LOSS_D_AT_CHANCE:.4f}.", "")


# --- Exercise 3: diagnosing training histories ------------------------------------------------------

LABELS = ("healthy", "d_too_strong", "d_blind", "lr_too_high", "no_pretraining")
_KEY = {"A": "lr_too_high", "B": "healthy", "C": "no_pretraining", "D": "d_blind", "E": "d_too_strong"}

# where to look, when a history is mistaken for another
_LOOK = {
    "healthy": "D(x) and D(G(z)) stay apart but far from 1 and 0, the terms are steady, and val PSNR falls gently "
               "from the PSNR model's 30.93 dB while texture comes in.",
    "d_too_strong": "the run starts like a pretrained one (pixel term near 0.03 at the first step), then D(x) "
                    "climbs towards 1 and D(G(z)) falls towards 0, the adversarial term grows several-fold, and val "
                    "PSNR falls 1-3 dB, towards bicubic's 28.4 dB.",
    "d_blind": "D(x) and D(G(z)) are EQUAL at every step (the two curves lie on each other) and loss_d sits at "
               "2 ln 2: D says the same for real and fake, so G learns nothing from it and the PSNR does not move.",
    "lr_too_high": "the pixel term jumps 10-30x above its start in the first steps, in spikes; a pretrained G never "
                   "does that at a sane learning rate.",
    "no_pretraining": "the pixel term is HIGH FROM THE FIRST STEP (about 0.045, where every run that starts from the "
                      "PSNR model begins near 0.03), val PSNR is never near the PSNR model's 30.93 dB, and D wins "
                      "easily against a generator that knows nothing yet.",
}


def _noise(rng, n, scale):
    return scale * rng.standard_normal(n)


def mystery_histories(steps: int = 150, seed: int = 0) -> dict[str, list[dict]]:
    """Five made-up Trainer histories (rows like Trainer.history), shaped after this notebook's runs.

    One is healthy; the others show a discriminator that wins, one that is blind,
    a learning rate that is too high, and a GAN without PSNR pretraining.
    Bicubic scores 28.42 dB on Set5, the PSNR model 30.93 dB; a generator started
    from the PSNR model has a pixel term near 0.03 on its first batch.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(steps, dtype=np.float64)
    ramp = lambda tau: 1 - np.exp(-t / tau)  # noqa: E731
    c = {}
    # healthy: D slightly ahead, G keeps up; the pixel term rises a little
    c["B"] = dict(d_real=0.5 + 0.09 * ramp(30) + _noise(rng, steps, 0.05), d_fake=0.5 - 0.09 * ramp(30) + _noise(rng, steps, 0.05),
                  loss_pixel=0.031 + 0.005 * ramp(60) + _noise(rng, steps, 0.004), val=(29.6, 29.3, 29.2))
    # D too strong: D(x) -> 1, D(G(z)) -> 0
    c["E"] = dict(d_real=0.55 + 0.32 * ramp(35) + _noise(rng, steps, 0.04), d_fake=0.45 - 0.33 * ramp(35) + _noise(rng, steps, 0.04),
                  loss_pixel=0.032 + 0.007 * ramp(50) + _noise(rng, steps, 0.004), val=(27.6, 28.4, 28.0))
    # D blind: the same verdict for real and fake at every step
    blind = 0.5 + _noise(rng, steps, 0.03)
    blind[:4] = [0.51, 0.96, 0.41, 0.56]
    c["D"] = dict(d_real=blind, d_fake=blind.copy(), loss_pixel=0.032 + _noise(rng, steps, 0.004), val=(30.83, 30.83, 30.84))
    # learning rate too high: spikes of the pixel term, D confused
    spikes = np.where(rng.random(steps) < 0.12, rng.uniform(0.2, 1.0, steps), 0.0) * np.exp(-t / 60)
    pixel = 0.04 + 0.06 * np.exp(-t / 25) + spikes + _noise(rng, steps, 0.004)
    pix_noise = _noise(rng, steps, 0.06)
    c["A"] = dict(d_real=0.5 + pix_noise, d_fake=0.5 + pix_noise + _noise(rng, steps, 0.01), loss_pixel=pixel, val=(28.1, 28.5, 28.6))
    # no pretraining: a weak G from the first step, an easy win for D, PSNR at bicubic's level
    c["C"] = dict(d_real=0.5 + 0.24 * ramp(50) + _noise(rng, steps, 0.05), d_fake=0.48 - 0.22 * ramp(50) + _noise(rng, steps, 0.05),
                  loss_pixel=0.045 + 0.005 * ramp(60) + _noise(rng, steps, 0.004), val=(28.45, 28.3, 28.2))
    out = {}
    for key in sorted(c):
        h = c[key]
        d_real = np.clip(h["d_real"], 0.005, 0.995)
        d_fake = np.clip(h["d_fake"], 0.005, 0.995)
        pixel = np.clip(h["loss_pixel"], 0.005, None)
        pixel[0] = {"C": 0.046, "E": 0.033}.get(key, 0.029)  # the first batch: what G knew at the start
        adv = 5e-3 * -np.log(d_fake)
        fm = 0.002 + 0.02 * pixel * (0.5 + np.abs(d_real - d_fake))
        loss_d = -np.log(d_real) - np.log(1 - d_fake)
        rows = []
        for i in range(steps):
            row = {"step": i, "loss_d": float(loss_d[i]), "d_real": float(d_real[i]), "d_fake": float(d_fake[i]),
                   "loss_pixel": float(pixel[i]), "loss_adversarial": float(adv[i]), "loss_feature_matching": float(fm[i]),
                   "loss_g": float(pixel[i] + adv[i] + fm[i])}
            if (i + 1) % (steps // 3) == 0:
                row["val_psnr"] = float(h["val"][(i + 1) // (steps // 3) - 1])
            rows.append(row)
        out[key] = rows
    return out


def _label(value) -> str | None:
    if not isinstance(value, str):
        return None
    v = value.strip().lower().replace("-", "_").replace(" ", "_")
    return v if v in LABELS else None


def check_diagnoses(answers) -> bool:
    """answers: {"A": label, ..., "E": label} for mystery_histories(), labels from LABELS."""
    if not isinstance(answers, dict):
        return verdict(False, "", f"give a dict {{'A': label, ...}}; got {type(answers).__name__}.")
    missing = sorted(set(_KEY) - {str(k).upper() for k in answers})
    if missing:
        return verdict(False, "", f"no diagnosis for {', '.join(missing)}: label each of A-E.")
    given = {str(k).upper(): v for k, v in answers.items()}
    for key in sorted(_KEY):
        if _label(given[key]) is None:
            return verdict(False, "", f"{key}: {given[key]!r} is not one of the labels {', '.join(LABELS)}.")
    # say how many are wrong and what the misused labels look like, never which history is wrong: the verdict
    # must not hand out the answer key one label at a time
    wrong = [key for key in sorted(_KEY) if _label(given[key]) != _KEY[key]]
    if wrong:
        misused = sorted({_label(given[key]) for key in wrong})
        return verdict(False, "", f"{len(_KEY) - len(wrong)} of {len(_KEY)} right. Look again at every history you "
                                  "labelled " + " or ".join(misused) + ". " + " ".join(f"{m}: {_LOOK[m]}" for m in misused))
    return verdict(True, "A: lr too high, B: healthy, C: no pretraining, D: blind D, E: D too strong. Read D(x) and "
                         "D(G(z)) together, then the pixel term (its first step and its jumps) and val PSNR.", "")
