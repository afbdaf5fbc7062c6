"""srlib.losses against values computed by hand, finite differences and torchvision's own VGG19."""
import math

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from srlib.errors import SrlibError
from srlib.losses import (
    ADVERSARIAL, PerceptualLoss, charbonnier_loss, feature_matching_loss, get_adversarial, gradient_penalty,
    hinge_d_loss, hinge_g_loss, l1_loss, lsgan_d_loss, lsgan_g_loss, minimax_d_loss, minimax_g_loss, mse_loss,
    nonsaturating_g_loss, relativistic_d_loss, relativistic_g_loss, seed_d_loss, seed_g_loss, tv_loss,
    vgg19_available, vgg19_weights_path, wgan_d_loss, wgan_g_loss,
)

REAL, FAKE = [2.0, -1.0], [0.5, -3.0]


def sig(x):
    return 1 / (1 + math.exp(-x))


def mean(xs):
    return sum(xs) / len(xs)


def t(values, dtype=torch.float64, grad=False):
    return torch.tensor(values, dtype=dtype, requires_grad=grad)


def close(tensor, value, tol=1e-12):
    assert tensor.dim() == 0
    assert abs(tensor.item() - value) <= tol * max(1.0, abs(value)), (tensor.item(), value)


# --- adversarial losses: hand values -------------------------------------------------------------

def test_seed_and_minimax_bce_losses_by_hand():
    d = -mean([math.log(sig(r)) for r in REAL]) - mean([math.log(1 - sig(f)) for f in FAKE])
    close(seed_d_loss(t(REAL), t(FAKE)), d)
    close(minimax_d_loss(t(REAL), t(FAKE)), d)
    close(seed_g_loss(t(FAKE)), -mean([math.log(sig(f)) for f in FAKE]))
    close(nonsaturating_g_loss(t(FAKE)), -mean([math.log(sig(f)) for f in FAKE]))
    close(minimax_g_loss(t(FAKE)), mean([math.log(1 - sig(f)) for f in FAKE]))


def test_lsgan_hinge_wgan_by_hand():
    close(lsgan_d_loss(t(REAL), t(FAKE)), 0.5 * mean([(r - 1) ** 2 for r in REAL]) + 0.5 * mean([f**2 for f in FAKE]))
    close(lsgan_g_loss(t(FAKE)), 0.5 * mean([(f - 1) ** 2 for f in FAKE]))
    # relu(1 - 2) = 0, relu(1 + 1) = 2; relu(1 + 0.5) = 1.5, relu(1 - 3) = 0
    close(hinge_d_loss(t(REAL), t(FAKE)), (0 + 2) / 2 + (1.5 + 0) / 2)
    close(hinge_g_loss(t(FAKE)), 1.25)
    close(wgan_d_loss(t(REAL), t(FAKE)), -1.25 - 0.5)
    close(wgan_g_loss(t(FAKE)), 1.25)


def test_relativistic_losses_by_hand():
    mr, mf = mean(REAL), mean(FAKE)
    d = 0.5 * (mean([-math.log(sig(r - mf)) for r in REAL]) + mean([-math.log(1 - sig(f - mr)) for f in FAKE]))
    g = 0.5 * (mean([-math.log(1 - sig(r - mf)) for r in REAL]) + mean([-math.log(sig(f - mr)) for f in FAKE]))
    close(relativistic_d_loss(t(REAL), t(FAKE)), d)
    close(relativistic_d_loss(t(REAL), t(FAKE), detach_means=True), d)
    close(relativistic_g_loss(t(REAL), t(FAKE)), g)


def test_relativistic_gradients_with_and_without_detached_means():
    n, mr, mf = len(FAKE), mean(REAL), mean(FAKE)
    fake = t(FAKE, grad=True)
    relativistic_d_loss(t(REAL), fake).backward()
    # ESRGAN: the real term reaches the fakes through mean(fake)
    want = [0.5 * (mean([sig(mf - r) for r in REAL]) / n + sig(f - mr) / n) for f in FAKE]
    assert torch.allclose(fake.grad, t(want), rtol=1e-12)
    fake = t(FAKE, grad=True)
    relativistic_d_loss(t(REAL), fake, detach_means=True).backward()
    # BasicSR: mean(fake) is a constant in the real term
    assert torch.allclose(fake.grad, t([0.5 * sig(f - mr) / n for f in FAKE]), rtol=1e-12)


def test_relativistic_symmetry_and_confident_discriminator():
    real, fake = torch.randn(8, 1, dtype=torch.float64), torch.randn(8, 1, dtype=torch.float64)
    torch.testing.assert_close(relativistic_g_loss(real, fake), relativistic_d_loss(fake, real), rtol=0, atol=1e-15)
    assert relativistic_d_loss(t([10.0, 12.0]), t([-10.0, -12.0])).item() < 1e-8
    assert relativistic_g_loss(t([10.0, 12.0]), t([-10.0, -12.0])).item() > 20


def test_losses_accept_patch_logits():
    real, fake = torch.randn(2, 1, 4, 4), torch.randn(2, 1, 4, 4)
    for pair in ADVERSARIAL.values():
        assert pair.d_loss(real, fake).dim() == 0 and pair.g_loss(real, fake).dim() == 0


# --- numerical stability -----------------------------------------------------------------------

def test_naive_log_sigmoid_overflows_where_the_losses_do_not():
    logit = torch.tensor([-100.0])
    assert torch.isinf(-torch.log(torch.sigmoid(logit))).all()  # the naive formula
    close(seed_g_loss(logit), 100.0, tol=1e-6)
    close(nonsaturating_g_loss(logit), 100.0, tol=1e-6)


@pytest.mark.parametrize("real,fake,want", [(100.0, -100.0, 0.0), (-100.0, 100.0, 200.0)])
def test_bce_losses_finite_at_extreme_logits(real, fake, want):
    r, f = torch.tensor([real], requires_grad=True), torch.tensor([fake], requires_grad=True)
    loss = seed_d_loss(r, f)
    loss.backward()
    close(loss, want, tol=1e-6)
    assert torch.isfinite(r.grad).all() and torch.isfinite(f.grad).all()
    close(minimax_g_loss(torch.tensor([100.0])), -100.0, tol=1e-6)  # log(1 - sigmoid(100)) = -100
    close(relativistic_d_loss(torch.tensor([-100.0, -100.0]), torch.tensor([100.0, 100.0])), 200.0, tol=1e-6)


def test_seed_g_loss_is_the_nonsaturating_loss():
    fake = torch.randn(16) * 5
    assert torch.equal(seed_g_loss(fake), nonsaturating_g_loss(fake))
    assert torch.equal(seed_d_loss(fake, -fake), minimax_d_loss(fake, -fake))


def test_minimax_gradient_vanishes_where_nonsaturating_does_not():
    f_mm, f_ns = torch.tensor([-20.0], requires_grad=True), torch.tensor([-20.0], requires_grad=True)
    minimax_g_loss(f_mm).backward()
    nonsaturating_g_loss(f_ns).backward()
    assert abs(f_mm.grad.item() - (-sig(-20.0))) < 1e-12  # d/dl log(1 - sigmoid(l)) = -sigmoid(l) ~ -2e-9
    assert abs(f_ns.grad.item() - (-1.0)) < 1e-6  # d/dl -log sigmoid(l) = -sigmoid(-l) ~ -1
    assert f_ns.grad.abs().item() > 1e8 * f_mm.grad.abs().item()


# --- gradient penalty ----------------------------------------------------------------------------

def _linear_critic(weight):
    d = nn.Sequential(nn.Flatten(), nn.Linear(weight.numel(), 1)).double()
    with torch.no_grad():
        d[1].weight.copy_(weight.reshape(1, -1))
    return d


def test_gradient_penalty_of_a_linear_critic_by_hand():
    torch.manual_seed(0)
    w = torch.randn(3 * 4 * 4, dtype=torch.float64)
    real, fake = torch.rand(5, 3, 4, 4, dtype=torch.float64), torch.rand(5, 3, 4, 4, dtype=torch.float64)
    norm = math.sqrt(sum(v * v for v in w.tolist()))
    close(gradient_penalty(_linear_critic(w), real, fake), 10 * (norm - 1) ** 2, tol=1e-10)
    close(gradient_penalty(_linear_critic(w), real, fake, weight=2.5), 2.5 * (norm - 1) ** 2, tol=1e-10)
    unit = _linear_critic(w / w.norm())  # exactly 1-Lipschitz
    assert gradient_penalty(unit, real, fake).item() < 1e-20


def test_gradient_penalty_of_per_pixel_logits_by_hand():
    d = nn.Conv2d(3, 1, 1).double()  # (N, 1, H, W) logits: summed per sample, each pixel contributes w
    real, fake = torch.rand(2, 3, 4, 5, dtype=torch.float64), torch.rand(2, 3, 4, 5, dtype=torch.float64)
    norm = math.sqrt(sum(v * v for v in d.weight.flatten().tolist()) * 4 * 5)
    close(gradient_penalty(d, real, fake), 10 * (norm - 1) ** 2, tol=1e-10)


def _tiny_critic():
    torch.manual_seed(1)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Tanh(), nn.Conv2d(4, 1, 3, stride=2),
                         nn.Softplus(), nn.Flatten(), nn.Linear(4, 1)).double()


def test_gradient_penalty_matches_finite_differences():
    d = _tiny_critic()
    real, fake = torch.rand(3, 3, 5, 5, dtype=torch.float64), torch.rand(3, 3, 5, 5, dtype=torch.float64)
    eps = torch.rand((3, 1, 1, 1), generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    x_hat = eps * real + (1 - eps) * fake
    h = 1e-6
    steps = (h * torch.eye(75, dtype=torch.float64)).reshape(75, 1, 3, 5, 5)  # one coordinate at a time
    with torch.no_grad():
        plus, minus = d((x_hat + steps).reshape(-1, 3, 5, 5)), d((x_hat - steps).reshape(-1, 3, 5, 5))
    grads = ((plus - minus) / (2 * h)).reshape(75, 3).T  # (sample, coordinate)
    want = 10 * ((grads.norm(dim=1) - 1) ** 2).mean().item()
    got = gradient_penalty(d, real, fake, generator=torch.Generator().manual_seed(7))
    close(got, want, tol=1e-7)
    other = gradient_penalty(d, real, fake, generator=torch.Generator().manual_seed(8))
    assert abs(other.item() - want) > 1e-6  # eps really is drawn from the generator


def test_gradient_penalty_backpropagates_into_the_critic():
    d = _tiny_critic()
    real, fake = torch.rand(2, 3, 5, 5, dtype=torch.float64), torch.rand(2, 3, 5, 5, dtype=torch.float64)
    gradient_penalty(d, real, fake).backward()
    for name, p in d.named_parameters():
        if name != "5.bias":  # the last bias shifts D but not its input gradient
            assert p.grad is not None and p.grad.abs().sum() > 0, name
    x = torch.rand(2, 3, 2, 2, dtype=torch.float64)

    def penalty_of(w):  # second-order path: d penalty / d w goes through grad_x D
        return gradient_penalty(lambda z: torch.tanh(F.conv2d(z, w)).sum((1, 2, 3)), x, x * 0.5,
                                generator=torch.Generator().manual_seed(2))

    assert torch.autograd.gradcheck(penalty_of, (torch.randn(2, 3, 1, 1, dtype=torch.float64, requires_grad=True),))


def test_gradient_penalty_shape_mismatch():
    with pytest.raises(SrlibError, match="one shape"):
        gradient_penalty(nn.Flatten(), torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 8, 8))


# --- registry ------------------------------------------------------------------------------------

def test_registry_has_every_loss_with_one_signature():
    assert set(ADVERSARIAL) == {"seed", "minimax", "nonsaturating", "lsgan", "hinge", "wgan-gp", "relativistic"}
    real, fake = t(REAL), t(FAKE)
    for name, pair in ADVERSARIAL.items():
        assert get_adversarial(name) is pair and pair.name == name
        same = pair.g_loss(real, fake).item() == pair.g_loss(real + 5, fake).item()
        assert same == (name != "relativistic"), name  # only the relativistic G loss reads real logits
    close(get_adversarial("minimax").g_loss(real, fake), minimax_g_loss(fake).item())
    close(get_adversarial("hinge").d_loss(real, fake), hinge_d_loss(real, fake).item())
    assert get_adversarial("WGAN_GP").penalty and not get_adversarial("lsgan").penalty


def test_unknown_adversarial_name():
    with pytest.raises(SrlibError, match="hinge") as err:
        get_adversarial("hnge")
    assert "Did you mean 'hinge'" in str(err.value) and "relativistic" in str(err.value)
    with pytest.raises(SrlibError, match="Known: seed, minimax"):
        get_adversarial("vanilla-ish-thing")


# --- content losses ------------------------------------------------------------------------------

def test_pixel_losses_by_hand():
    sr, hr = t([[0.0, 3.0], [1.0, -4.0]]), t([[0.0, 0.0], [1.0, 0.0]])
    close(l1_loss(sr, hr), 7 / 4)
    close(mse_loss(sr, hr), 25 / 4)
    close(charbonnier_loss(sr, hr, eps=0.5), (0.5 + math.sqrt(9.25) + 0.5 + math.sqrt(16.25)) / 4)
    close(charbonnier_loss(hr, hr), 1e-3)
    close(charbonnier_loss(hr, hr, eps=0.1), 0.1)


def test_tv_loss_by_hand():
    checker = (torch.arange(6).view(6, 1) + torch.arange(8).view(1, 8)) % 2
    close(tv_loss(checker.double().expand(2, 3, 6, 8)), 2.0)  # every neighbour differs by 1, both ways
    ramp = 0.1 * torch.arange(8, dtype=torch.float64).expand(1, 1, 6, 8)
    close(tv_loss(ramp), 0.1)
    close(tv_loss(torch.full((1, 3, 4, 4), 0.7)), 0.0)
    with pytest.raises(SrlibError, match="2x2"):
        tv_loss(torch.zeros(1, 3, 1, 5))


def test_feature_matching_by_hand_and_real_side_detached():
    fake = [t([1.0, 2.0], grad=True), t([[0.0, 0.0], [0.0, 4.0]], grad=True)]
    real = [t([0.0, 0.0], grad=True), t([[1.0, 1.0], [1.0, 1.0]], grad=True)]
    loss = feature_matching_loss(fake, real)
    close(loss, ((1 + 2) / 2 + (1 + 1 + 1 + 3) / 4) / 2)
    loss.backward()
    assert fake[0].grad is not None and all(r.grad is None for r in real)
    with pytest.raises(SrlibError, match="2 fake and 1 real"):
        feature_matching_loss(fake, real[:1])
    with pytest.raises(SrlibError):
        feature_matching_loss([], [])


@pytest.mark.parametrize("ours, torchs", [(l1_loss, F.l1_loss), (mse_loss, F.mse_loss)])
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_pixel_losses_match_torch_in_value_and_gradient(ours, torchs, layout):
    # srlib's fused forms keep the difference for the backward; gradients must be torch's to the last bit
    gen = torch.Generator().manual_seed(1)
    a, b = (torch.randn(3, 4, 7, 5, generator=gen).contiguous(memory_format=layout) for _ in range(2))
    a[0, 0, 0, 0] = b[0, 0, 0, 0]  # a zero difference: L1's subgradient there is 0 in both
    pairs = [(x.clone().requires_grad_(), y.clone().requires_grad_()) for x, y in [(a, b), (a, b)]]
    mine, theirs = ours(*pairs[0]), torchs(*pairs[1])
    assert mine.item() == pytest.approx(theirs.item(), rel=1e-6)
    mine.backward(torch.tensor(0.37))
    theirs.backward(torch.tensor(0.37))
    assert torch.equal(pairs[0][0].grad, pairs[1][0].grad) and torch.equal(pairs[0][1].grad, pairs[1][1].grad)
    assert pairs[0][0].grad[0, 0, 0, 0] == 0
    with torch.autocast("cpu", dtype=torch.bfloat16):  # bf16 inputs are measured in fp32, as autocast runs torch's
        assert ours(a.bfloat16(), b.bfloat16()).item() == torchs(a.bfloat16().float(), b.bfloat16().float()).item()
    x = a.double().requires_grad_()
    assert ours(x, b.double()).dtype == torch.float64
    grad, = torch.autograd.grad(ours(x, b.double()), x, create_graph=True)
    with pytest.raises(RuntimeError):  # not twice differentiable: an error, never a silently missing term
        grad.sum().backward()
    with pytest.warns(UserWarning):  # broadcasting shapes go to torch's own loss and its warning
        ours(a, b[:1, :1])


@pytest.mark.parametrize("loss", [l1_loss, mse_loss, charbonnier_loss,
                                  lambda a, b: feature_matching_loss([a, a * 2], [b, b])])
def test_content_losses_hand_channels_last_inputs_a_channels_last_gradient(loss):
    # a mean's backward returns NCHW whatever the input; layers behind a loss then run mixed layouts, slowly
    gen = torch.Generator().manual_seed(0)
    a, b = torch.rand(2, 8, 6, 5, generator=gen), torch.rand(2, 8, 6, 5, generator=gen)
    a_cl = a.contiguous(memory_format=torch.channels_last).requires_grad_()
    a_nchw = a.clone().requires_grad_()
    value_cl = loss(a_cl, b.contiguous(memory_format=torch.channels_last))
    value_nchw = loss(a_nchw, b)
    # autograd.grad, not .backward(): a leaf's .grad is copied into the leaf's layout, hiding the one that flows
    grad_cl, = torch.autograd.grad(value_cl, a_cl)
    grad_nchw, = torch.autograd.grad(value_nchw, a_nchw)
    assert grad_cl.is_contiguous(memory_format=torch.channels_last) and not grad_cl.is_contiguous()
    assert grad_nchw.is_contiguous()
    assert value_cl.item() == pytest.approx(value_nchw.item(), rel=1e-6)
    torch.testing.assert_close(grad_cl, grad_nchw)
    mixed = loss(a_cl, b)  # HR in the other layout: the same value
    assert mixed.item() == pytest.approx(value_nchw.item(), rel=1e-6)


# --- perceptual loss -----------------------------------------------------------------------------

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
EXECUTED = []


def _record_execution():
    EXECUTED.append(True)
    return {}


class Payload:
    """Unpickling this calls a function: what weights_only loading must refuse."""

    def __reduce__(self):
        return (_record_execution, ())


def _torchvision_features():
    """torchvision's own vgg19().features (built on meta, so the 400 MB classifier is never allocated)."""
    with torch.device("meta"):
        model = torchvision.models.vgg19()
    return model.features.to_empty(device="cpu")


@pytest.fixture(scope="module")
def vgg_state():
    """A random VGG19 state dict with torchvision's keys (He-scaled so activations stay O(1))."""
    gen = torch.Generator().manual_seed(0)
    state = {}
    for key, value in _torchvision_features().state_dict().items():
        fan_in = value[0].numel() if value.dim() > 1 else 1
        scale = math.sqrt(2 / fan_in) if value.dim() > 1 else 0.01
        state[f"features.{key}"] = torch.randn(value.shape, generator=gen) * scale
    state["classifier.6.bias"] = torch.zeros(1000)  # the file has a classifier too; the loss ignores it
    return state


@pytest.fixture(scope="module")
def vgg_home(tmp_path_factory, vgg_state):
    home = tmp_path_factory.mktemp("torch_home")
    (home / "hub" / "checkpoints").mkdir(parents=True)
    torch.save(vgg_state, home / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth")
    return home


def _use_torch_home(monkeypatch, home):
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # so an earlier torch.hub.set_dir cannot win; restored after
    assert torch.hub.get_dir() == str(home / "hub")


@pytest.fixture
def with_vgg(monkeypatch, vgg_home):
    _use_torch_home(monkeypatch, vgg_home)


@pytest.fixture(scope="module")
def reference(vgg_state):
    features = _torchvision_features()
    features.load_state_dict({k[len("features."):]: v for k, v in vgg_state.items() if k.startswith("features.")})
    return features.eval()


def test_weights_path_follows_torch_home(with_vgg, vgg_home):
    assert vgg19_weights_path() == vgg_home / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    assert vgg19_available()


def test_conv5_4_before_and_after_activation_match_torchvision(with_vgg, reference):
    assert isinstance(reference[34], nn.Conv2d) and reference[34].out_channels == 512
    assert isinstance(reference[35], nn.ReLU)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        before = reference[:35]((x - MEAN) / STD)
        after = reference[35:36](before.clone())
        esrgan, srgan = PerceptualLoss(), PerceptualLoss(before_activation=False)
        torch.testing.assert_close(esrgan.features(x), before)
        torch.testing.assert_close(srgan.features(x), after)
    assert (before < 0).any() and (after >= 0).all()
    assert len(esrgan.vgg) == 35 and len(srgan.vgg) == 36


@pytest.mark.parametrize("layer,index,channels", [("conv1_2", 2, 64), ("conv2_2", 7, 128), ("conv3_4", 16, 256),
                                                  ("conv4_4", 25, 512)])
def test_shallower_layers_match_torchvision(vgg_state, reference, layer, index, channels):
    assert isinstance(reference[index], nn.Conv2d) and reference[index].out_channels == channels
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        before = PerceptualLoss(layer, weights=vgg_state).features(x)
        after = PerceptualLoss(layer, before_activation=False, weights=vgg_state).features(x)
        torch.testing.assert_close(before, reference[:index + 1]((x - MEAN) / STD))
        torch.testing.assert_close(after, reference[:index + 2]((x - MEAN) / STD))


def test_loss_value_and_frozen_network(vgg_state, reference):
    gen = torch.Generator().manual_seed(5)
    sr = torch.rand(1, 3, 24, 24, generator=gen).requires_grad_(True)
    hr = torch.rand(1, 3, 24, 24, generator=gen)
    loss_fn = PerceptualLoss(criterion="mse", weights=vgg_state).train()
    assert not loss_fn.vgg.training
    assert all(not p.requires_grad for p in loss_fn.vgg.parameters())
    loss = loss_fn(sr, hr)
    with torch.no_grad():
        want = F.mse_loss(reference[:35]((sr - MEAN) / STD), reference[:35]((hr - MEAN) / STD))
    torch.testing.assert_close(loss.detach(), want)
    loss.backward()
    assert sr.grad is not None and sr.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss_fn.vgg.parameters())


def test_state_dict_can_be_passed_directly(monkeypatch, tmp_path, vgg_state, reference):
    _use_torch_home(monkeypatch, tmp_path)  # nothing in the cache: the given weights are used
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        got = PerceptualLoss("conv2_2", weights=vgg_state).features(x)
        torch.testing.assert_close(got, reference[:8]((x - MEAN) / STD))


def test_missing_weights_name_the_path(monkeypatch, tmp_path):
    _use_torch_home(monkeypatch, tmp_path)
    expected = tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    assert not vgg19_available()
    with pytest.raises(SrlibError) as err:
        PerceptualLoss()
    message = str(err.value)
    assert str(expected) in message
    assert "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth" in message and "feature matching" in message
    with pytest.raises(SrlibError, match="elsewhere.pth"):
        PerceptualLoss(weights=tmp_path / "elsewhere.pth")


def test_weights_file_with_code_is_refused(monkeypatch, tmp_path):
    _use_torch_home(monkeypatch, tmp_path)
    path = tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    path.parent.mkdir(parents=True)
    torch.save({"features.0.weight": Payload()}, path)
    with pytest.raises(SrlibError, match="refused it .torch.load with weights_only=True") as err:
        PerceptualLoss()
    assert str(path) in str(err.value) and "_record_execution" in str(err.value)
    assert not EXECUTED
    path.write_bytes(b"not a weights file")
    with pytest.raises(SrlibError, match="could not be read"):
        PerceptualLoss()


def test_wrong_state_dict_and_bad_arguments(with_vgg, vgg_state):
    with pytest.raises(SrlibError, match="features.0.weight"):
        PerceptualLoss("conv1_2", weights={"conv.weight": torch.zeros(1)})
    with pytest.raises(SrlibError, match="conv5_4"):
        PerceptualLoss("conv5_5")
    with pytest.raises(SrlibError, match="l1"):
        PerceptualLoss(criterion="huber")
    bad = dict(vgg_state, **{"features.0.weight": torch.zeros(64, 1, 3, 3)})
    with pytest.raises(SrlibError, match="do not fit"):
        PerceptualLoss("conv1_2", weights=bad)
