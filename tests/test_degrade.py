import numpy as np
import pytest
import torch

from srlib.data import load_image
from srlib.degrade import bicubic_downsample, crop_to_multiple, cubic, imresize, quantize, resize_matrix
from srlib.errors import SrlibError


def matlab_agreement(datasets, name, scale, **kw):
    diffs = []
    for hr_path in sorted((datasets / name / f"x{scale}" / "HR").glob("*.png")):
        hr = load_image(hr_path).astype(np.float64)
        lr = np.round(load_image(hr_path.parent.parent / "LR" / hr_path.name).astype(np.float64) * 255)
        ours = np.round(np.clip(imresize(hr, 1 / scale, **kw), 0, 1) * 255)
        diffs.append(np.abs(ours - lr).ravel())
    d = np.concatenate(diffs)
    return d.mean(), (d <= 1).mean()


@pytest.mark.parametrize("name", ["Set5", "Set14"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_matches_matlab_lr_files(datasets, name, scale):
    mad, within1 = matlab_agreement(datasets, name, scale)
    assert mad < 0.3 and within1 >= 0.99, (mad, within1)
    mad8, within1_8 = matlab_agreement(datasets, name, scale, uint8_passes=True)
    assert mad8 < 0.05 and within1_8 >= 0.99, (mad8, within1_8)  # MATLAB's uint8 pipeline, nearly exact


def test_cubic_kernel_values():
    x = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    # Keys (a = -0.5): 1 at 0, 0.5625 at 0.5, 0 at integers, -0.0625 at 1.5
    assert np.allclose(cubic(x), [1.0, 0.5625, 0.0, -0.0625, 0.0, 0.0])


def test_resize_matrix_rows_sum_to_one_and_mirror():
    m = resize_matrix(10, 5, 0.5)
    assert m.shape == (5, 10)
    assert np.allclose(m.sum(1), 1)
    up = resize_matrix(4, 8, 2.0)
    assert np.allclose(up.sum(1), 1) and up.shape == (8, 4)


def test_sizes_follow_matlab_ceil_rule():
    x = torch.rand(1, 3, 255, 256)
    assert imresize(x, 1 / 3).shape[-2:] == (85, 86)
    assert imresize(x, size=(10, 20)).shape[-2:] == (10, 20)
    assert imresize(np.zeros((17, 9, 3)), 2).shape == (34, 18, 3)


def test_constant_image_stays_constant_and_scale_one_is_identity():
    x = torch.full((2, 3, 12, 16), 0.3, dtype=torch.float64)
    assert torch.allclose(imresize(x, 0.25), torch.full((2, 3, 3, 4), 0.3, dtype=torch.float64))
    y = torch.rand(1, 1, 8, 8, dtype=torch.float64)
    assert torch.allclose(imresize(y, 1.0), y)


def test_batched_equals_per_image_and_numpy_equals_torch():
    x = torch.rand(3, 3, 20, 24, dtype=torch.float64)
    batched = imresize(x, 0.5)
    for i in range(3):
        assert torch.allclose(batched[i], imresize(x[i], 0.5))
    a = x[0].permute(1, 2, 0).numpy()
    assert np.allclose(imresize(a, 0.5), batched[0].permute(1, 2, 0).numpy())


def test_differentiable():
    x = torch.rand(1, 1, 9, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: imresize(t, 0.5), (x,))


def test_uint8_passes_lands_on_the_8bit_grid():
    x = torch.rand(1, 3, 16, 16)
    y = bicubic_downsample(x, 4)
    assert torch.allclose(y * 255, torch.round(y * 255), atol=1e-4)
    assert torch.equal(quantize(y), y)


def test_crop_to_multiple():
    assert crop_to_multiple(np.zeros((10, 13, 3)), 4).shape == (8, 12, 3)
    assert crop_to_multiple(torch.zeros(1, 3, 10, 13), 3).shape == (1, 3, 9, 12)


@pytest.mark.parametrize("kw", [{}, {"scale": 0}, {"scale": -2}])
def test_bad_scale_is_a_clear_error(kw):
    with pytest.raises(SrlibError):
        imresize(torch.rand(1, 3, 8, 8), **kw)


def test_empty_output_is_a_clear_error():
    with pytest.raises(SrlibError, match="empty"):
        imresize(torch.rand(1, 3, 1, 1), size=(0, 0))


def test_integer_images_are_read_as_0_to_1():
    """A learner downsamples a uint8 photo: the LR is the same as for its float copy, not all white."""
    rng = np.random.default_rng(0)
    img8 = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    want = bicubic_downsample(img8.astype(np.float64) / 255, 4)
    np.testing.assert_allclose(bicubic_downsample(img8, 4), want, atol=1e-12)
    np.testing.assert_allclose(bicubic_downsample(img8.astype(np.uint16) * 257, 4), want, atol=1e-12)
    t = torch.from_numpy(img8).permute(2, 0, 1)
    np.testing.assert_allclose(imresize(t, 0.25).permute(1, 2, 0).numpy(), imresize(img8, 0.25), atol=1e-5)
    with pytest.raises(SrlibError, match="uint8 or uint16"):
        imresize(img8.astype(np.int64), 0.25)
