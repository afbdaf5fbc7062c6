"""The toy GAN's theory functions against hand-computed values, and its training against the theory."""
import math

import numpy as np
import pytest
import torch

from srlib.errors import SrlibError
from srlib.losses import ADVERSARIAL
from srlib.toygan import (
    LOG2,
    LOG4,
    d_on_grid,
    fit_discriminator,
    gaussian,
    grid,
    histogram_density,
    integrate,
    jsd,
    jsd_from_samples,
    kde,
    kl,
    make_discriminator,
    mixture,
    mode_coverage,
    modes_covered,
    optimal_discriminator,
    train_toy_gan,
    value_function,
)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks run fastest (and repeat exactly) on one thread."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# --- densities ----------------------------------------------------------------------------------

def test_gaussian_pdf_by_hand():
    assert gaussian(0, 1).pdf(0.0) == pytest.approx(1 / math.sqrt(2 * math.pi))
    assert gaussian(2, 0.5).pdf(2.5) == pytest.approx(math.exp(-0.5) / (0.5 * math.sqrt(2 * math.pi)))


def test_mixture_integrates_to_one_and_samples_match():
    m = mixture([-3, 1, 4], [0.5, 1.0, 0.3], [0.2, 0.5, 0.3])
    x = grid(-10, 10, 4001)
    assert integrate(m.pdf(x), x) == pytest.approx(1, abs=1e-9)
    assert m.weights == pytest.approx((0.2, 0.5, 0.3))
    s = m.sample(50_000, seed=1).numpy().ravel()
    assert s.mean() == pytest.approx(m.mean, abs=0.03)
    assert s.std() == pytest.approx(m.std, abs=0.03)
    assert torch.equal(m.sample(10, seed=3), m.sample(10, seed=3))
    assert not torch.equal(m.sample(10, seed=3), m.sample(10, seed=4))


def test_mixture_rejects_bad_arguments():
    with pytest.raises(SrlibError):
        mixture([0, 1], [1, 1, 1])
    with pytest.raises(SrlibError):
        mixture([0], [0.0])


def test_histogram_and_kde_estimate_the_density():
    g = gaussian(0.5, 1.0)
    s = g.sample(40_000, seed=0)
    centres, dens = histogram_density(s, np.linspace(-3, 4, 36))
    assert np.abs(dens - g.pdf(centres)).max() < 0.03
    x = grid(-3, 4, 141)
    assert np.abs(kde(s, x) - g.pdf(x)).max() < 0.02
    xx = grid(-8, 9, 1001)
    assert integrate(kde(s[:1000], xx, bandwidth=0.3), xx) == pytest.approx(1, abs=1e-6)


# --- the optimal discriminator, JSD and V --------------------------------------------------------

def test_optimal_discriminator_for_two_gaussians_by_hand():
    # p_data = N(0, 1), p_g = N(2, 1): log(p_data / p_g) = 2 - 2x, so D*(x) = sigmoid(2 - 2x).
    x = grid(-4, 6, 101)
    d = optimal_discriminator(gaussian(0, 1).pdf(x), gaussian(2, 1).pdf(x))
    assert np.allclose(d, 1 / (1 + np.exp(-(2 - 2 * x))), atol=1e-12)
    assert optimal_discriminator(gaussian(0, 1).pdf(1.0), gaussian(2, 1).pdf(1.0)) == pytest.approx(0.5)
    assert optimal_discriminator(gaussian(0, 1).pdf(0.0), gaussian(2, 1).pdf(0.0)) == pytest.approx(0.8807970779778823)
    assert optimal_discriminator(np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])).tolist() == [0.5, 1.0, 0.0]


def test_jsd_limits_and_symmetry():
    x = grid(-10, 10, 4001)
    p, q = gaussian(0, 1).pdf(x), gaussian(1.5, 0.7).pdf(x)
    assert jsd(p, p, x) == pytest.approx(0, abs=1e-12)
    assert 0 < jsd(p, q, x) < LOG2
    assert jsd(p, q, x) == pytest.approx(jsd(q, p, x), abs=1e-12)
    # disjoint supports: exactly log 2
    u1, u2 = ((x > -3) & (x < -1)).astype(float), ((x > 1) & (x < 3)).astype(float)
    assert jsd(u1, u2, x) == pytest.approx(LOG2, abs=1e-9)
    # far apart Gaussians: log 2 to many digits
    assert jsd(gaussian(-6, 0.5).pdf(x), gaussian(6, 0.5).pdf(x), x) == pytest.approx(LOG2, abs=1e-9)
    assert kl(u1, u2, x) == math.inf


def test_jsd_of_two_gaussians_matches_monte_carlo():
    x = grid(-10, 10, 8001)
    p, q = gaussian(0, 1), gaussian(1, 1)
    s_p, s_q = p.sample(200_000, seed=0).double().numpy().ravel(), q.sample(200_000, seed=1).double().numpy().ravel()
    m = lambda t: 0.5 * (p.pdf(t) + q.pdf(t))  # noqa: E731
    mc = 0.5 * np.mean(np.log(p.pdf(s_p) / m(s_p))) + 0.5 * np.mean(np.log(q.pdf(s_q) / m(s_q)))
    assert jsd(p.pdf(x), q.pdf(x), x) == pytest.approx(mc, abs=3e-3)


@pytest.mark.parametrize("p, q", [(gaussian(0, 1), gaussian(2, 1)), (mixture([-2, 2], 0.5), gaussian(0, 1.5)),
                                  (gaussian(0, 1), gaussian(0, 1)), (gaussian(-5, 0.5), gaussian(5, 0.5))])
def test_value_at_optimal_d_is_minus_log4_plus_2jsd(p, q):
    x = grid(-12, 12, 6001)
    pd, pg = p.pdf(x), q.pdf(x)
    d_star = optimal_discriminator(pd, pg)
    v_star = value_function(d_star, pd, pg, x)
    assert v_star == pytest.approx(-LOG4 + 2 * jsd(pd, pg, x), abs=1e-9)
    # D* maximises V: any other D does worse
    for other in (np.full_like(x, 0.5), np.clip(d_star + 0.05, 0, 1), 1 / (1 + np.exp(-x))):
        assert value_function(other, pd, pg, x) < v_star + 1e-12


def test_mode_coverage():
    s = np.array([-4.1, -3.9, 0.2, 0.1, -0.3, 4.0, 10.0, 2.0])
    assert mode_coverage(s, [-4, 0, 4], 0.5).tolist() == [0.25, 0.375, 0.125]
    assert modes_covered(s, [-4, 0, 4], 0.5, min_share=0.2) == 2


def test_jsd_from_samples():
    t = mixture([-6, 0, 6], 0.25)
    assert jsd_from_samples(t, t.sample(4000, seed=0)) < 0.01  # the floor of the estimate
    one = jsd_from_samples(t, gaussian(0, 0.25).sample(4000, seed=0))
    exact = jsd(t.pdf(grid(-10, 10, 4001)), gaussian(0, 0.25).pdf(grid(-10, 10, 4001)), grid(-10, 10, 4001))
    assert one == pytest.approx(exact, abs=0.01)
    assert math.isnan(jsd_from_samples(t, np.array([0.0, np.nan])))


# --- training -------------------------------------------------------------------------------------

def test_trained_discriminator_approximates_d_star():
    p_data, p_g = gaussian(-1, 1), gaussian(1, 1)  # D*(x) = sigmoid(-2x)
    real, fake = p_data.sample(3000, seed=0), p_g.sample(3000, seed=1)
    D, hist = fit_discriminator(real, fake, D=make_discriminator(32, 2, seed=0), steps=300, lr=1e-2)
    x = grid(-2.5, 2.5, 101)
    err = np.abs(d_on_grid(D, x) - 1 / (1 + np.exp(2 * x))).max()
    assert err < 0.05, err
    assert hist[-1] < hist[0]
    # -loss estimates V(D, G), and V(D*, G) = -log 4 + 2 JSD
    xx = grid(-10, 10, 4001)
    assert -hist[-1] == pytest.approx(-LOG4 + 2 * jsd(p_data.pdf(xx), p_g.pdf(xx), xx), abs=0.03)


def test_untrained_discriminator_is_far_from_d_star():
    """The check above can fail: a D that has not been trained is far from D*."""
    D = make_discriminator(32, 2, seed=0)
    x = grid(-2.5, 2.5, 101)
    assert np.abs(d_on_grid(D, x) - 1 / (1 + np.exp(2 * x))).max() > 0.2


def test_toy_gan_learns_a_gaussian_and_repeats():
    target = gaussian(2.0, 0.5)
    kw = dict(batch=128, lr_g=3e-3, lr_d=3e-3, hidden=16, seed=0)
    r = train_toy_gan(target, steps=300, jsd_every=100, snapshot_every=150, **kw)
    assert r.jsd[0] > 0.3 and r.final_jsd < 0.05, r.jsd
    assert sorted(r.snapshots) == [0, 150, 300] and r.jsd_steps == [0, 100, 200, 300]
    assert len(r.history["d_loss"]) == 300 and r.loss == "nonsaturating"
    s = r.sample(4000).numpy().ravel()
    assert s.mean() == pytest.approx(2.0, abs=0.2) and s.std() == pytest.approx(0.5, abs=0.15)
    r2 = train_toy_gan(target, steps=20, **kw)
    assert r2.history["g_loss"] == r.history["g_loss"][:20]  # seeded: the same numbers again


@pytest.mark.parametrize("loss", sorted(ADVERSARIAL))
def test_toy_gan_runs_with_every_srlib_loss(loss):
    r = train_toy_gan(gaussian(0, 1), loss=loss, steps=5, batch=32, hidden=8, jsd_every=5)
    assert r.loss == loss and len(r.jsd) == 2
    assert all(math.isfinite(v) for v in r.history["d_loss"] + r.history["g_loss"])


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(SrlibError, match="unknown adversarial loss"):
        train_toy_gan(gaussian(0, 1), loss="minmax", steps=1)


def test_toy_gan_logs_d_of_real_and_fake_before_each_d_update():
    """history d_real / d_fake: mean sigmoid(D) on the D step's batches, the D(y) and D(G(z)) notebook 05 monitors."""
    target = gaussian(3.0, 0.5)
    r = train_toy_gan(target, steps=150, batch=64, hidden=16, lr_d=3e-3, jsd_every=150, seed=1)
    d_real, d_fake = np.array(r.history["d_real"]), np.array(r.history["d_fake"])
    assert len(d_real) == len(d_fake) == 150
    assert ((d_real > 0) & (d_real < 1) & (d_fake > 0) & (d_fake < 1)).all()
    # the very first value is the untrained D on the first batches: recompute it independently
    from srlib.toygan import make_discriminator as md, make_generator as mg
    G, D = mg(1, 16, 2, seed=1), md(16, 2, seed=2)
    gen = torch.Generator().manual_seed(3)
    real = target.sample(64, gen)
    with torch.no_grad():
        fake = G(torch.randn(64, 1, generator=gen))
        assert d_real[0] == pytest.approx(torch.sigmoid(D(real)).mean().item(), abs=1e-7)
        assert d_fake[0] == pytest.approx(torch.sigmoid(D(fake)).mean().item(), abs=1e-7)
    # G starts near 0, far from the target at 3: D learns to tell them apart early on
    assert d_real[10:60].mean() > d_fake[10:60].mean() + 0.05


def test_device_argument_gives_the_same_run_and_cpu_networks():
    kw = dict(steps=10, batch=32, hidden=8, jsd_every=10, seed=0)
    a = train_toy_gan(gaussian(0, 1), **kw)
    b = train_toy_gan(gaussian(0, 1), device=torch.device("cpu"), **kw)
    assert a.history == b.history
    assert next(a.G.parameters()).device.type == "cpu" and next(a.D.parameters()).device.type == "cpu"
    real, fake = gaussian(-1, 1).sample(200, seed=0), gaussian(1, 1).sample(200, seed=1)
    D, _ = fit_discriminator(real, fake, steps=3, device="auto")  # "auto": a GPU if there is one, else the CPU
    assert next(D.parameters()).device.type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_missing_gpu_is_a_clear_error():
    with pytest.raises(SrlibError, match="no CUDA GPU"):
        train_toy_gan(gaussian(0, 1), steps=1, device="cuda")
