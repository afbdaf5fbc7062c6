import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from srlib.data import (
    PairedPatchDataset, benchmark_pairs, data_root, get_spec, is_available, load_benchmark, load_image,
    load_training_images,
)
from srlib.data.root import REPO_ROOT
from srlib.degrade import bicubic_downsample
from srlib.errors import SrlibError


def test_data_root_from_env_or_repository(monkeypatch, tmp_path):
    monkeypatch.delenv("SRLIB_DATA_DIR", raising=False)
    assert data_root() == REPO_ROOT / "data"
    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path))
    assert data_root() == tmp_path.resolve()


def test_registry_names_are_case_insensitive_and_unknown_names_get_a_hint():
    assert get_spec("set14").name == "Set14"
    with pytest.raises(SrlibError, match="Did you mean Set5"):
        get_spec("Set7")
    with pytest.raises(SrlibError, match="not x3"):
        benchmark_pairs("BSD100", 3)


def test_real_sets_are_found(datasets):
    for name, n in [("Set5", 5), ("Set14", 14), ("BSD100", 100)]:
        assert len(benchmark_pairs(name, 4, root=datasets)) == n
    assert is_available("T91", root=datasets) and is_available("BSDS200", root=datasets)


def test_missing_set_says_how_to_get_it(empty_root):
    with pytest.raises(SrlibError, match="python -m srlib download Set5"):
        load_benchmark("Set5", 4, fallback=False)


def test_fallback_to_embedded_samples_says_so(empty_root):
    bench = load_benchmark("Set5", 4)
    assert bench.name == "samples" and "embedded" in bench.source and len(bench) == 5
    for p in bench:
        assert p.hr.shape[0] == 4 * p.lr.shape[0] and p.hr.shape[1] == 4 * p.lr.shape[1]
        assert p.hr.dtype == np.float32 and 0 <= p.hr.min() and p.hr.max() <= 1
    images, source = load_training_images()
    assert len(images) >= 5 and "embedded" in source
    # the training samples are not the evaluation samples
    assert not any(np.array_equal(a[:32, :32], p.hr[:32, :32]) for a in images for p in bench)


def test_real_benchmark_loads_matlab_lr(datasets):
    bench = load_benchmark("Set5", 4, root=datasets, fallback=False)
    assert bench.name == "Set5" and str(datasets) in bench.source
    assert bench[0].hr.shape == (512, 512, 3) and bench[0].lr.shape == (128, 128, 3)


# ---- load_image: every format becomes RGB float in [0, 1] -------------------------------------

@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "I;16", "RGB"])
def test_load_image_converts_modes(tmp_path, mode):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    if mode == "I;16":
        im = Image.fromarray((rng.integers(0, 65536, (6, 7))).astype(np.uint16))
    elif mode == "P":
        im = Image.fromarray(rgb).convert("P")
    else:
        im = Image.fromarray(rgb).convert(mode)
    path = tmp_path / "x.png"
    im.save(path)
    a = load_image(path)
    assert a.shape == (6, 7, 3) and a.dtype == np.float32
    assert 0 <= a.min() and a.max() <= 1
    if mode == "L":
        assert np.allclose(a[..., 0], np.asarray(im) / 255) and np.allclose(a[..., 0], a[..., 2])
    if mode == "I;16":
        assert np.allclose(a[..., 0], np.asarray(im, dtype=np.float64) / 65535, atol=1e-6)


def test_transparent_pixels_become_white(tmp_path):
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)  # black, fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    assert np.allclose(load_image(tmp_path / "t.png"), 1.0)


@pytest.mark.parametrize("content", [b"this is not an image\n", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_unreadable_files_name_the_file(tmp_path, content):
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(SrlibError, match="broken.png"):
        load_image(path)


def test_truncated_png_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(SrlibError, match="cut.png"):
        load_image(path)


def test_missing_and_tiny_images(tmp_path):
    with pytest.raises(SrlibError, match="not found"):
        load_image(tmp_path / "nope.png")
    Image.fromarray(np.zeros((1, 1, 3), dtype=np.uint8)).save(tmp_path / "dot.png")
    with pytest.raises(SrlibError, match="1x1"):
        load_image(tmp_path / "dot.png")


# ---- paired patches ----------------------------------------------------------------------------

def test_patches_are_aligned_and_deterministic():
    rng = np.random.default_rng(0)
    imgs = [rng.random((64, 80, 3), dtype=np.float32), rng.random((50, 70, 3), dtype=np.float32)]
    ds = PairedPatchDataset(imgs, scale=2, patch_size=32, length=10, augment=True, seed=3)
    lr, hr = ds[4]
    assert lr.shape == (3, 16, 16) and hr.shape == (3, 32, 32)
    lr2, hr2 = ds[4]
    assert torch.equal(lr, lr2) and torch.equal(hr, hr2)
    # the LR patch is the course's bicubic of the HR image, cut at the matching place
    ds_noaug = PairedPatchDataset(imgs, scale=2, patch_size=32, length=10, augment=False, seed=3)
    lr, hr = ds_noaug[0]
    full_hr, full_lr = ds_noaug.hr, ds_noaug.lr
    hits = [
        k for k in range(2) for y in range(full_lr[k].shape[1] - 15) for x in range(full_lr[k].shape[2] - 15)
        if torch.equal(full_lr[k][:, y:y + 16, x:x + 16], lr) and torch.equal(full_hr[k][:, 2 * y:2 * y + 32, 2 * x:2 * x + 32], hr)
    ]
    assert hits
    assert torch.equal(full_lr[0], bicubic_downsample(full_hr[0], 2))
    lrb, hrb = ds.batch(range(5))
    assert lrb.shape == (5, 3, 16, 16) and hrb.shape == (5, 3, 32, 32)


def test_augmentation_applies_the_same_transform_to_both():
    img = np.zeros((32, 32, 3), dtype=np.float32)
    img[:4, :4] = 1  # a bright corner marks the orientation
    ds = PairedPatchDataset([img], scale=4, patch_size=32, length=40, augment=True, seed=0)
    corners = set()
    for i in range(40):
        lr, hr = ds[i]
        hr_corner = int(hr[0].flatten().argmax())
        lr_corner = int(lr[0].flatten().argmax())
        hy, hx = divmod(hr_corner, 32)
        ly, lx = divmod(lr_corner, 8)
        assert (hy // 16, hx // 16) == (ly // 4, lx // 4)
        corners.add((hy // 16, hx // 16))
    assert len(corners) == 4


def test_small_images_are_skipped_with_a_warning():
    imgs = [np.zeros((20, 20, 3), np.float32), np.zeros((40, 40, 3), np.float32)]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ds = PairedPatchDataset(imgs, scale=4, patch_size=32)
    assert len(ds.hr) == 1 and any("smaller than" in str(x.message) for x in w)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # all images too small: the one error line, no warning before it
        with pytest.raises(SrlibError, match="smaller patch_size"):
            PairedPatchDataset(imgs[:1], scale=4, patch_size=32)
    with pytest.raises(SrlibError, match="multiple of the scale"):
        PairedPatchDataset(imgs, scale=4, patch_size=30)


def test_save_image_clips_bicubic_overshoot_and_leaves_no_temporary_file(tmp_path):
    from srlib.data import save_image
    from srlib.evaluate import bicubic_upscale

    rng = np.random.default_rng(2)
    sr = bicubic_upscale((rng.random((8, 8, 3)) > 0.5).astype(np.float64), 4)
    path = save_image(tmp_path / "sub" / "sr.png", sr)
    assert np.array_equal(np.asarray(Image.open(path)), np.round(np.clip(sr, 0, 1) * 255).astype(np.uint8))
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["sr.png"]
    gray = save_image(tmp_path / "g.jpg", np.full((8, 8), 0.5))
    assert Image.open(gray).mode == "L"


@pytest.mark.parametrize("scale, patch", [(0, 16), (4, 0), (-4, 16), (2.0, 16)])
def test_patch_datasets_refuse_a_scale_or_patch_that_is_not_a_whole_number_above_zero(scale, patch):
    from srlib.data.realworld_patches import RealWorldPatchDataset

    img = np.random.default_rng(0).random((32, 32, 3), dtype=np.float32)
    for dataset in (PairedPatchDataset, RealWorldPatchDataset):
        with pytest.raises(SrlibError, match="whole number >= 1"):
            dataset([img], scale, patch)
    assert len(PairedPatchDataset([img], np.int64(4), np.int64(16)).hr) == 1  # NumPy integers are whole numbers


@pytest.mark.parametrize("scale", [0, -2, float("nan"), 0.5])
def test_bicubic_downsample_refuses_a_scale_below_one_in_words(scale):
    with pytest.raises(SrlibError, match="scale` >= 1"):
        bicubic_downsample(np.zeros((16, 16, 3), np.float32), scale)
    assert bicubic_downsample(np.zeros((16, 16, 3), np.float32), np.int64(4)).shape == (4, 4, 3)
