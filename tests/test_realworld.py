"""The Real-ESRGAN / BSRGAN degradation model (srlib.realworld) and RealWorldPatchDataset."""
import math
import warnings

import numpy as np
import pytest
import torch

from srlib.data import load_sample
from srlib.data.realworld_patches import RealWorldPatchDataset
from srlib.errors import SrlibError
from srlib.realworld import (KERNEL_TYPES, RealESRGANOptions, add_gaussian_noise, add_poisson_noise, bivariate_kernel,
                             degrade_realesrgan, degrade_realesrgan_steps, draw_kernel, filter2d, gaussian_1d,
                             jpeg_compress, make_kernel, sinc_kernel, usm_sharpen)

OPTS = RealESRGANOptions()


def photo(side=96, name="astronaut"):
    """A real photo crop, (1, 3, side, side) in [0, 1]."""
    img = torch.from_numpy(np.array(load_sample(name))).permute(2, 0, 1)[None].float()
    return img[..., 100 : 100 + side, 100 : 100 + side].contiguous()


def hf_energy(x):
    """Mean squared 4-neighbour Laplacian: the image's high-frequency energy."""
    lap = 4 * x[..., 1:-1, 1:-1] - x[..., :-2, 1:-1] - x[..., 2:, 1:-1] - x[..., 1:-1, :-2] - x[..., 1:-1, 2:]
    return float((lap**2).mean())


def blockiness(x):
    """Mean |step| across 8x8 block borders over mean |step| inside blocks (about 1 without JPEG blocks)."""
    d = (x[..., :, 1:] - x[..., :, :-1]).abs().mean(dim=(0, 1, 2))  # step between columns j and j+1
    border = d[7::8]
    inside = torch.cat([d[k::8] for k in range(7)])
    return float(border.mean() / inside.mean())


# ---- reproducibility ---------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["realesrgan", "bsrgan"])
def test_same_seed_same_output_other_seed_differs(order):
    hr = torch.cat([photo(), photo(name="coffee")])
    a = degrade_realesrgan(hr, 4, seed=5, order=order)
    b = degrade_realesrgan(hr, 4, seed=5, order=order)
    c = degrade_realesrgan(hr, 4, seed=6, order=order)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_bsrgan_order_differs_from_realesrgan():
    hr = photo()
    a = [degrade_realesrgan(hr, 4, seed=s) for s in range(4)]
    b = [degrade_realesrgan(hr, 4, seed=s, order="bsrgan") for s in range(4)]
    assert all(not torch.equal(x, y) for x, y in zip(a, b))
    orders = {tuple(p[0][1]["order"]) for s in range(6)
              for p in [degrade_realesrgan(hr, 4, seed=s, order="bsrgan", return_params=True)[1][0]]}
    assert len(orders) > 1  # the permutation is drawn, not fixed
    for order in orders:
        assert order.index("random resize") < order.index("resize to LR")


def test_per_image_generators_do_not_depend_on_the_batch():
    hr = torch.cat([photo(), photo(name="coffee"), photo(name="chelsea")])
    gens = lambda seeds: [torch.Generator().manual_seed(s) for s in seeds]  # noqa: E731
    both = degrade_realesrgan(hr, 4, generators=gens([1, 2, 3]))
    alone = degrade_realesrgan(hr[1:2], 4, generators=gens([2]))
    assert torch.equal(both[1], alone[0])


def test_steps_end_in_the_degraded_image():
    hr = photo()
    for order in ("realesrgan", "bsrgan"):
        steps = degrade_realesrgan_steps(hr[0], 4, seed=11, order=order)
        assert steps[0][0] == "input" and steps[-1][0] == "8-bit"
        assert torch.equal(steps[-1][1], degrade_realesrgan(hr, 4, seed=11, order=order)[0])
        assert all(isinstance(p, dict) for _, _, p in steps)
    names = [n for n, _, _ in degrade_realesrgan_steps(hr, 4, seed=0)]
    assert names[1:9] == ["blur 1", "resize 1", "noise 1", "jpeg 1", "blur 2", "resize 2", "noise 2", "jpeg 2"]


# ---- parameter ranges ------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["first", "second"])
def test_kernel_draws_within_ranges(which):
    p = getattr(OPTS, which)
    g = torch.Generator().manual_seed(0)
    draws = [draw_kernel(g, p, OPTS) for _ in range(3000)]
    sizes = {d["size"] for d in draws}
    assert sizes == set(range(7, 22, 2))
    kinds = [d["type"] for d in draws]
    assert set(kinds) == set(KERNEL_TYPES) | {"sinc"}
    assert 0.07 < kinds.count("sinc") / len(kinds) < 0.13  # sinc_prob 0.1
    assert 0.38 < kinds.count("iso") / len(kinds) < 0.43  # 0.9 * 0.45
    lo, hi = p.blur_sigma
    for d in draws:
        if d["type"] == "sinc":
            low = math.pi / 3 if d["size"] < 13 else math.pi / 5
            assert low <= d["cutoff"] <= math.pi
            continue
        assert lo <= d["sigma_x"] <= hi and lo <= d["sigma_y"] <= hi
        assert -math.pi <= d["theta"] <= math.pi
        if "generalized" in d["type"]:
            assert 0.5 <= d["beta"] <= 4
        if "plateau" in d["type"]:
            assert 1 <= d["beta"] <= 2
    sig = [d["sigma_x"] for d in draws if d["type"] != "sinc"]
    assert min(sig) < lo + 0.05 * (hi - lo) and max(sig) > hi - 0.05 * (hi - lo)  # the whole range is used


def test_pipeline_draws_within_ranges():
    hr = torch.rand(60, 3, 32, 32)
    _, params = degrade_realesrgan(hr, 4, seed=0, return_params=True)
    qualities, seen = [], {"gaussian": 0, "poisson": 0, "gray": 0}
    for steps in params:
        d = dict(steps)
        for i, p in ((1, OPTS.first), (2, OPTS.second)):
            r = d[f"resize {i}"]
            assert r["mode"] in ("area", "bilinear", "bicubic")
            lo, hi = {"up": (1, p.resize_range[1]), "down": (p.resize_range[0], 1), "keep": (1, 1)}[r["direction"]]
            assert lo <= r["factor"] <= hi
            n = d[f"noise {i}"]
            seen[n["type"]] += 1
            seen["gray"] += n["gray"]
            if n["type"] == "gaussian":
                assert p.noise_range[0] <= n["sigma"] <= p.noise_range[1]
            else:
                assert p.poisson_scale_range[0] <= n["scale"] <= p.poisson_scale_range[1]
            qualities.append(d[f"jpeg {i}"]["quality"])
        qualities.append(d["jpeg final"]["quality"])
        f = d["resize to LR + sinc"]
        assert f["size"] == (8, 8)
        if "cutoff" in f:
            assert math.pi / 3 <= f["cutoff"] <= math.pi and f["sinc_size"] in range(7, 22, 2)
    assert all(isinstance(q, int) and 30 <= q <= 95 for q in qualities)
    assert len(set(qualities)) > 30
    assert seen["gaussian"] > 30 and seen["poisson"] > 30 and 20 < seen["gray"] < 80  # 120 noise steps, p = 0.5 / 0.4


def test_options_are_checked():
    with pytest.raises(SrlibError, match="blur_sigma"):
        OPTS.first.__class__(blur_sigma=(3, 0.2))
    with pytest.raises(SrlibError, match="kernel_prob"):
        OPTS.first.__class__(kernel_prob=(0.5, 0.5, 0.5, 0, 0, 0))
    assert OPTS.second.blur_sigma == (0.2, 1.5) and OPTS.first.resize_range == (0.15, 1.5)


# ---- kernels ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KERNEL_TYPES)
def test_kernels_sum_to_one_with_their_shape(kind):
    k = bivariate_kernel(kind, 15, 2.5, 1.0, 0.6, beta=1.7)
    assert k.shape == (15, 15) and k.dtype == torch.float32
    assert abs(float(k.sum()) - 1) < 1e-6 and float(k.min()) >= 0
    assert int(k.argmax()) == 15 * 7 + 7  # peak at the centre
    if kind.endswith("aniso"):
        assert not torch.allclose(k, k.T, atol=1e-6)
    else:
        assert torch.allclose(k, k.T, atol=1e-7) and torch.allclose(k, k.flip(0), atol=1e-7)


def moments(k):
    ax = torch.arange(k.shape[0], dtype=torch.float64) - k.shape[0] // 2
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    k = k.double()
    return float((k * xx**2).sum()), float((k * yy**2).sum()), float((k * xx * yy).sum())


def test_anisotropic_kernel_rotates():
    k0 = bivariate_kernel("aniso", 21, 3.0, 1.0, 0.0)
    vx, vy, cxy = moments(k0)
    assert vx > 4 * vy and abs(cxy) < 1e-9  # long axis along x, variances near 9 and 1
    k90 = bivariate_kernel("aniso", 21, 3.0, 1.0, math.pi / 2)
    assert torch.allclose(k90, k0.T, atol=1e-7)
    assert moments(bivariate_kernel("aniso", 21, 3.0, 1.0, math.pi / 4))[2] > 1  # tilted: x and y correlate
    assert moments(bivariate_kernel("aniso", 21, 3.0, 1.0, -math.pi / 4))[2] < -1


def test_generalized_and_plateau_shapes():
    g = bivariate_kernel("iso", 21, 2.0)
    assert torch.allclose(bivariate_kernel("generalized_iso", 21, 2.0, beta=1.0), g, atol=1e-7)
    flat = bivariate_kernel("generalized_iso", 21, 2.0, beta=4.0)
    assert float(flat[10, 11] / flat[10, 10]) > float(g[10, 11] / g[10, 10])  # larger beta: flatter top
    plateau = bivariate_kernel("plateau_iso", 21, 2.0, beta=2.0)
    assert float(plateau[0, 10]) > float(g[0, 10])  # heavier tails than the Gaussian


def test_sinc_kernel_is_a_lowpass_at_its_cutoff():
    cutoff = math.pi / 2
    k = sinc_kernel(21, cutoff)
    assert abs(float(k.sum()) - 1) < 1e-6 and torch.allclose(k, k.T, atol=1e-7)
    resp = torch.fft.fft2(k.double(), s=(128, 128)).abs()
    f = torch.fft.fftfreq(128) * 2 * math.pi
    radius = torch.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    assert float(resp[radius < 0.6 * cutoff].mean()) > 0.9
    assert float(resp[(radius > 1.4 * cutoff) & (radius < math.pi)].mean()) < 0.1
    assert sinc_kernel(7, 2.0, pad_to=21).shape == (21, 21)


def test_filter2d_per_image_kernels_as_one_at_a_time():
    x = torch.rand(3, 3, 20, 24)
    ks = torch.stack([make_kernel(draw_kernel(torch.Generator().manual_seed(s), OPTS.first.__class__(kernel_sizes=(9,)), OPTS))
                      for s in range(3)])
    together = filter2d(x, ks)
    for i in range(3):
        assert torch.allclose(together[i], filter2d(x[i : i + 1], ks[i])[0], atol=1e-6)
    flat = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(filter2d(flat, ks[0]), flat, atol=1e-6)  # sums to one: flat stays flat, borders too


# ---- noise, JPEG, USM -------------------------------------------------------------------------------


def test_gaussian_noise_level_and_gray():
    x = torch.full((1, 3, 64, 64), 0.5)
    g = torch.Generator().manual_seed(0)
    colour = add_gaussian_noise(x, 10.0, False, g) - x
    assert abs(float(colour.std()) * 255 - 10) < 0.5
    assert not torch.equal(colour[0, 0], colour[0, 1])
    gray = add_gaussian_noise(x, 10.0, True, g) - x
    assert torch.equal(gray[0, 0], gray[0, 1]) and torch.equal(gray[0, 1], gray[0, 2])


def test_poisson_noise_grows_with_scale_and_gray_is_shared():
    x = photo(64)
    g = torch.Generator().manual_seed(0)
    small = float((add_poisson_noise(x, 0.5, False, g) - x).std())
    large = float((add_poisson_noise(x, 3.0, False, g) - x).std())
    assert large > 3 * small > 0
    y = add_poisson_noise(x, 1.0, True, g)
    kept = ((y > 0) & (y < 1)).all(1)  # not clipped in any channel
    noise = (y - x).permute(1, 0, 2, 3)[:, kept]
    assert kept.float().mean() > 0.9 and torch.allclose(noise[0], noise[1], atol=1e-6) and torch.allclose(noise[0], noise[2], atol=1e-6)
    colour = (add_poisson_noise(x, 1.0, False, g) - x).permute(1, 0, 2, 3)[:, kept]
    assert not torch.allclose(colour[0], colour[1], atol=1e-6)


def test_jpeg_is_a_real_codec_with_8x8_blocks():
    x = torch.nn.functional.avg_pool2d(photo(128), 3, 1, 1)  # a smooth photo: its own steps are small
    low = jpeg_compress(x, 30)
    assert not torch.equal(low, x)
    assert blockiness(low) > 1.2 * blockiness(x)
    err = [float((jpeg_compress(x, q) - x).abs().mean()) for q in (30, 60, 95)]
    assert err[0] > err[1] > err[2]
    per_image = jpeg_compress(torch.cat([x, x]), [30, 95])
    assert torch.equal(per_image[0], low[0]) and not torch.equal(per_image[0], per_image[1])


def test_usm_raises_high_frequency_energy():
    x = photo(96)
    y = usm_sharpen(x)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert hf_energy(y) > 1.2 * hf_energy(x)
    flat = torch.full((1, 3, 40, 40), 0.4)
    assert torch.equal(usm_sharpen(flat), flat)  # below threshold: nothing to sharpen


def test_usm_separable_blur_matches_a_2d_filter():
    from srlib.realworld.kernels import _separable

    x = torch.rand(1, 3, 40, 33)
    g = gaussian_1d(21)
    assert torch.allclose(_separable(x, g), filter2d(x, torch.outer(g, g)), atol=1e-6)


# ---- output ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["realesrgan", "bsrgan"])
def test_output_shape_range_and_8bit(order):
    hr = torch.cat([photo(), photo(name="rocket")] * 4)
    lr, params = degrade_realesrgan(hr, 4, seed=3, order=order, return_params=True)
    if order == "realesrgan":  # some images end with the sinc (off the 8-bit grid before the final rounding)
        assert any(steps[-2][0] == "resize to LR + sinc" and "cutoff" in steps[-2][1] for steps in params)
    assert lr.shape == (8, 3, 24, 24) and lr.dtype == torch.float32
    assert float(lr.min()) >= 0 and float(lr.max()) <= 1
    assert torch.equal(lr * 255, torch.round(lr * 255))
    assert degrade_realesrgan(photo(48), 2, seed=0).shape == (1, 3, 24, 24)


# ---- dataset ----------------------------------------------------------------------------------------


def train_images():
    return [load_sample("astronaut"), load_sample("coffee")]


@pytest.mark.parametrize("kw", [{}, {"order": "bsrgan"}, {"usm_target": True}])
def test_dataset_items_depend_on_seed_and_index_only(kw):
    ds = RealWorldPatchDataset(train_images(), 4, 48, length=100, seed=2, **kw)
    a_lr, a_hr = ds.batch([3, 4])
    b_lr, b_hr = ds.batch([4, 3, 9])
    assert torch.equal(a_lr[0], b_lr[1]) and torch.equal(a_lr[1], b_lr[0])
    assert torch.equal(a_hr[0], b_hr[1]) and torch.equal(a_hr[1], b_hr[0])
    again = RealWorldPatchDataset(train_images(), 4, 48, length=100, seed=2, **kw).batch([9])
    assert torch.equal(again[0][0], b_lr[2])
    other = RealWorldPatchDataset(train_images(), 4, 48, length=100, seed=3, **kw).batch([3])
    assert not torch.equal(other[0][0], a_lr[0])
    assert a_lr.shape == (2, 3, 12, 12) and a_hr.shape == (2, 3, 48, 48)
    assert a_lr.dtype == a_hr.dtype == torch.float32
    assert 0 <= float(a_lr.min()) and float(a_lr.max()) <= 1 and 0 <= float(a_hr.min()) and float(a_hr.max()) <= 1


def test_dataset_usm_target_is_sharper_and_patches_are_crops():
    plain = RealWorldPatchDataset(train_images(), 4, 64, length=10, seed=0)
    sharp = RealWorldPatchDataset(train_images(), 4, 64, length=10, seed=0, usm_target=True)
    _, hr = plain.batch(range(4))
    _, hr_usm = sharp.batch(range(4))
    assert torch.equal(usm_sharpen(hr[:1]), hr_usm[:1])  # same crop, then sharpened
    assert hf_energy(hr_usm) > hf_energy(hr)


# ---- refused input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad, match", [
    (torch.rand(1, 3, 32, 32) * 255, "0..255"),
    (torch.full((1, 3, 32, 32), float("nan")), "NaN"),
    (torch.rand(1, 1, 32, 32), "shaped"),
    (torch.rand(32, 32, 3), "shaped"),
    (torch.rand(1, 3, 30, 32), "multiple of the scale"),
    ((torch.rand(1, 3, 32, 32) * 255).to(torch.uint8), "float"),
    (np.zeros((32, 32, 3)), "torch tensor"),
])
def test_bad_input_refused(bad, match):
    with pytest.raises(SrlibError, match=match):
        degrade_realesrgan(bad, 4, seed=0)


def test_bad_arguments_refused():
    hr = torch.rand(1, 3, 32, 32)
    with pytest.raises(SrlibError, match="seed"):
        degrade_realesrgan(hr, 4)
    with pytest.raises(SrlibError, match="order"):
        degrade_realesrgan(hr, 4, seed=0, order="shuffled")
    with pytest.raises(SrlibError, match="scale"):
        degrade_realesrgan(hr, 0, seed=0)
    with pytest.raises(SrlibError, match="multiple of the scale"):
        RealWorldPatchDataset(train_images(), 4, 50)
    with pytest.raises(SrlibError, match="order"):
        RealWorldPatchDataset(train_images(), 4, 48, order="x")
    with pytest.raises(SrlibError, match="0..255|values"):
        RealWorldPatchDataset([np.full((64, 64, 3), 200.0)], 4, 48)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every image smaller than the patch: the one error line, no warning first
        with pytest.raises(SrlibError, match="smaller patch_size"):
            RealWorldPatchDataset([np.zeros((20, 20, 3), np.float32)], 4, 48)
    with pytest.raises(SrlibError, match="odd"):
        bivariate_kernel("iso", 8, 1.0)
    with pytest.raises(SrlibError, match="quality"):
        jpeg_compress(hr, 0)


def test_bench_degrade_reports_each_pipeline_and_the_step(capsys):
    from srlib.bench import bench_degrade, print_degrade

    r = bench_degrade(batch=2, patch=32, rounds=1, generator="srresnet-cpu")
    assert set(r["ms"]) == {"realesrgan", "realesrgan + USM target", "bsrgan", "training step (G + D fwd+bwd)"}
    assert all(v > 0 for v in r["ms"].values())
    print_degrade(r)
    assert "of a step" in capsys.readouterr().out
