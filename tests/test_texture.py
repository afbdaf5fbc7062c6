"""Texture statistics: the spectrum sees what PSNR does not."""
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from srlib.data.samples import load_sample
from srlib.errors import SrlibError
from srlib.evaluate import mean_hf_db, mean_scores, score_benchmark
from srlib.texture import hf_power_ratio_db, high_frequency_power, radial_spectrum, texture_gap_db


def grey(img):
    return np.repeat(img[..., None], 3, axis=2)


def test_radial_spectrum_peaks_at_a_sinusoids_frequency():
    f = 0.2  # cycles per pixel
    x = np.arange(128)
    img = grey(0.5 + 0.3 * np.sin(2 * np.pi * f * x)[None, :].repeat(128, 0))
    freq, power = radial_spectrum(img, bins=50)
    assert abs(freq[np.argmax(power)] - f) <= 0.5 / 50 + 1e-9


def test_high_frequency_band_starts_at_the_lr_nyquist_limit():
    x = np.arange(128)
    low = grey(0.5 + 0.3 * np.sin(2 * np.pi * 0.05 * x)[None, :].repeat(128, 0))   # an LR x4 grid holds it
    high = grey(0.5 + 0.3 * np.sin(2 * np.pi * 0.3 * x)[None, :].repeat(128, 0))   # it does not
    assert high_frequency_power(low, 4) < 1e-4 * high_frequency_power(high, 4)


def test_ratio_is_zero_for_the_image_itself_negative_when_blurred_positive_with_noise():
    hr = load_sample("astronaut")[:256, :256].astype(np.float64)
    assert hf_power_ratio_db(hr, hr, 4) == pytest.approx(0.0, abs=1e-9)
    blurred = np.stack([gaussian_filter(hr[..., c], 1.5) for c in range(3)], axis=2)
    noisy = np.clip(hr + np.random.default_rng(0).normal(0, 0.05, hr.shape), 0, 1)
    assert hf_power_ratio_db(blurred, hr, 4) < -6
    assert hf_power_ratio_db(noisy, hr, 4) > 1
    assert texture_gap_db(blurred, hr, 4) == pytest.approx(-hf_power_ratio_db(blurred, hr, 4))


def test_bad_inputs_say_what_is_wrong():
    a = np.random.default_rng(0).random((32, 32, 3))
    with pytest.raises(SrlibError, match="HR is"):
        hf_power_ratio_db(a, a[:16], 4)
    with pytest.raises(SrlibError, match="flat image"):
        hf_power_ratio_db(a, np.full((32, 32, 3), 0.5), 4)
    with pytest.raises(SrlibError, match="border crop"):
        hf_power_ratio_db(a, a, 4, crop=16)


def test_bicubic_is_far_smoother_than_hr_on_set5(datasets, monkeypatch):
    monkeypatch.setenv("SRLIB_DATA_DIR", str(datasets))
    from srlib.data import load_benchmark

    scores = score_benchmark("bicubic", load_benchmark("Set5", 4), texture=True)
    assert mean_scores(scores)[0] == pytest.approx(28.42, abs=0.01)  # the texture pass leaves PSNR alone
    assert -16 < mean_hf_db(scores) < -10  # measured: -13.8 dB
    with pytest.raises(SrlibError, match="texture=True"):
        mean_hf_db(score_benchmark("bicubic", load_benchmark("Set5", 4)))
