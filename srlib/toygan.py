"""A 1-D toy GAN for checking GAN theory numerically (notebook 03).

Everything lives on the real line, so every density can be written down or
estimated on a grid, and every quantity of the theory can be computed:

- `Mixture1D`: a mixture of Gaussians (one Gaussian is a mixture of one), with
  its exact density `pdf` and seeded sampling.
- `optimal_discriminator`, `jsd`, `kl`, `value_function`: D*(x) = p_data / (p_data + p_g),
  the Jensen-Shannon divergence and the GAN value V(D, G), by numerical integration on a grid.
- `histogram_density`, `kde`: density estimates from samples, on a grid.
- `make_discriminator`, `make_generator`: tiny MLPs (D returns LOGITS).
- `fit_discriminator`: train D on FIXED real and fake samples (the inner max of the game).
- `train_toy_gan`: the whole game, with any adversarial loss of `srlib.losses`.
- `mode_coverage`: the share of samples near each mode of a mixture.

Everything is seeded: the same arguments give the same numbers on a CPU.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn

from .errors import SrlibError
from .losses import get_adversarial, gradient_penalty

LOG2 = math.log(2.0)
LOG4 = math.log(4.0)


# --- distributions on the line ------------------------------------------------------------------

@dataclass(frozen=True)
class Mixture1D:
    """A mixture of 1-D Gaussians: sum_k w_k N(mu_k, sigma_k^2)."""

    means: tuple[float, ...]
    stds: tuple[float, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self):
        means = tuple(float(m) for m in np.atleast_1d(self.means))
        stds = tuple(float(s) for s in np.atleast_1d(self.stds))
        if len(stds) == 1 and len(means) > 1:
            stds = stds * len(means)
        w = np.ones(len(means)) if self.weights is None else np.asarray(self.weights, dtype=np.float64)
        if len(stds) != len(means) or len(w) != len(means):
            raise SrlibError(f"a mixture needs one std and one weight per mean; got {len(means)} means, "
                             f"{len(stds)} stds and {len(w)} weights.")
        if min(stds) <= 0 or (w < 0).any() or w.sum() <= 0:
            raise SrlibError("stds must be positive and weights non-negative (not all zero).")
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "stds", stds)
        object.__setattr__(self, "weights", tuple(float(v) for v in w / w.sum()))

    def pdf(self, x) -> np.ndarray:
        """The exact density at x (any shape), float64."""
        x = np.asarray(x, dtype=np.float64)[..., None]
        m, s, w = (np.asarray(v) for v in (self.means, self.stds, self.weights))
        return (w * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))).sum(-1)

    def sample(self, n: int, seed: int | torch.Generator = 0) -> torch.Tensor:
        """n samples as a float32 tensor of shape (n, 1); `seed` is an int or a torch.Generator."""
        g = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(int(seed))
        k = torch.multinomial(torch.tensor(self.weights, dtype=torch.float64), n, replacement=True, generator=g)
        z = torch.randn(n, generator=g, dtype=torch.float64)
        x = torch.tensor(self.means, dtype=torch.float64)[k] + torch.tensor(self.stds, dtype=torch.float64)[k] * z
        return x.float()[:, None]

    @property
    def mean(self) -> float:
        return float(np.dot(self.weights, self.means))

    @property
    def std(self) -> float:
        w, m, s = (np.asarray(v) for v in (self.weights, self.means, self.stds))
        return float(np.sqrt(np.dot(w, s**2 + m**2) - np.dot(w, m) ** 2))


def gaussian(mean: float = 0.0, std: float = 1.0) -> Mixture1D:
    """One Gaussian N(mean, std^2)."""
    return Mixture1D((mean,), (std,))


def mixture(means, stds, weights=None) -> Mixture1D:
    """A Gaussian mixture; `stds` may be one number for all components."""
    return Mixture1D(tuple(np.atleast_1d(means)), tuple(np.atleast_1d(stds)),
                     None if weights is None else tuple(np.atleast_1d(weights)))


def grid(lo: float = -6.0, hi: float = 6.0, n: int = 2001) -> np.ndarray:
    """An evenly spaced grid for numerical integration (trapezoid rule)."""
    return np.linspace(lo, hi, n)


def integrate(f, x) -> float:
    """The trapezoid rule: the integral of samples f on the grid x."""
    f, x = np.asarray(f, dtype=np.float64), np.asarray(x, dtype=np.float64)
    return float(np.sum((f[1:] + f[:-1]) * np.diff(x)) / 2)


def _normalise(p, x) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 0, None)
    z = integrate(p, x)
    if not z > 0:
        raise SrlibError("a density on the grid integrates to 0: widen the grid or check the density.")
    return p / z


def _xlogy(a, b) -> np.ndarray:
    """a * log(b) with 0 * log(anything) = 0 (the convention of information theory)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    out = np.zeros_like(a)
    nz = a != 0
    with np.errstate(divide="ignore"):
        out[nz] = a[nz] * np.log(b[nz])
    return out


# --- the theory, on a grid ------------------------------------------------------------------------

def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)); 0.5 where both densities are 0 (any value is optimal there)."""
    p_data, p_g = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    den = p_data + p_g
    return np.divide(p_data, den, out=np.full(np.broadcast(p_data, p_g).shape, 0.5), where=den > 0)


def kl(p, q, x, normalise: bool = True) -> float:
    """KL(p || q) = integral of p log(p / q), natural log; inf where p > 0 = q."""
    if normalise:
        p, q = _normalise(p, x), _normalise(q, x)
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if ((p > 0) & (q <= 0)).any():
        return math.inf
    return integrate(_xlogy(p, p) - _xlogy(p, q), x)


def jsd(p, q, x, normalise: bool = True) -> float:
    """Jensen-Shannon divergence of densities p, q sampled on the grid x, in nats (0 <= JSD <= log 2).

    JSD(p || q) = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2. With
    `normalise`, p and q are first rescaled to integrate to 1 on the grid.
    """
    if normalise:
        p, q = _normalise(p, x), _normalise(q, x)
    m = (np.asarray(p) + np.asarray(q)) / 2
    return max(0.0, 0.5 * kl(p, m, x, normalise=False) + 0.5 * kl(q, m, x, normalise=False))


def value_function(d, p_data, p_g, x) -> float:
    """V(D, G) = integral of p_data log D + p_g log(1 - D), for D's probabilities `d` on the grid x.

    `d` is first clipped to the open interval (0, 1) of float64: where a ratio such as
    D* = p_data / (p_data + p_g) rounds to exactly 1 although p_g is 1e-150, log(1 - D)
    would be -inf; the true term, p_g log(1 - D), is negligible there, and so is the clipped one.
    """
    d = np.clip(np.asarray(d, dtype=np.float64), np.finfo(np.float64).tiny, np.nextafter(1.0, 0.0))
    return integrate(_xlogy(p_data, d) + _xlogy(p_g, 1 - d), x)


# --- density estimates from samples ---------------------------------------------------------------

def _as_numpy(samples) -> np.ndarray:
    if isinstance(samples, torch.Tensor):
        samples = samples.detach().cpu().double().numpy()
    return np.asarray(samples, dtype=np.float64).ravel()


def histogram_density(samples, edges) -> tuple[np.ndarray, np.ndarray]:
    """(bin centres, density): a normalised histogram of `samples` on the bins `edges`."""
    edges = np.asarray(edges, dtype=np.float64)
    counts, _ = np.histogram(_as_numpy(samples), bins=edges)
    n = max(len(_as_numpy(samples)), 1)
    return (edges[1:] + edges[:-1]) / 2, counts / (n * np.diff(edges))


def silverman_bandwidth(samples) -> float:
    """Silverman's rule of thumb, 0.9 min(std, IQR / 1.34) n^(-1/5)."""
    s = _as_numpy(samples)
    iqr = np.subtract(*np.percentile(s, [75, 25]))
    spread = min(s.std(), iqr / 1.34) if iqr > 0 else s.std()
    return float(0.9 * max(spread, 1e-3) * len(s) ** (-0.2))


def kde(samples, x, bandwidth: float | None = None) -> np.ndarray:
    """A Gaussian kernel density estimate of `samples` on the grid x (bandwidth: Silverman's rule if None)."""
    s, x = _as_numpy(samples), np.asarray(x, dtype=np.float64)
    h = silverman_bandwidth(s) if bandwidth is None else float(bandwidth)
    out = np.zeros_like(x)
    for i in range(0, len(s), 2048):  # chunks keep the (grid x samples) matrix small
        out += np.exp(-0.5 * ((x[:, None] - s[None, i:i + 2048]) / h) ** 2).sum(1)
    return out / (len(s) * h * math.sqrt(2 * math.pi))


def mode_coverage(samples, means, radius: float) -> np.ndarray:
    """The share of samples within `radius` of each mode (one number per mean; the rest is between modes)."""
    s = _as_numpy(samples)
    return np.array([float(np.mean(np.abs(s - m) <= radius)) for m in np.atleast_1d(means)])


def modes_covered(samples, means, radius: float, min_share: float = 0.05) -> int:
    """How many modes hold at least `min_share` of the samples."""
    return int((mode_coverage(samples, means, radius) >= min_share).sum())


# --- networks -------------------------------------------------------------------------------------

def _mlp(n_in: int, hidden: int, depth: int, n_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def make_discriminator(hidden: int = 64, depth: int = 2, seed: int = 0) -> nn.Sequential:
    """A tiny MLP 1 -> hidden -> ... -> 1 that returns a LOGIT (D(x) = sigmoid(logit)); seeded init."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _mlp(1, hidden, depth, 1)


def make_generator(noise_dim: int = 1, hidden: int = 64, depth: int = 2, seed: int = 0) -> nn.Sequential:
    """A tiny MLP noise_dim -> hidden -> ... -> 1; G(z) with z ~ N(0, I); seeded init."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _mlp(noise_dim, hidden, depth, 1)


@torch.no_grad()
def d_on_grid(D: nn.Module, x) -> np.ndarray:
    """D's probability sigmoid(D(x)) at every grid point, as float64 numpy."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))[:, None]
    return torch.sigmoid(D(t)).double().numpy().ravel()


# --- training -------------------------------------------------------------------------------------

def _device(device) -> torch.device:
    """A torch.device from a name ("auto", "cpu", "cuda", ...), via srlib.train's `pick_device`."""
    if isinstance(device, torch.device):
        return device
    from .train.device import pick_device  # imported late: toygan needs none of the trainer
    return pick_device(str(device))


def fit_discriminator(real, fake, D: nn.Module | None = None, steps: int = 1000, lr: float = 3e-3,
                      batch: int | None = None, seed: int = 0, loss: str = "minimax",
                      device="cpu") -> tuple[nn.Module, list[float]]:
    """Train D on FIXED real and fake samples (tensors (n, 1)) by minimising the D loss `loss` with Adam.

    This is the inner maximisation of the game, max_D V(D, G) for a frozen G. With
    the default (BCE, `minimax_d_loss`) D tends to D* = p_data / (p_data + p_g).
    `batch=None` uses all samples at every step. Training runs on `device` ("auto":
    a GPU if there is one); D is returned on the CPU. Returns (D, the loss at every step).
    """
    dev = _device(device)
    D = (D if D is not None else make_discriminator(seed=seed)).to(dev)
    d_loss = get_adversarial(loss).d_loss
    opt = torch.optim.Adam(D.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    real, fake = torch.as_tensor(real, dtype=torch.float32), torch.as_tensor(fake, dtype=torch.float32)
    history = []
    for _ in range(steps):
        if batch is None:
            r, f = real, fake
        else:
            r = real[torch.randint(len(real), (batch,), generator=g)]
            f = fake[torch.randint(len(fake), (batch,), generator=g)]
        loss_value = d_loss(D(r.to(dev)), D(f.to(dev)))
        opt.zero_grad(set_to_none=True)
        loss_value.backward()
        opt.step()
        history.append(loss_value.item())
    return D.cpu(), history


@dataclass
class ToyGANResult:
    """What `train_toy_gan` returns: the trained networks, curves and sample snapshots."""

    G: nn.Module
    D: nn.Module
    loss: str
    # every step: step, d_loss, g_loss, and d_real / d_fake, the mean sigmoid(D) on the last D step's real
    # and fake batch before its update (D(x) and D(G(z)); a probability only for the BCE losses)
    history: dict[str, list[float]] = field(default_factory=dict)
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)  # step -> G samples
    jsd_steps: list[int] = field(default_factory=list)
    jsd: list[float] = field(default_factory=list)  # JSD(p_data || KDE of p_g) at jsd_steps
    seconds: float = 0.0

    @property
    def final_jsd(self) -> float:
        return self.jsd[-1] if self.jsd else math.nan

    def sample(self, n: int = 10000, seed: int = 123) -> torch.Tensor:
        """n fresh samples G(z), shape (n, 1)."""
        g = torch.Generator().manual_seed(seed)
        noise_dim = self.G[0].in_features
        with torch.no_grad():
            return self.G(torch.randn(n, noise_dim, generator=g))


def default_bandwidth(target: Mixture1D) -> float:
    """The KDE bandwidth the toy GAN's JSD estimates use: 0.4 x the narrowest component's std.

    Silverman's rule assumes one bump and oversmooths a mixture of narrow, distant modes.
    """
    return 0.4 * min(target.stds)


def eval_grid(target: Mixture1D, n: int = 1201) -> np.ndarray:
    """A grid that covers `target` and a margin around it."""
    return grid(min(target.means) - 5 * max(target.stds) - 2, max(target.means) + 5 * max(target.stds) + 2, n)


def jsd_from_samples(target: Mixture1D, samples, x=None, bandwidth: float | None = None) -> float:
    """JSD(p_data || p_g) with the exact p_data and a KDE of p_g from `samples`, on the grid x.

    A KDE-based estimate: even perfect samples of p_data give a small positive number
    (the KDE smooths, and n samples fluctuate), so read it as "distance, plus a small floor".
    The bandwidth defaults to `default_bandwidth(target)`.
    """
    x = eval_grid(target) if x is None else x
    s = _as_numpy(samples)
    if not np.isfinite(s).all():
        return math.nan
    return jsd(target.pdf(x), kde(s, x, default_bandwidth(target) if bandwidth is None else bandwidth), x)


def train_toy_gan(target: Mixture1D, loss: str = "nonsaturating", steps: int = 2000, batch: int = 256,
                  lr_g: float = 1e-3, lr_d: float = 1e-3, d_steps: int = 1, noise_dim: int = 1,
                  hidden: int = 64, depth: int = 2, betas: tuple[float, float] = (0.5, 0.999),
                  gp_weight: float = 1.0, lr_end: float = 1.0, seed: int = 0, snapshot_every: int | None = None,
                  jsd_every: int | None = None, n_eval: int = 4000, progress=None, device="cpu") -> ToyGANResult:
    """Train a 1-D GAN: G maps z ~ N(0, I_noise_dim) to a number, D tells samples of `target` from G's.

    `loss` names a pair of srlib.losses (get_adversarial: "nonsaturating", "minimax",
    "lsgan", "hinge", "wgan-gp", "relativistic", "seed"). Each step makes
    `d_steps` D updates (fresh real and fake batches, fakes detached), then one
    G update. For "wgan-gp", `gradient_penalty` with weight `gp_weight` is added
    to the D loss. Both learning rates decay linearly to `lr_end` times their
    start value over the run (1.0: constant). Every `snapshot_every` steps, `n_eval` samples of G are kept;
    every `jsd_every` steps, JSD(p_data || KDE of p_g) is recorded.
    `progress(step, result)` is called at each JSD evaluation, if given.
    The networks train on `device` ("auto": a GPU if there is one; these MLPs are so
    small that the CPU is usually faster); random numbers are drawn on the CPU, and
    the result holds G and D on the CPU.
    """
    pair = get_adversarial(loss)
    dev = _device(device)
    G = make_generator(noise_dim, hidden, depth, seed=seed).to(dev)
    D = make_discriminator(hidden, depth, seed=seed + 1).to(dev)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas)
    decay = lambda i: 1.0 - (1.0 - lr_end) * min(i / max(steps, 1), 1.0)  # noqa: E731
    sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, decay)
    sched_d = torch.optim.lr_scheduler.LambdaLR(opt_d, decay)
    gen = torch.Generator().manual_seed(seed + 2)
    z_eval = torch.randn(n_eval, noise_dim, generator=torch.Generator().manual_seed(seed + 3))
    x_eval = eval_grid(target, 801)
    snapshot_every = snapshot_every or max(steps // 5, 1)
    jsd_every = jsd_every or max(steps // 20, 1)
    res = ToyGANResult(G, D, pair.name, history={k: [] for k in ("step", "d_loss", "g_loss", "d_real", "d_fake")})
    start = time.perf_counter()

    def evaluate(step: int) -> None:
        with torch.no_grad():
            s = G(z_eval.to(dev)).cpu().numpy().ravel()
        if step % snapshot_every == 0 or step == steps:
            res.snapshots[step] = s
        if step % jsd_every == 0 or step == steps:
            res.jsd_steps.append(step)
            res.jsd.append(jsd_from_samples(target, s, x_eval))
            if progress is not None:
                progress(step, res)

    evaluate(0)
    for step in range(1, steps + 1):
        for _ in range(d_steps):
            real = target.sample(batch, gen).to(dev)
            with torch.no_grad():
                fake = G(torch.randn(batch, noise_dim, generator=gen).to(dev))
            real_logits, fake_logits = D(real), D(fake)
            d_loss = pair.d_loss(real_logits, fake_logits)
            if pair.penalty:
                d_loss = d_loss + gradient_penalty(D, real, fake, weight=gp_weight, generator=gen)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        d_real, d_fake = torch.sigmoid(real_logits).mean().item(), torch.sigmoid(fake_logits).mean().item()
        real = target.sample(batch, gen).to(dev)
        fake = G(torch.randn(batch, noise_dim, generator=gen).to(dev))
        with torch.no_grad():
            real_logits = D(real)
        g_loss = pair.g_loss(real_logits, D(fake))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        sched_g.step()
        sched_d.step()
        res.history["step"].append(step)
        res.history["d_loss"].append(d_loss.item())
        res.history["g_loss"].append(g_loss.item())
        res.history["d_real"].append(d_real)
        res.history["d_fake"].append(d_fake)
        if step % snapshot_every == 0 or step % jsd_every == 0 or step == steps:
            evaluate(step)
    res.seconds = time.perf_counter() - start
    res.G, res.D = G.cpu(), D.cpu()
    return res
