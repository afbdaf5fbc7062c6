"""Adversarial losses, all on discriminator LOGITS, never on probabilities.

With D = sigmoid(logit), every log D and log(1 - D) is written through softplus:
-log sigmoid(l) = softplus(-l) and -log(1 - sigmoid(l)) = softplus(l). This is
exact and finite for any logit. In float32, sigmoid(l) rounds to exactly 0
below l ~ -89 and to exactly 1 above l ~ 17, so log(sigmoid(l)) or
log(1 - sigmoid(l)) gives -inf; Sigmoid + nn.BCELoss (the seed blog's code)
hides this by clamping each log at -100, which caps the loss and zeroes its gradient.

Every loss returns a scalar mean over all elements, so a patch discriminator's
(N, 1, H, W) logits work like an image discriminator's (N, 1).
D losses expect fake logits of a detached G output (`D(G(x).detach())`): the
caller detaches, so the D step does not backpropagate into G.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..errors import SrlibError

Tensor = torch.Tensor


def _neg_log_d(logits: Tensor) -> Tensor:
    """-E log D = -E log sigmoid(logits), i.e. BCE against label 1."""
    return F.softplus(-logits).mean()


def _neg_log_one_minus_d(logits: Tensor) -> Tensor:
    """-E log(1 - D) = -E log sigmoid(-logits), i.e. BCE against label 0."""
    return F.softplus(logits).mean()


def seed_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The seed blog's L_D = -E log D(y) - E log(1 - D(G(x))), the sum of its two nn.BCELoss terms.

    The blog says D *maximises* this L_D; as written, D minimises it (it is a
    cross-entropy, lowest when D(y) -> 1 and D(G(x)) -> 0), and its code does minimise it.
    """
    return _neg_log_d(real_logits) + _neg_log_one_minus_d(fake_logits)


def seed_g_loss(fake_logits: Tensor) -> Tensor:
    """The seed blog's L_G = -E log D(G(x)): the non-saturating loss, not the minimax one."""
    return _neg_log_d(fake_logits)


def minimax_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Goodfellow et al. (2014): D minimises the binary cross-entropy, the same as `seed_d_loss`."""
    return seed_d_loss(real_logits, fake_logits)


def minimax_g_loss(fake_logits: Tensor) -> Tensor:
    """E log(1 - D(G(x))), which G minimises in the original minimax game (Goodfellow et al., 2014).

    It saturates: when D confidently rejects fakes (logit -> -inf), its gradient
    sigmoid(logit) vanishes, exactly when G most needs a signal.
    """
    return -_neg_log_one_minus_d(fake_logits)


def nonsaturating_g_loss(fake_logits: Tensor) -> Tensor:
    """-E log D(G(x)): same fixed point as the minimax loss, but a gradient of ~-1 when D rejects fakes."""
    return _neg_log_d(fake_logits)


def lsgan_d_loss(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """Least-squares GAN (Mao et al., 2017) on raw outputs: 0.5 E (D(y) - 1)^2 + 0.5 E D(G(x))^2."""
    return 0.5 * (real_out - 1).pow(2).mean() + 0.5 * fake_out.pow(2).mean()


def lsgan_g_loss(fake_out: Tensor) -> Tensor:
    """Least-squares GAN generator loss: 0.5 E (D(G(x)) - 1)^2."""
    return 0.5 * (fake_out - 1).pow(2).mean()


def hinge_d_loss(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """Hinge loss (Lim & Ye 2017; SAGAN, BigGAN): E relu(1 - D(y)) + E relu(1 + D(G(x)))."""
    return F.relu(1 - real_out).mean() + F.relu(1 + fake_out).mean()


def hinge_g_loss(fake_out: Tensor) -> Tensor:
    """Hinge generator loss: -E D(G(x))."""
    return -fake_out.mean()


def wgan_d_loss(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """Wasserstein critic loss (Arjovsky et al., 2017): E D(G(x)) - E D(y); add `gradient_penalty`."""
    return fake_out.mean() - real_out.mean()


def wgan_g_loss(fake_out: Tensor) -> Tensor:
    """Wasserstein generator loss: -E D(G(x))."""
    return -fake_out.mean()


def gradient_penalty(D: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, weight: float = 10.0,
                     generator: torch.Generator | None = None) -> Tensor:
    """WGAN-GP (Gulrajani et al., 2017): weight * E (||grad_x D(x_hat)||_2 - 1)^2.

    x_hat = eps real + (1 - eps) fake with eps ~ U[0, 1] per sample, drawn as
    torch.rand((N, 1, ..., 1), generator=generator). Images are detached: the
    penalty trains D only. The gradient graph is kept (create_graph=True), so
    the penalty backpropagates into D's parameters. Per-pixel logits are summed
    per sample first; this needs a D without batch coupling (no BatchNorm).
    """
    if real.shape != fake.shape:
        raise SrlibError(f"gradient_penalty needs real and fake of one shape; "
                         f"got {tuple(real.shape)} and {tuple(fake.shape)}.")
    n = real.shape[0]
    shape = (n,) + (1,) * (real.dim() - 1)
    device = generator.device if generator is not None else real.device
    eps = torch.rand(shape, generator=generator, device=device, dtype=real.dtype).to(real.device)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    out = D(x_hat).reshape(n, -1).sum(dim=1)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    norm = grad.reshape(n, -1).norm(2, dim=1)
    return weight * (norm - 1).pow(2).mean()


def relativistic_d_loss(real_logits: Tensor, fake_logits: Tensor, detach_means: bool = False) -> Tensor:
    """Relativistic average D loss (Jolicoeur-Martineau 2018), as in ESRGAN (Wang et al., 2018).

    (BCE(real - E fake, 1) + BCE(fake - E real, 0)) / 2: D judges whether a real
    image looks *more* realistic than the average fake, and vice versa.
    The default follows the ESRGAN code: both means stay in the graph. BasicSR
    splits the loss into two backward passes and detaches the other branch's
    mean in each (detach_means=True): the same value, a slightly different gradient.
    """
    mean_fake, mean_real = fake_logits.mean(), real_logits.mean()
    if detach_means:
        mean_fake, mean_real = mean_fake.detach(), mean_real.detach()
    return 0.5 * (_neg_log_d(real_logits - mean_fake) + _neg_log_one_minus_d(fake_logits - mean_real))


def relativistic_g_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Relativistic average G loss, the D loss with roles swapped: (BCE(real - E fake, 0) + BCE(fake - E real, 1)) / 2.

    Unlike other G losses it needs real logits too, so G also gets gradient from
    the real term (through E fake). Pass `D(hr).detach()` as in ESRGAN and
    BasicSR: the real logits are constants in the G step, so nothing flows into D.
    """
    return 0.5 * (_neg_log_one_minus_d(real_logits - fake_logits.mean())
                  + _neg_log_d(fake_logits - real_logits.mean()))


@dataclass(frozen=True)
class AdversarialLoss:
    """A D loss and a G loss with one signature: d_loss(real, fake) and g_loss(real, fake).

    g_loss ignores the real logits except for the relativistic loss. When
    `penalty` is true (WGAN-GP) the caller adds `gradient_penalty(D, hr, sr)` to the D loss.
    """

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor, Tensor], Tensor]
    penalty: bool = False


def _fake_only(g_loss: Callable[[Tensor], Tensor]) -> Callable[[Tensor, Tensor], Tensor]:
    """Give a G loss of fake logits the uniform (real, fake) signature."""
    def wrapped(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return g_loss(fake_logits)
    wrapped.__name__ = wrapped.__qualname__ = g_loss.__name__
    wrapped.__doc__ = g_loss.__doc__
    return wrapped


ADVERSARIAL: dict[str, AdversarialLoss] = {
    "seed": AdversarialLoss("seed", seed_d_loss, _fake_only(seed_g_loss)),
    "minimax": AdversarialLoss("minimax", minimax_d_loss, _fake_only(minimax_g_loss)),
    "nonsaturating": AdversarialLoss("nonsaturating", minimax_d_loss, _fake_only(nonsaturating_g_loss)),
    "lsgan": AdversarialLoss("lsgan", lsgan_d_loss, _fake_only(lsgan_g_loss)),
    "hinge": AdversarialLoss("hinge", hinge_d_loss, _fake_only(hinge_g_loss)),
    "wgan-gp": AdversarialLoss("wgan-gp", wgan_d_loss, _fake_only(wgan_g_loss), penalty=True),
    "relativistic": AdversarialLoss("relativistic", relativistic_d_loss, relativistic_g_loss),
}


def get_adversarial(name: str) -> AdversarialLoss:
    """The adversarial loss pair registered under `name` (case and '_' vs '-' do not matter)."""
    key = str(name).strip().lower().replace("_", "-")
    if key in ADVERSARIAL:
        return ADVERSARIAL[key]
    close = difflib.get_close_matches(key, list(ADVERSARIAL), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise SrlibError(f"unknown adversarial loss {name!r}.{hint} Known: {', '.join(ADVERSARIAL)}.")
