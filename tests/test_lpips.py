"""LPIPS from local weights files only (srlib.quality.lpips), tested with weights made here."""
import importlib
import importlib.util

import numpy as np
import pytest
import torch
import torchvision

from srlib import SrlibError
from srlib.data.samples import load_sample
from srlib.quality.lpips import ALEXNET_FILE, LINEAR_FILE, alexnet_weights_path, linear_weights_path, lpips, lpips_status

lp = importlib.import_module("srlib.quality.lpips")  # the module: srlib.quality.lpips the attribute is the function


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch-hub cache, and no `lpips` package: nothing to load yet."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(lp, "_package_linear_weights", lambda: None)

    def no_download(*args, **kwargs):
        raise AssertionError("srlib tried to download weights")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    return tmp_path / "torch" / "hub" / "checkpoints"


def _save_alexnet(path):
    """torchvision's AlexNet with random weights, saved as torchvision's file would be (same keys)."""
    torch.manual_seed(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), path)


def _save_linear(path, seed=0):
    g = torch.Generator().manual_seed(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    widths = (64, 192, 384, 256, 256)
    torch.save({f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1, generator=g) for i, c in enumerate(widths)}, path)


@pytest.fixture
def weights(hub):
    _save_alexnet(hub / ALEXNET_FILE)
    _save_linear(hub / LINEAR_FILE)
    return hub


@pytest.fixture(scope="module")
def img():
    return load_sample("astronaut")[:120, :100].astype(np.float64)


def _noisy(x, sigma, seed=0):
    return np.clip(x + np.random.default_rng(seed).normal(0, sigma, x.shape), 0, 1)


def test_missing_files_are_named_in_one_line(hub, img):
    line = lpips_status()
    assert str(hub / ALEXNET_FILE) in line and "pip install lpips" in line and str(hub / LINEAR_FILE) in line
    assert "\n" not in line
    with pytest.raises(SrlibError) as err:
        lpips(img, img)
    assert str(err.value) == line
    _save_alexnet(hub / ALEXNET_FILE)
    line = lpips_status()
    assert ALEXNET_FILE not in line and "pip install lpips" in line
    (hub / ALEXNET_FILE).unlink()
    _save_linear(hub / LINEAR_FILE)
    line = lpips_status()
    assert ALEXNET_FILE in line and "pip install lpips" not in line


def test_paths_follow_torch_home(hub):
    assert alexnet_weights_path() == hub / ALEXNET_FILE
    assert linear_weights_path() == hub / LINEAR_FILE


def test_linear_weights_of_an_installed_lpips_package_come_first(hub, tmp_path, monkeypatch):
    packaged = tmp_path / "site" / "lpips" / "weights" / "v0.1" / "alex.pth"
    monkeypatch.setattr(lp, "_package_linear_weights", lambda: packaged)
    assert linear_weights_path() == hub / LINEAR_FILE  # the package's file is not there
    _save_linear(packaged)
    assert linear_weights_path() == packaged


def test_runs_with_weights_made_here(weights, img):
    assert lpips_status() is None
    assert lpips(img, img) == 0.0
    d1, d2 = lpips(_noisy(img, 0.05), img), lpips(_noisy(img, 0.2), img)
    assert 0 < d1 < d2
    assert lpips(img, _noisy(img, 0.05)) == pytest.approx(d1, rel=1e-5)
    u8 = np.round(img * 255).astype(np.uint8)
    assert lpips(u8, u8) == 0.0 and lpips(_noisy(img, 0.05), u8) > 0
    assert lpips(_noisy(img, 0.05), img, crop=4) != d1


def test_a_replaced_weights_file_is_read_again(weights, img):
    before = lpips(_noisy(img, 0.05), img)
    _save_linear(weights / LINEAR_FILE, seed=1)
    assert lpips(_noisy(img, 0.05), img) != before


def test_bad_weights_files_are_refused(weights, img):
    (weights / ALEXNET_FILE).write_bytes(b"not a weights file")
    with pytest.raises(SrlibError, match="could not be read"):
        lpips(img, img)
    _save_alexnet(weights / ALEXNET_FILE)
    torch.save({"lin0.model.1.weight": torch.ones(1, 3, 1, 1)}, weights / LINEAR_FILE)
    with pytest.raises(SrlibError, match="do not fit"):
        lpips(img, img)


@pytest.mark.parametrize("bad, match", [
    (lambda x: x * 255, "0..255"),
    (lambda x: np.where(np.arange(x.shape[1])[None, :, None] == 3, np.nan, x), "NaN"),
    (lambda x: x[:-4], "SR is 100x116 but HR is 100x120"),
    (lambda x: x[:20], "at least 32x32"),
])
def test_bad_images_are_refused(weights, img, bad, match):
    hr = img[:20] if match == "at least 32x32" else img
    with pytest.raises(SrlibError, match=match):
        lpips(bad(img), hr)


@pytest.mark.skipif(importlib.util.find_spec("lpips") is None,
                    reason="the lpips package is not installed (pip install lpips): srlib's own LPIPS network is "
                           "compared with the package's only where it is")
def test_same_value_as_the_lpips_package(hub, img, monkeypatch):
    """The package's real linear weights and one random AlexNet in both implementations."""
    import lpips as package

    monkeypatch.undo()  # the package's own alex.pth, and torchvision constructs AlexNet without weights
    monkeypatch.setenv("TORCH_HOME", str(hub.parent.parent))
    _save_alexnet(hub / ALEXNET_FILE)
    features = torch.load(hub / ALEXNET_FILE, weights_only=True)
    ref = package.LPIPS(net="alex", pnet_rand=True, verbose=False)
    ref.net.load_state_dict({k: features["features." + k.split(".", 1)[1]] for k in ref.net.state_dict()})
    sr = _noisy(img, 0.05)
    to_t = lambda x: torch.from_numpy(x.transpose(2, 0, 1)).float()[None] * 2 - 1  # noqa: E731
    with torch.no_grad():
        expected = float(ref(to_t(sr), to_t(img)))
    assert lpips(sr, img) == pytest.approx(expected, rel=1e-5)
