"""The seed blog's networks: the faithful ones fail as the blog's would, the fixed ones work."""
import hashlib
import sys
import types
from pathlib import Path

import pytest
import torch
from torch import nn

from srlib.errors import SrlibError
from srlib.models.blog import SEED_LISTING, BlogDiscriminator, BlogGenerator
from srlib.models.generators import ResidualBlock

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "000_0f207f0e2684d0d4.txt"


def test_seed_listing_has_the_key_lines():
    for line in ("real_imgs = next(iter(train_loader))", "nn.Sigmoid()", "criterion = nn.BCELoss()",
                 "ResidualBlock(64, 64)", "nn.PixelShuffle(scale_factor)", "nn.Tanh()",
                 "g_loss = criterion(discriminator(fake_imgs), real_labels)", "# 定义生成器网络"):
        assert line in SEED_LISTING
    assert SEED_LISTING.startswith("import torch\n") and SEED_LISTING.endswith("g_optimizer.step()\n")


def test_seed_listing_is_valid_python_that_cannot_run(monkeypatch):
    code = compile(SEED_LISTING, "seed_listing", "exec")
    for name, attr in (("torchvision", None), ("torchvision.models", "vgg19"), ("torchvision.transforms", "Resize")):
        stub = types.ModuleType(name)  # the listing imports these but never uses them; importing them is slow
        if attr:
            setattr(stub, attr, object())
        monkeypatch.setitem(sys.modules, name, stub)
    with pytest.raises(NameError, match="ResidualBlock"):
        exec(code, {})


def test_seed_listing_is_verbatim():
    """Byte for byte, trailing spaces included (an editor that strips them breaks this)."""
    digest = hashlib.sha256(SEED_LISTING.encode("utf-8")).hexdigest()
    assert digest == "113502302f675719db08ad283b26c94d4fbdad4ea84e0a3253ef17fa610006cb"
    if REFERENCE.is_file():
        assert f"```python\n{SEED_LISTING}```" in REFERENCE.read_text(encoding="utf-8")


def test_faithful_generator_is_the_blogs_stack():
    g = BlogGenerator(faithful=True)
    kinds = [type(m) for m in g.net]
    assert kinds == [ResidualBlock] * 4 + [nn.Conv2d, nn.PixelShuffle, nn.Conv2d, nn.Tanh]
    assert (g.net[4].in_channels, g.net[4].out_channels) == (64, 64 * 16)
    assert (g.net[6].in_channels, g.net[6].out_channels) == (64, 3)


def test_faithful_generator_fails_on_rgb():
    g = BlogGenerator(faithful=True)
    with pytest.raises(RuntimeError, match="channels"):
        g(torch.rand(1, 3, 8, 8))
    with torch.no_grad():  # only a 64-channel input gets through, into Tanh's [-1, 1]
        out = g.eval()(torch.rand(1, 64, 8, 8))
    assert out.shape == (1, 3, 32, 32) and out.abs().max() <= 1


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("hw", [(8, 8), (7, 11)])
def test_fixed_generator_upscales_rgb(scale, hw):
    g = BlogGenerator(scale=scale, channels=16).eval()
    with torch.no_grad():
        out = g(torch.rand(2, 3, *hw))
    assert out.shape == (2, 3, scale * hw[0], scale * hw[1])


def test_fixed_generator_has_no_tanh_limit():
    g = BlogGenerator(channels=16).eval()
    assert not any(isinstance(m, nn.Tanh) for m in g.modules())
    with torch.no_grad():
        g.tail[-1].bias.fill_(3.0)
        assert g(torch.rand(1, 3, 8, 8)).min() > 1


def test_fixed_generator_adds_head_and_global_skip():
    g = BlogGenerator(channels=16, blocks=4)
    assert (g.head.in_channels, g.head.out_channels) == (3, 16)
    assert len(g.body) == 4
    with torch.no_grad():  # with a zero body, the skip carries the head's features through unchanged
        for block in g.body:
            block.body[-1].weight.zero_()
            block.body[-1].bias.zero_()
        x = torch.rand(1, 3, 8, 8)
        assert torch.allclose(g.eval()(x), g.tail(2 * g.head(x)), atol=1e-5)


def test_generator_rejects_bad_scale():
    with pytest.raises(SrlibError, match="scale"):
        BlogGenerator(scale=0)


SIZES = [24, 33, 96, 97, 128]


@pytest.fixture(scope="module")
def small_faithful_d():
    return BlogDiscriminator(faithful=True, channels=8).eval()


@pytest.fixture(scope="module")
def small_fixed_d():
    return BlogDiscriminator(channels=8).eval()


@pytest.mark.parametrize("size, batch", [(24, 1), (33, 2), (96, 2), (97, 1), (128, 2)])
def test_faithful_discriminator_gives_probabilities(small_faithful_d, size, batch):
    d = small_faithful_d
    with torch.no_grad():
        out = d(torch.rand(batch, 3, size, size))
    assert out.shape == (batch, 1, 1, 1)
    assert ((out > 0) & (out < 1)).all()
    assert isinstance(d.net[-1], nn.Sigmoid)


@pytest.mark.parametrize("size", SIZES)
def test_fixed_discriminator_gives_logits(small_fixed_d, size):
    with torch.no_grad():
        out = small_fixed_d(torch.rand(2, 3, size, size))
    assert out.shape == (2, 1, 1, 1)
    assert not any(isinstance(m, nn.Sigmoid) for m in small_fixed_d.modules())
    assert isinstance(small_fixed_d.net[-1], nn.Conv2d)
    loss = nn.BCEWithLogitsLoss()(out, torch.ones_like(out))
    assert torch.isfinite(loss)
    with pytest.raises(ValueError):  # labels shaped (N, 1) do not fit (N, 1, 1, 1) logits
        nn.BCEWithLogitsLoss()(out, torch.ones(2, 1))


def test_fixed_discriminator_logits_are_unbounded():
    d = BlogDiscriminator(channels=8).eval()
    with torch.no_grad():
        d.net[-1].bias.fill_(5.0)
        assert d(torch.rand(2, 3, 24, 24)).min() > 1


def test_full_size_discriminators_run():
    x = torch.rand(2, 3, 33, 33)
    with torch.no_grad():
        probs = BlogDiscriminator(faithful=True).eval()(x)
        logits = BlogDiscriminator().eval()(x)
    assert probs.shape == logits.shape == (2, 1, 1, 1)
    assert ((probs > 0) & (probs < 1)).all()


def test_discriminators_share_the_blogs_body():
    faithful, fixed = BlogDiscriminator(faithful=True), BlogDiscriminator()
    assert [type(m) for m in faithful.net][:-1] == [type(m) for m in fixed.net]
    convs = [(m.in_channels, m.out_channels, m.stride[0]) for m in fixed.modules() if isinstance(m, nn.Conv2d)]
    assert convs == [(3, 64, 1), (64, 64, 2), (64, 128, 1), (128, 128, 2), (128, 256, 1), (256, 256, 2),
                     (256, 1, 1)]
    fixed.load_state_dict(faithful.state_dict())  # same parameters, so weights move between them


def test_discriminator_features_one_per_conv_block(small_fixed_d):
    with torch.no_grad():
        feats = small_fixed_d.features(torch.rand(2, 3, 33, 33))
    assert len(feats) == 6
    assert [f.shape[1] for f in feats] == [8, 8, 16, 16, 32, 32]
    assert [f.shape[-1] for f in feats] == [33, 17, 17, 9, 9, 5]
