import math

import numpy as np
import pytest
import torch
from torch import nn

from srlib.errors import SrlibError
from srlib.infer import (influence_map, receptive_radius, seam_map, split_axis, structural_radius, tiling_error,
                         upscale_array, upscale_tensor)
from srlib.models import RRDBNet, SRResNet, build_generator, load_course_model, receptive_field


def lr_image(h=40, w=52, seed=0):
    return np.random.default_rng(seed).random((h, w, 3)).astype(np.float32)


def random_model(name, seed=0):
    torch.manual_seed(seed)
    return build_generator(name, 4).eval()


@pytest.fixture(scope="module")
def course_model():
    return load_course_model("srresnet_x4-cpu", prefer_own=False)[0]


def analytic_radius(model) -> int:
    """Conv kernel radii counted by hand along the forward path, each in LR pixels (a conv at 2x counts half)."""
    if isinstance(model, SRResNet) and isinstance(model.tail, torch.nn.Identity):  # one LR-space upsampling conv
        return model.head[0].kernel_size[0] // 2 + 2 * len([b for b in model.body if hasattr(b, "body")]) + 1 + 1
    if isinstance(model, SRResNet):
        k = model.head[0].kernel_size[0] // 2
        lr_convs = k + 2 * len([b for b in model.body if hasattr(b, "body")]) + 1
        hr = [1 / f for f in np.cumprod(model.factors if hasattr(model, "factors") else [2, 2])]
        total = lr_convs + 1 + sum(hr[:-1]) + k * hr[-1]  # first upsampling conv at LR, the others at 2x, ..., tail
    else:
        assert isinstance(model, RRDBNet)
        lr_convs = 1 + 15 * len(model.body) + 1  # conv_first, 3 dense blocks x 5 chained convs per RRDB, conv_body
        hr = [1 / f for f in np.cumprod(model.factors)]
        total = lr_convs + sum(hr) + 2 * hr[-1]  # one conv after each upsampling, conv_hr, conv_last
    return math.ceil(total)


@pytest.mark.parametrize("name", ["srresnet-cpu", "srresnet-cpu-bn", "rrdbnet-cpu", "srresnet-tiny", "srresnet",
                                  "srresnet-course"])
def test_radius_matches_kernel_count(name):
    model = random_model(name)
    assert receptive_radius(model) == structural_radius(model) == analytic_radius(model)


def test_radius_of_a_plain_conv_stack_is_half_the_receptive_field():
    stack = nn.Sequential(nn.Conv2d(3, 8, 5, padding=2), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=2, dilation=2),
                          nn.ReLU(), nn.Conv2d(8, 8, 7, padding=3), nn.Conv2d(8, 3, 3, padding=1))
    assert receptive_radius(stack, scale=1) == (receptive_field(stack) - 1) // 2 == 2 + 2 + 3 + 1
    up = nn.Sequential(nn.Conv2d(3, 12, 5, padding=2), nn.PixelShuffle(2), nn.Conv2d(3, 3, 5, padding=2))
    assert receptive_radius(up, scale=2) == 2 + 1  # 2 LR pixels, then 2 HR pixels = 1 LR pixel


@pytest.mark.parametrize("name", ["srresnet-cpu", "rrdbnet-cpu"])
def test_radius_checked_by_the_derivative(name):
    """The output's derivative along one input pixel is non-zero out to r pixels away, and exactly zero beyond."""
    model = random_model(name)
    r = receptive_radius(model)
    g = influence_map(model, 2 * r + 7, dtype=torch.float64)
    c = g.shape[0] // 2
    assert max(g[c, c - r], g[c, c + r]) > 0 and max(g[c - r, c], g[c + r, c]) > 0
    outside = torch.ones_like(g, dtype=torch.bool)
    outside[c - r:c + r + 1, c - r:c + r + 1] = False
    assert (g[outside] == 0).all() and (g[~outside] > 0).float().mean() > 0.5


def test_radius_checked_by_perturbing_one_pixel():
    """A change of one input pixel reaches r pixels away and no further (srresnet-cpu: strong enough to see in fp64;
    the rrdbnet's edge influence is below fp64's resolution of its output, hence the derivative test above)."""
    model = random_model("srresnet-cpu").double()
    r, s = receptive_radius(model), 4
    side = 2 * r + 7
    c = side // 2
    x = torch.rand(1, 3, side, side, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    block = lambda t: model(t)[:, :, c * s:(c + 1) * s, c * s:(c + 1) * s]  # noqa: E731
    def change(dy, dx):
        y = x.clone()
        y[:, :, c + dy, c + dx] += 1.0
        return float((block(y) - ref).abs().max())

    with torch.no_grad():
        ref = block(x)
        # the field may reach one pixel further on one side (sub-pixel phase): r is its larger half-width
        assert max(change(0, r), change(0, -r)) > 0 and max(change(r, 0), change(-r, 0)) > 0
        assert change(0, r // 2) > 0 and change(-r // 2, r // 2) > 0
        for dy, dx in ((0, r + 1), (0, -r - 1), (r + 1, 0), (-r - 1, 0), (r + 1, r + 1), (-r - 1, 2)):
            assert change(dy, dx) == 0, (dy, dx)


def test_effective_radius_shrinks_with_tolerance():
    model = random_model("rrdbnet-cpu")
    radii = [receptive_radius(model, tol=t) for t in (1e-1, 1e-2, 1e-4, 0)]
    assert radii == sorted(radii) and radii[-1] == 34 and radii[0] < 34
    g = influence_map(model, 21)
    assert g.shape == (21, 21) and float(g[10, 10]) == float(g.max())


def test_radius_is_cached_and_remeasured_after_weights_change():
    model = random_model("srresnet-tiny")
    first = receptive_radius(model, tol=1e-3)
    assert receptive_radius(model, tol=1e-3) == first
    with torch.no_grad():
        model.tail.weight.zero_()  # only the bicubic skip is left: the effective field is the bicubic kernel's
    assert receptive_radius(model, tol=1e-3) <= 2 < first


@pytest.mark.parametrize("name", ["srresnet-cpu", "rrdbnet-cpu", "srresnet-cpu-bn"])
@pytest.mark.parametrize("tile,batch", [(16, 1), (17, 4), (23, 3), (30, 2), (64, 4)])
def test_tiled_equals_whole_image(name, tile, batch):
    model = random_model(name)
    assert tiling_error(model, lr_image(), tile, batch=batch) <= 1e-5


@pytest.mark.parametrize("tile,batch", [(13, 5), (24, 4)])
def test_tiled_equals_whole_image_with_the_course_checkpoint(course_model, tile, batch):
    assert tiling_error(course_model, lr_image(seed=2), tile, batch=batch) <= 1e-5


def test_tiles_cover_the_image_with_equal_windows_and_enough_context():
    for length, tile, ov in ((52, 17, 16), (40, 23, 5), (100, 30, 0), (9, 4, 20)):
        parts = split_axis(length, tile, ov)
        assert [p[0] for p in parts[1:]] == [p[1] for p in parts[:-1]] and parts[0][0] == 0 and parts[-1][1] == length
        assert len({p[3] - p[2] for p in parts}) == 1 and max(p[1] - p[0] for p in parts) <= tile
        for a, b, ws, we in parts:
            assert 0 <= ws <= a and b <= we <= length
            assert a - ws >= min(ov, a) and we - b >= min(ov, length - b)


def test_batches_mix_images_and_core_sizes():
    model = random_model("srresnet-tiny")
    lr = torch.rand(2, 3, 29, 37, generator=torch.Generator().manual_seed(3))
    whole = upscale_tensor(model, lr, tile=None, progress=False)
    tiled = upscale_tensor(model, lr, tile=10, batch=5, progress=False)  # 2 x 3 x 4 tiles, cores 9-10 px, last batch 4
    assert tiled.shape == (2, 3, 116, 148) and float((tiled - whole).abs().max()) <= 1e-5


def test_too_small_overlap_gives_seams_at_tile_borders():
    model = random_model("srresnet-cpu")
    img = lr_image()
    r = receptive_radius(model)
    errors = [tiling_error(model, img, 16, overlap=ov) for ov in (0, r // 4, r // 2, r)]
    assert errors[0] > 1e-3 and errors[1] > 1e-3 and errors[-1] <= 1e-5
    diff, borders = seam_map(model, img, 26, overlap=2)  # cores 20 x 26: one border across each axis
    assert diff.shape == borders.shape == (160, 208) and 0 < borders.mean() < 1
    assert diff[borders].max() > 1e-3 and diff[~borders].max() <= 1e-5  # the error sits at the tile borders
    assert not borders[:4 * 6, :4 * 12].any() and not borders[-4 * 6:, -4 * 12:].any()  # the image border is no seam


def test_upscale_array_clips_and_matches_tensor_path(course_model):
    img = lr_image(20, 24)
    out = upscale_array(course_model, img, tile=8, progress=False)
    raw = upscale_tensor(course_model, torch.from_numpy(img).permute(2, 0, 1)[None], tile=None, progress=False)
    assert out.dtype == np.float32 and out.shape == (80, 96, 3)
    assert out.min() >= 0 and out.max() <= 1
    assert np.abs(out - raw[0].permute(1, 2, 0).clamp(0, 1).numpy()).max() <= 1e-5


def test_uint8_output_buffer_and_model_left_as_found():
    model = random_model("srresnet-tiny").train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lr = torch.rand(1, 3, 12, 14, generator=torch.Generator().manual_seed(4))
    buf = torch.zeros(1, 3, 48, 56, dtype=torch.uint8)
    upscale_tensor(model, lr, tile=5, out=buf, progress=False)
    model.eval()
    ref = upscale_tensor(model, lr, tile=None, progress=False).clamp(0, 1).mul(255).round().to(torch.uint8)
    assert torch.equal(buf, ref)
    lr8 = (lr * 255).round().to(torch.uint8)
    from8 = upscale_tensor(model, lr8, tile=5, progress=False)  # uint8 input: scaled per tile, no float copy
    assert float((from8 - upscale_tensor(model, lr8 / 255.0, tile=None, progress=False)).abs().max()) <= 1e-5
    model.train()
    upscale_tensor(model, lr, tile=5, progress=False)
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_scale_mismatch_refused():
    model = random_model("srresnet-tiny")
    with pytest.raises(SrlibError, match="upscales x4, but x2"):
        upscale_array(model, lr_image(8, 8), scale=2)
    bare = nn.Sequential(nn.Conv2d(3, 12, 3, padding=1), nn.PixelShuffle(2))
    with pytest.raises(SrlibError, match="give scale="):
        upscale_tensor(bare, torch.rand(1, 3, 8, 8))
    with pytest.raises(SrlibError, match="not x3"):
        upscale_tensor(bare, torch.rand(1, 3, 8, 8), scale=3, progress=False)
    assert upscale_tensor(bare, torch.rand(1, 3, 8, 8), scale=2, tile=3, progress=False).shape == (1, 3, 16, 16)


@pytest.mark.parametrize("bad,match", [
    (lr_image(8, 8) * 255, "0..255"),
    (np.full((8, 8, 3), np.nan, np.float32), "NaN"),
    (lr_image(8, 8)[..., 0], r"\(H, W, 3\)"),
    (np.zeros((8, 8, 4), np.float32), r"\(H, W, 3\)"),
    ((lr_image(8, 8) * 255).astype(np.uint8), "dtype uint8"),
    (np.zeros((0, 8, 3), np.float32), "empty"),
])
def test_bad_arrays_refused(bad, match):
    with pytest.raises(SrlibError, match=match):
        upscale_array(random_model("srresnet-tiny"), bad)


def test_bad_arguments_refused():
    model = random_model("srresnet-tiny")
    lr = torch.rand(1, 3, 8, 8)
    with pytest.raises(SrlibError, match="tile must be"):
        upscale_tensor(model, lr, tile=-1)
    with pytest.raises(SrlibError, match="batch must be"):
        upscale_tensor(model, lr, batch=0)
    with pytest.raises(SrlibError, match="float \\(N, 3, H, W\\)"):
        upscale_tensor(model, lr[0])
    with pytest.raises(SrlibError, match="CUDA only"):
        upscale_tensor(model, lr, half=True, device="cpu")
    with pytest.raises(SrlibError, match="out has shape"):
        upscale_tensor(model, lr, out=torch.empty(1, 3, 8, 8))


def test_progress_flag(capsys):
    model = random_model("srresnet-tiny")
    lr = torch.rand(1, 3, 16, 16)
    upscale_tensor(model, lr, tile=8, progress=False)
    assert "tiles" not in capsys.readouterr().err
    upscale_tensor(model, lr, tile=8, progress=True)
    assert "tiles" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fp32_and_half(course_model):
    img = lr_image()
    ref = upscale_array(course_model, img, tile=None, progress=False)
    gpu = upscale_array(course_model, img, tile=16, device="cuda", half=False, progress=False)
    half = upscale_array(course_model, img, tile=16, device="cuda", half="auto", progress=False)
    assert np.abs(gpu - ref).max() <= 1e-3 and np.abs(half - ref).max() <= 2e-2
    assert next(course_model.parameters()).device.type == "cpu"


def test_realesrganer_style_baseline_is_their_loop():
    """The bench's baseline: exact with tile_pad >= radius, seams with its default tile_pad 10 < radius."""
    from srlib.bench import realesrganer_upscale

    model = random_model("srresnet-cpu")
    img = (lr_image(30, 44, seed=5) * 255).round().astype(np.uint8)
    untiled = realesrganer_upscale(model, img, 4, 10**6, as_uint8=False)
    exact = realesrganer_upscale(model, img, 4, 16, tile_pad=receptive_radius(model), as_uint8=False)
    default = realesrganer_upscale(model, img, 4, 16, as_uint8=False)  # tile_pad 10
    seams = realesrganer_upscale(model, img, 4, 16, tile_pad=2, as_uint8=False)
    assert untiled.shape == (1, 3, 120, 176) and float((exact - untiled).abs().max()) <= 1e-7
    assert float((default - untiled).abs().max()) > 1e-6 and float((seams - untiled).abs().max()) > 1e-3
    as8 = realesrganer_upscale(model, img, 4, 16, tile_pad=40)
    assert as8.dtype == np.uint8 and np.array_equal(as8, (untiled[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round()
                                                     .astype(np.uint8))


def test_bench_worker_reports_time_and_memory():
    from srlib.bench import upscale_worker

    r = upscale_worker({"model": "srresnet-tiny@random", "size": [64, 48], "tile": 32, "method": "srlib", "batch": 2})
    assert r["seconds"] > 0 and r["out_mp"] == 256 * 192 / 1e6 and r["out_mb"] == 256 * 192 * 3 / 2**20
    # in a long-lived process (pytest) the run reuses freed, still-resident memory and the allocator may give
    # pages back: the figure is then about 0 and can read slightly below it (-0.05 MB seen); bench runs a fresh process
    assert r["peak_mb"] is None or r["peak_mb"] > -1.0


def test_device_copy_is_kept_until_the_weights_change():
    from srlib.infer import _model_on

    model = random_model("srresnet-tiny")
    assert _model_on(model, torch.device("cpu")) is model
    meta = _model_on(model, torch.device("meta"))  # stands in for a GPU: a copy, the caller's model stays on the CPU
    assert meta is not model and next(meta.parameters()).is_meta and not next(model.parameters()).is_meta
    assert _model_on(model, torch.device("meta")) is meta
    with torch.no_grad():
        model.tail.bias.add_(1)
    assert _model_on(model, torch.device("meta")) is not meta


@pytest.mark.parametrize("size", [(41, 53), (40, 52)])
def test_pixel_unshuffle_networks_tile_on_their_grid(size):
    # BasicSR's x2 RRDBNet sees 2x2 pixel groups: a window that starts on an odd pixel computes something else
    from srlib.infer import split_axis
    from srlib.models import UnshuffleRRDBNet

    torch.manual_seed(0)
    net = UnshuffleRRDBNet(channels=8, blocks=1, growth=4).eval()
    x = torch.rand(1, 3, *size)
    with torch.no_grad():
        whole = net(x)
    for tile in (10, 17):
        for h_or_w in size:
            for a, b, start, end in split_axis(h_or_w, tile, 7, multiple=2):
                assert start % 2 == 0 and (end - start) % 2 == 0 or end == h_or_w
        for batch in (1, 3):
            assert (upscale_tensor(net, x, tile=tile, batch=batch, progress=False) - whole).abs().max() <= 1e-5
    a, b, s0, e0 = next(t for t in split_axis(size[0], 10, 7) if t[2] % 2)  # unaligned, this window starts odd
    with torch.no_grad():
        part = net(x[:, :, s0:e0])
    assert (part[:, :, (a - s0) * 2:(b - s0) * 2] - whole[:, :, a * 2:b * 2]).abs().max() > 1e-3
