"""Network interpolation: a straight line in weight space between two generators."""
import pytest
import torch

from srlib.errors import SrlibError
from srlib.models import build_generator, interpolate_networks, interpolate_state


def two_generators():
    torch.manual_seed(0)
    a, b = build_generator("srresnet-tiny"), build_generator("srresnet-tiny")
    return a.eval(), b.eval()


def test_ends_are_the_two_networks_and_the_middle_is_the_mean():
    a, b = two_generators()
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(interpolate_networks(a, b, 0.0)(x), a(x))
        assert torch.allclose(interpolate_networks(a, b, 1.0)(x), b(x), atol=1e-6)
    mid = interpolate_networks(a, b, 0.5).state_dict()
    for k, v in mid.items():
        assert torch.allclose(v, (a.state_dict()[k] + b.state_dict()[k]) / 2, atol=1e-6), k


def test_inputs_are_left_untouched_and_integer_buffers_are_copied():
    a, b = two_generators()
    before = {k: v.clone() for k, v in a.state_dict().items()}
    interpolate_networks(a, b, 0.3)
    assert all(torch.equal(before[k], v) for k, v in a.state_dict().items())
    s = interpolate_state({"w": torch.zeros(2), "n": torch.tensor(3)}, {"w": torch.ones(2), "n": torch.tensor(9)}, 0.25)
    assert torch.allclose(s["w"], torch.full((2,), 0.25)) and s["n"].item() == 3


def test_different_architectures_and_bad_alpha_are_refused():
    a, _ = two_generators()
    with pytest.raises(SrlibError, match="same architecture"):
        interpolate_networks(a, build_generator("srresnet-cpu"), 0.5)
    with pytest.raises(SrlibError, match="shape"):
        interpolate_state({"w": torch.zeros(2)}, {"w": torch.zeros(3)}, 0.5)
    with pytest.raises(SrlibError, match="same architecture"):
        interpolate_state({"x": torch.zeros(1)}, {"y": torch.zeros(1)}, 0.5)
    with pytest.raises(SrlibError, match=r"\[0, 1\]"):
        interpolate_networks(a, a, 1.5)
