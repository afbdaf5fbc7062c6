import pytest
import torch
from torch import nn

from srlib.errors import SrlibError
from srlib.models import (
    GENERATORS, PAPER_PARAMETERS, RRDBNet, SRResNet, SubPixelUpsample, build_generator, count_macs,
    count_parameters, icnr_,
)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("hw", [(7, 9), (12, 12), (5, 16)])
def test_output_shapes(scale, hw):
    x = torch.rand(2, 3, *hw)
    for model in (SRResNet(scale, 8, 1), SRResNet(scale, 8, 1, bn=False, act="relu", image_skip="bicubic", icnr=True),
                  SRResNet(scale, 8, 1, bn=False, act="relu", upsampler="lr", icnr=True), RRDBNet(scale, 8, 1, 4)):
        assert model.eval()(x).shape == (2, 3, scale * hw[0], scale * hw[1])


def test_paper_parameter_counts():
    # SRResNet: 9x9 head (15,552 + 64) + PReLU 1; 16 blocks of 2 x (36,864 + 64) conv + 2 x 128 BN + 1 PReLU;
    # body conv + BN (36,928 + 128); two upsampling stages (147,456 + 256 + 1 PReLU); 9x9 tail (15,552 + 3)
    hand = (15_552 + 64 + 1) + 16 * (2 * 36_928 + 2 * 128 + 1) + (36_928 + 128) + 2 * (147_456 + 256 + 1) + 15_555
    assert hand == PAPER_PARAMETERS["srresnet"] == count_parameters(build_generator("srresnet", 4))
    assert count_parameters(build_generator("rrdbnet", 4)) == PAPER_PARAMETERS["rrdbnet"] == 16_697_987


def test_presets_build_and_unknown_names_get_a_hint():
    for name in GENERATORS:
        assert isinstance(build_generator(name, 4), nn.Module)
    with pytest.raises(SrlibError, match="Did you mean srresnet"):
        build_generator("srresnett")


def test_bad_scale_is_a_clear_error():
    with pytest.raises(SrlibError, match="scale must be"):
        SRResNet(5)


def test_icnr_makes_the_subpixel_kernels_equal_and_removes_the_checkerboard():
    torch.manual_seed(0)
    up = SubPixelUpsample(4, 2, act=None, icnr=True)
    w = up[0].weight
    assert torch.equal(w[0], w[1]) and torch.equal(w[0], w[3]) and not torch.equal(w[0], w[4])
    # with ICNR a constant input gives a constant 2x2 block per pixel: nearest-neighbour, no checkerboard
    out = up(torch.ones(1, 4, 3, 3))
    assert torch.allclose(out[..., 0::2, 0::2], out[..., 1::2, 1::2])
    plain = SubPixelUpsample(4, 2, act=None, icnr=False)(torch.ones(1, 4, 3, 3))
    assert not torch.allclose(plain[..., 0::2, 0::2], plain[..., 1::2, 1::2])
    with pytest.raises(SrlibError):
        icnr_(torch.empty(6, 4, 3, 3), 2)


def test_lr_space_upsampler_is_one_conv_to_3r2_channels_and_one_shuffle():
    model = SRResNet(4, 8, 2, bn=False, act="relu", upsampler="lr")
    convs = [m for m in model.upsample if isinstance(m, nn.Conv2d)]
    shuffles = [m for m in model.upsample if isinstance(m, nn.PixelShuffle)]
    assert len(convs) == 1 and convs[0].out_channels == 3 * 16 and [m.upscale_factor for m in shuffles] == [4]
    assert isinstance(model.tail, nn.Identity)
    # every conv runs on LR pixels: the MACs are those of the same convs at the LR size
    lr_macs = sum(m.weight[0].numel() * m.out_channels * 10 * 10 for m in model.modules() if isinstance(m, nn.Conv2d))
    assert count_macs(model, (1, 3, 10, 10)) == lr_macs
    with pytest.raises(SrlibError, match="upsampler must be"):
        SRResNet(4, upsampler="hr")
    skip = SRResNet(4, 8, 2, bn=False, act="relu", upsampler="lr", image_skip="bicubic")
    assert "skip_kernel" not in skip.state_dict() and skip.skip_kernel.shape == (48, 25)  # 2-D (DDP)


@pytest.mark.parametrize("scale", [2, 3, 4, 8])
@pytest.mark.parametrize("mode", ["bicubic", "bilinear"])
@pytest.mark.parametrize("hw", [(1, 1), (2, 3), (9, 11)])
def test_interpolation_phases_then_one_shuffle_is_interpolate(scale, mode, hw):
    """The LR-space network adds its image skip before its shuffle, as a 5x5 conv: the same numbers as F.interpolate."""
    from srlib.models.upsample import interpolation_kernel, interpolation_phases

    x = torch.rand(2, 3, *hw)
    want = torch.nn.functional.interpolate(x, scale_factor=scale, mode=mode, align_corners=False)
    got = torch.nn.functional.pixel_shuffle(interpolation_phases(x, interpolation_kernel(scale, mode)), scale)
    assert torch.allclose(got, want, atol=2e-6), (got - want).abs().max()


@pytest.mark.parametrize("upsampler", ["subpixel", "lr"])
def test_image_skip_starts_at_bicubic(upsampler):
    model = SRResNet(4, 8, 1, bn=False, act="relu", image_skip="bicubic", upsampler=upsampler)
    last = model.upsample[0] if upsampler == "lr" else model.tail
    for p in last.parameters():
        nn.init.zeros_(p)
    x = torch.rand(1, 3, 6, 6)
    want = torch.nn.functional.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)
    assert torch.allclose(model(x), want, atol=1e-6)


def test_count_macs_by_hand():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert count_macs(conv, (1, 3, 10, 10)) == 10 * 10 * 8 * 3 * 9
    lin = nn.Sequential(nn.Flatten(), nn.Linear(12, 5))
    assert count_macs(lin, (2, 3, 2, 2)) == 2 * 5 * 12


def test_weights_roundtrip_and_refusals(tmp_path):
    from srlib.models import load_generator, save_generator

    torch.manual_seed(0)
    model = build_generator("srresnet-cpu", 4)
    path = save_generator(model, tmp_path / "g.pt", "srresnet-cpu", 4, psnr=30.1)
    loaded, meta = load_generator(path)
    assert meta == {"psnr": 30.1}
    x = torch.rand(1, 3, 8, 8)
    assert torch.equal(loaded(x), model.eval()(x))
    assert not list(tmp_path.glob(".*tmp"))
    with pytest.raises(SrlibError, match="x4 model, but scale 2"):
        load_generator(path, scale=2)
    with pytest.raises(SrlibError, match="no weights"):
        load_generator(tmp_path / "missing.pt")


class Evil:
    def __reduce__(self):
        return (print, ("this would run code",))


def test_a_pickle_that_carries_code_is_refused(tmp_path):
    from srlib.models import load_generator

    torch.save({"preset": "srresnet-cpu", "scale": 4, "state_dict": {}, "x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(SrlibError, match="refusing to load"):
        load_generator(tmp_path / "evil.pt")

