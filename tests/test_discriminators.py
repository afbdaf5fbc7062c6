"""Discriminators: logits of the right shape for any patch size, features, the paper's sizes."""
import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from srlib.errors import SrlibError
from srlib.models.discriminators import PatchDiscriminatorSN, SRGANDiscriminator, receptive_field

SIZE_BATCH = [(24, 1), (33, 3), (96, 2), (97, 1), (128, 2)]


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def small_srgan_d():
    return SRGANDiscriminator(channels=8, dense=32).eval()


@pytest.fixture(scope="module")
def small_patch_d():
    return PatchDiscriminatorSN(channels=8).eval()


@pytest.fixture(scope="module")
def small_patch_d_no_skip():
    return PatchDiscriminatorSN(channels=8, skip=False).eval()


@pytest.mark.parametrize("size, batch", SIZE_BATCH)
def test_srgan_d_gives_one_logit_per_image(small_srgan_d, size, batch):
    with torch.no_grad():
        out = small_srgan_d(torch.rand(batch, 3, size, size))
    assert out.shape == (batch, 1)


def test_srgan_d_takes_non_square_input(small_srgan_d):
    with torch.no_grad():
        assert small_srgan_d(torch.rand(2, 3, 40, 71)).shape == (2, 1)


def test_srgan_d_outputs_unbounded_logits(small_srgan_d):
    assert isinstance(list(small_srgan_d.modules())[-1], nn.Linear)
    assert not any(isinstance(m, nn.Sigmoid) for m in small_srgan_d.modules())
    d = SRGANDiscriminator(channels=8, dense=32).eval()
    with torch.no_grad():
        d.head[-1].bias.fill_(5.0)
        assert d(torch.rand(2, 3, 32, 32)).abs().max() > 1


def test_srgan_d_features_one_per_conv_block(small_srgan_d):
    with torch.no_grad():
        feats = small_srgan_d.features(torch.rand(2, 3, 96, 96))
    convs = [m for m in small_srgan_d.modules() if isinstance(m, nn.Conv2d)]
    assert len(feats) == len(convs) == 8
    assert all(isinstance(f, torch.Tensor) for f in feats)
    assert [f.shape[1] for f in feats] == [8, 8, 16, 16, 32, 32, 64, 64]
    assert [f.shape[-1] for f in feats] == [96, 48, 48, 24, 24, 12, 12, 6]


def test_srgan_d_at_96_is_the_papers_network():
    d = SRGANDiscriminator(channels=64, input_size=96, dense=1024)
    layers = [(3, 64, 1), (64, 64, 2), (64, 128, 1), (128, 128, 2),
              (128, 256, 1), (256, 256, 2), (256, 512, 1), (512, 512, 2)]
    convs = sum(cin * cout * 3 * 3 + cout for cin, cout, _ in layers)
    bns = sum(2 * cout for _, cout, _ in layers[1:])
    dense = (512 * 6 * 6 * 1024 + 1024) + (1024 * 1 + 1)
    assert n_params(d) == convs + bns + dense == 23_565_505
    got = [(m.in_channels, m.out_channels, m.stride[0]) for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert got == layers
    assert all(m.kernel_size == (3, 3) for m in d.modules() if isinstance(m, nn.Conv2d))
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 7
    assert all(m.negative_slope == 0.2 for m in d.modules() if isinstance(m, nn.LeakyReLU))
    with torch.no_grad():
        assert d.body(torch.rand(1, 3, 96, 96)).shape == (1, 512, 6, 6)  # the pool has nothing to do


def test_srgan_d_grid_follows_input_size():
    assert SRGANDiscriminator(channels=4, input_size=128, dense=8).head[2].in_features == 32 * 8 * 8
    assert SRGANDiscriminator(channels=4, input_size=100, dense=8).head[2].in_features == 32 * 7 * 7


def test_srgan_d_rejects_bad_settings():
    with pytest.raises(SrlibError, match="channels"):
        SRGANDiscriminator(channels=0)


def test_receptive_field_of_srgan_d_by_hand():
    # r += (k-1)*j, j *= s over eight 3x3 convs with strides 1,2,1,2,1,2,1,2
    r, j = 1, 1
    expected = []
    for s in [1, 2] * 4:
        r += 2 * j
        j *= s
        expected.append(r)
    assert expected == [3, 5, 9, 13, 21, 29, 45, 61]
    d = SRGANDiscriminator(channels=4, dense=8)
    assert receptive_field(d.body) == 61
    assert receptive_field([(3, s) for s in [1, 2] * 4]) == 61
    assert receptive_field(list(d.body)[:3]) == 9


def test_receptive_field_counts_dilation_and_pooling():
    assert receptive_field([nn.Conv2d(1, 1, 3, dilation=2)]) == 5
    assert receptive_field([nn.Conv2d(1, 1, 3), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3)]) == 8
    with pytest.raises(SrlibError):
        receptive_field(nn.Linear(2, 2))
    with pytest.raises(SrlibError):
        receptive_field([3, 1])


@pytest.mark.parametrize("size, batch, skip", [(s, b, True) for s, b in SIZE_BATCH] + [(33, 2, False), (97, 1, False)])
def test_patch_d_gives_a_logit_per_pixel(small_patch_d, small_patch_d_no_skip, size, batch, skip):
    d = small_patch_d if skip else small_patch_d_no_skip
    with torch.no_grad():
        assert d(torch.rand(batch, 3, size, size)).shape == (batch, 1, size, size)


def test_patch_d_takes_odd_non_square_input(small_patch_d):
    with torch.no_grad():
        assert small_patch_d(torch.rand(1, 3, 33, 50)).shape == (1, 1, 33, 50)
    with pytest.raises(SrlibError, match="8x8"):
        small_patch_d(torch.rand(1, 3, 7, 32))


def test_patch_d_is_spectrally_normalised_like_real_esrgan():
    d = PatchDiscriminatorSN(channels=8)
    convs = [getattr(d, f"conv{i}") for i in range(10)]
    assert [parametrize.is_parametrized(c, "weight") for c in convs] == [False] + [True] * 8 + [False]
    assert convs[-1].out_channels == 1
    assert not any(isinstance(m, (nn.Sigmoid, nn.BatchNorm2d)) for m in d.modules())


def test_patch_d_features_one_per_conv_block(small_patch_d):
    with torch.no_grad():
        feats = small_patch_d.features(torch.rand(2, 3, 33, 33))
    convs = [m for m in small_patch_d.modules() if isinstance(m, nn.Conv2d)]
    assert len(feats) == len(convs) - 1 == 9
    assert [f.shape[-1] for f in feats] == [33, 16, 8, 4, 8, 16, 33, 33, 33]


def test_patch_d_full_size_parameter_count():
    c = 64
    convs = (3 * c * 9 + c) + (c * 2 * c * 16) + (2 * c * 4 * c * 16) + (4 * c * 8 * c * 16) \
        + (8 * c * 4 * c * 9) + (4 * c * 2 * c * 9) + (2 * c * c * 9) + 2 * (c * c * 9) + (c * 9 + 1)
    assert n_params(PatchDiscriminatorSN()) == convs


def test_discriminators_backpropagate():
    for d in (SRGANDiscriminator(channels=4, dense=8), PatchDiscriminatorSN(channels=4)):
        x = torch.rand(2, 3, 32, 32, requires_grad=True)
        d(x).mean().backward()
        assert x.grad is not None and x.grad.abs().sum() > 0
