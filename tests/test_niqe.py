"""NIQE reproduces MATLAB's `niqe` and refuses what it cannot score."""
import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from scipy.stats import gennorm

from srlib.data import load_image
from srlib.errors import SrlibError
from srlib.quality import mscn, niqe
from srlib.quality.niqe import aggd_fit, block_features, niqe_y, pristine_model

BABOON = Path(__file__).parent / "data" / "baboon.png"
MATLAB_BABOON = 5.72957338  # MATLAB R2021a niqe on the Y channel, no crop (shared/reference/niqe/README.md)


@pytest.fixture(scope="module")
def baboon():
    return load_image(BABOON)


def test_baboon_matches_matlab(baboon):
    assert niqe(baboon) == pytest.approx(MATLAB_BABOON, abs=5e-4)


def test_uint8_input_gives_the_same_score(baboon):
    as_uint8 = np.round(baboon * 255).astype(np.uint8)
    assert niqe(as_uint8) == niqe(baboon)


def test_pristine_model_is_the_published_file():
    data = resources.files("srlib.quality").joinpath("niqe_pris_params.npz").read_bytes()
    readme = resources.files("srlib.quality").joinpath("README.md").read_text()
    digest = hashlib.sha256(data).hexdigest()
    assert digest in readme
    m = pristine_model()
    assert m["mu"].shape == (36,) and m["cov"].shape == (36, 36)
    np.testing.assert_allclose(m["cov"], m["cov"].T)


def test_window_is_matlabs_fspecial_gaussian_7_by_7_sigma_7_6():
    x = np.arange(-3, 4)
    g = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * (7 / 6) ** 2))
    np.testing.assert_allclose(pristine_model()["window"], g / g.sum(), atol=1e-12)


def test_mscn_of_a_constant_image_is_zero_and_of_a_natural_one_unit_scaled(baboon):
    assert np.abs(mscn(np.full((50, 60), 120.0))).max() < 1e-6
    z = mscn(np.round(baboon.mean(axis=2) * 255).astype(np.float64))
    assert abs(z.mean()) < 0.1 and 0.3 < z.std() < 1.0


@pytest.mark.parametrize("shape", [0.8, 2.0, 4.0])
def test_aggd_fit_recovers_the_shape_of_a_symmetric_generalised_gaussian(shape):
    x = gennorm.rvs(shape, scale=1.5, size=(3, 200_000), random_state=np.random.default_rng(0))
    alpha, left, right = aggd_fit(x)
    np.testing.assert_allclose(alpha, shape, rtol=0.05)
    np.testing.assert_allclose(left, right, rtol=0.03)


def test_block_features_are_18_and_nan_for_a_block_without_negative_values():
    rng = np.random.default_rng(1)
    blocks = np.stack([rng.standard_normal((96, 96)), np.abs(rng.standard_normal((96, 96)))])
    f = block_features(blocks)
    assert f.shape == (2, 18)
    assert np.isfinite(f[0]).all() and np.isnan(f[1]).any()


def test_crop_removes_the_border_before_scoring(baboon):
    from srlib.metrics import rgb_to_y

    y = rgb_to_y(baboon.astype(np.float64))
    assert niqe(baboon, crop=4) == pytest.approx(niqe_y(y[4:-4, 4:-4]), abs=1e-9)
    assert niqe(baboon, crop=4) != niqe(baboon)


def test_grey_images_are_scored_on_their_own_values(baboon):
    grey = np.round(baboon.mean(axis=2) * 255) / 255
    assert niqe(grey) == pytest.approx(niqe_y(np.round(grey * 255)), abs=1e-9)


def test_blur_and_noise_make_an_image_less_natural(baboon):
    # a slight blur (sigma <= 1) *lowers* baboon's NIQE (5.73 -> 3.04 at 0.5): its fur is rougher than the
    # pristine corpus; from sigma 1 on, more blur is always less natural
    blurred = [niqe(gaussian_filter(baboon, (s, s, 0))) for s in (1.0, 2.0, 4.0)]
    rng = np.random.default_rng(0)
    noisy = [niqe(np.clip(baboon + s * rng.standard_normal(baboon.shape), 0, 1)) for s in (0.05, 0.15)]
    clean = niqe(baboon)
    assert blurred[0] < blurred[1] < blurred[2] and clean < blurred[1]
    assert clean < noisy[0] < noisy[1]


@pytest.mark.parametrize("img, words", [
    (np.zeros((90, 200, 3)), "96x96"),
    (np.full((200, 200, 3), 0.5), "flat or constant"),
    (np.full((200, 200, 3), 128.0), "divide by 255"),
    (np.full((200, 200, 3), np.nan), "NaN"),
])
def test_bad_input_is_one_clear_line(img, words):
    with pytest.raises(SrlibError, match=words) as e:
        niqe(img)
    assert "\n" not in str(e.value)


def test_a_crop_that_leaves_nothing_is_refused(baboon):
    with pytest.raises(SrlibError, match="leaves nothing"):
        niqe(baboon, crop=300)
    with pytest.raises(SrlibError, match="whole number"):
        niqe(baboon, crop=2.5)


def nearest(lr, scale):
    return np.repeat(np.repeat(lr, scale, axis=0), scale, axis=1)


def noisy_bicubic(lr, scale, sigma=0.03):
    from srlib.evaluate import bicubic_upscale

    up = bicubic_upscale(lr, scale)
    return np.clip(up + sigma * np.random.default_rng(lr.shape[0]).standard_normal(up.shape), 0, 1)


@pytest.mark.slow
@pytest.mark.parametrize("source", ["real", "samples"])
def test_nearest_neighbour_and_noise_are_less_natural_than_the_psnr_model(source, request, monkeypatch, tmp_path):
    # the two blind spots of the high-frequency power ratio (both score "more detail" than the PSNR model there)
    monkeypatch.setenv("SRLIB_CHECKPOINT_DIR", str(tmp_path / "runs"))
    if source == "real":
        monkeypatch.setenv("SRLIB_DATA_DIR", str(request.getfixturevalue("datasets")))
    else:
        monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path / "empty"))
    from srlib.data import load_benchmark
    from srlib.evaluate import model_upscaler
    from srlib.models import load_course_model

    bench = load_benchmark("Set5", 4)
    assert (bench.name == "samples") == (source == "samples")
    model = model_upscaler(load_course_model("srresnet_x4-cpu")[0])
    score = {name: np.mean([niqe(f(p.lr, 4), crop=4) for p in bench.pairs])
             for name, f in (("psnr model", model), ("nearest", nearest), ("noise", noisy_bicubic))}
    assert score["nearest"] > score["psnr model"] + 0.5, score
    assert score["noise"] > score["psnr model"] + 0.5, score
