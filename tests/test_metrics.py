import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from srlib.errors import SrlibError
from srlib.evaluate import evaluate, mean_scores
from srlib.metrics import psnr, rgb_to_y, ssim, ssim_map


@pytest.mark.parametrize(
    "name, want_psnr, want_ssim, tol_psnr",
    [("Set5", 28.42, 0.8104, 0.01), ("BSD100", 25.96, 0.6675, 0.01), ("Set14", 26.00, 0.7027, 0.1)],
)
def test_bicubic_x4_reproduces_the_literature(datasets, monkeypatch, name, want_psnr, want_ssim, tol_psnr):
    monkeypatch.setenv("SRLIB_DATA_DIR", str(datasets))
    scores, bench = evaluate("bicubic", name, 4, fallback=False, progress=False)
    p, s = mean_scores(scores)
    assert bench.name == name
    assert abs(p - want_psnr) <= tol_psnr + 1e-9, p
    assert abs(s - want_ssim) <= (0.001 if name != "Set14" else 0.005), s


def test_rounding_y_is_what_reproduces_the_table(datasets, monkeypatch):
    monkeypatch.setenv("SRLIB_DATA_DIR", str(datasets))
    rounded = mean_scores(evaluate("bicubic", "Set5", 4, fallback=False, progress=False)[0])
    raw = mean_scores(evaluate("bicubic", "Set5", 4, fallback=False, progress=False, round_y=False)[0])
    assert 0.01 < raw[0] - rounded[0] < 0.016 and 0 < raw[1] - rounded[1] < 0.005  # metrics.py: "+0.013 dB" (BasicSR's Y)


def test_y_of_black_and_white():
    img = np.zeros((1, 2, 3))
    img[0, 1] = 1
    assert np.allclose(rgb_to_y(img), [[16, 235]])


def test_psnr_hand_computed():
    hr = np.zeros((4, 4, 1))
    sr = np.zeros((4, 4, 1))
    sr[0, 0] = 16 / 255  # one pixel off by 16 levels: MSE = 256 / 16 = 16
    want = 10 * np.log10(255**2 / 16)
    assert psnr(sr, hr, y_channel=False) == pytest.approx(want, abs=1e-9)
    assert psnr(hr, hr) == float("inf")


def test_psnr_crop_ignores_the_border():
    hr = np.zeros((10, 10, 3))
    sr = hr.copy()
    sr[0, :] = 1
    assert psnr(sr, hr, crop=1) == float("inf")
    assert psnr(sr, hr, crop=0) < 20


def test_ssim_matches_scikit_image_gaussian_ssim():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (40, 50)).astype(np.float64)
    b = np.clip(a + rng.normal(0, 20, a.shape), 0, 255)
    ref = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    assert ssim_map(a, b).mean() == pytest.approx(ref, abs=1e-9)
    assert ssim_map(a, a).mean() == pytest.approx(1.0)


def test_tensor_and_array_inputs_agree():
    x = torch.rand(1, 3, 32, 32)
    y = (x + 0.05 * torch.randn_like(x)).clamp(0, 1)
    xa, ya = x[0].permute(1, 2, 0).numpy(), y[0].permute(1, 2, 0).numpy()
    assert psnr(x, y, 2) == pytest.approx(psnr(xa, ya, 2))
    assert ssim(x, y, 2) == pytest.approx(ssim(xa, ya, 2))


def test_clear_errors():
    with pytest.raises(SrlibError, match="crop HR"):
        psnr(np.zeros((8, 8, 3)), np.zeros((9, 8, 3)))
    with pytest.raises(SrlibError, match="leaves nothing"):
        psnr(np.zeros((8, 8, 3)), np.zeros((8, 8, 3)), crop=4)
    with pytest.raises(SrlibError, match="11x11"):
        ssim(np.zeros((12, 12, 3)), np.zeros((12, 12, 3)), crop=2)
    with pytest.raises(SrlibError, match="one image"):
        psnr(torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 8, 8))


def test_bicubic_overshoot_is_accepted_and_clipped_like_an_8_bit_file():
    """An upscaler's float output a little outside [0, 1] (ringing, within RANGE_MARGIN) is scored as its 8-bit file."""
    from srlib.evaluate import bicubic_upscale
    from srlib.metrics import RANGE_MARGIN

    rng = np.random.default_rng(2)
    hr = (rng.random((32, 32, 3)) > 0.5).astype(np.float64)  # hard edges: bicubic rings beyond [0, 1]
    sr = bicubic_upscale(hr[::4, ::4], 4)
    assert sr.min() < -0.01 and sr.max() > 1.01 and -RANGE_MARGIN < sr.min() and sr.max() < 1 + RANGE_MARGIN
    assert psnr(sr, hr) == pytest.approx(psnr(np.clip(sr, 0, 1), hr))
    with pytest.raises(SrlibError, match="values from"):
        psnr(hr + RANGE_MARGIN + 0.01, hr)
