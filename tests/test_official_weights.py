"""Official ESRGAN / Real-ESRGAN weights files load into srlib's RRDBNet and compute what the official code computes.

The files are not downloadable here, so state dicts are built with exactly the published
key names and shapes (github.com/xinntao/ESRGAN RRDBNet_arch.py; BasicSR rrdbnet_arch.py)
and checked against a re-implementation of the official forward written from those sources.
"""
import pickle

import pytest
import torch
import torch.nn.functional as F

from srlib import SrlibError
from srlib.evaluate import load_model_file
from srlib.models import OFFICIAL_WEIGHTS, build_generator, load_official
from srlib.models.official import missing_official_file

NAMES = {  # layout -> (trunk, dense block, body conv, up1, up2, hr conv)
    "esrgan": ("RRDB_trunk", "RDB", "trunk_conv", "upconv1", "upconv2", "HRconv"),
    "basicsr": ("body", "rdb", "conv_body", "conv_up1", "conv_up2", "conv_hr"),
}


def official_state(layout, nb, nf=8, gc=4, in_ch=3, seed=0):
    """Random tensors under the official key names, with the official shapes."""
    trunk, rdb, body, up1, up2, hr = NAMES[layout]
    g = torch.Generator().manual_seed(seed)
    shapes = {"conv_first": (nf, in_ch)}
    for n in range(nb):
        for k in (1, 2, 3):
            for j in range(1, 6):
                shapes[f"{trunk}.{n}.{rdb}{k}.conv{j}"] = (gc if j < 5 else nf, nf + (j - 1) * gc)
    shapes.update({body: (nf, nf), up1: (nf, nf), up2: (nf, nf), hr: (nf, nf), "conv_last": (3, nf)})
    state = {}
    for name, (out_ch, inp) in shapes.items():
        state[f"{name}.weight"] = torch.randn(out_ch, inp, 3, 3, generator=g) * (0.5 / (inp * 9) ** 0.5)
        state[f"{name}.bias"] = torch.randn(out_ch, generator=g) * 0.01
    return state


def official_forward(state, x, layout, nb):
    """The official RRDBNet forward, from the published code, on a state dict."""
    trunk, rdb, body, up1, up2, hr = NAMES[layout]

    def conv(name, t):
        return F.conv2d(t, state[f"{name}.weight"], state[f"{name}.bias"], padding=1)

    def lrelu(t):
        return F.leaky_relu(t, 0.2)

    in_ch = state["conv_first.weight"].shape[1]
    if in_ch == 12:  # BasicSR x2: pixel-unshuffle by 2
        b, c, h, w = x.shape
        x = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, c * 4, h // 2, w // 2)
    fea = conv("conv_first", x)
    t = fea
    for n in range(nb):
        rrdb_in = t
        for k in (1, 2, 3):
            feats = [t]
            for j in range(1, 5):
                feats.append(lrelu(conv(f"{trunk}.{n}.{rdb}{k}.conv{j}", torch.cat(feats, 1))))
            t = conv(f"{trunk}.{n}.{rdb}{k}.conv5", torch.cat(feats, 1)) * 0.2 + t
        t = t * 0.2 + rrdb_in
    fea = fea + conv(body, t)
    fea = lrelu(conv(up1, F.interpolate(fea, scale_factor=2, mode="nearest")))
    fea = lrelu(conv(up2, F.interpolate(fea, scale_factor=2, mode="nearest")))
    return conv("conv_last", lrelu(conv(hr, fea)))


def x_lr(h=10, w=12, seed=1):
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("legacy", [True, False])
def test_esrgan_layout_loads_and_matches_the_official_forward(tmp_path, legacy):
    state = official_state("esrgan", nb=2)
    path = tmp_path / "RRDB_ESRGAN_x4.pth"
    torch.save(state, path, _use_new_zipfile_serialization=not legacy)  # the 2018 files predate the zip format
    model, about = load_official(path)
    assert "ESRGAN" in about and "2 blocks x 8 ch, growth 4" in about and model.scale == 4
    x = x_lr()
    with torch.no_grad():
        assert torch.allclose(model(x), official_forward(state, x, "esrgan", 2), atol=1e-5)


def test_realesrgan_file_prefers_params_ema(tmp_path):
    ema, raw = official_state("basicsr", nb=3, seed=0), official_state("basicsr", nb=3, seed=5)
    path = tmp_path / "RealESRGAN_x4plus.pth"
    torch.save({"params": raw, "params_ema": ema}, path)
    model, about = load_official(path)
    assert "params_ema" in about and "3 blocks" in about
    x = x_lr()
    with torch.no_grad():
        out = model(x)
        assert torch.allclose(out, official_forward(ema, x, "basicsr", 3), atol=1e-5)
        assert not torch.allclose(out, official_forward(raw, x, "basicsr", 3), atol=1e-3)
    torch.save({"params": raw}, path)
    with torch.no_grad():
        assert torch.allclose(load_official(path)[0](x), official_forward(raw, x, "basicsr", 3), atol=1e-5)


@pytest.mark.parametrize("layout", ["esrgan", "basicsr"])
def test_paper_size_files_load_at_23_blocks_64_channels(tmp_path, layout):
    state = official_state(layout, nb=23, nf=64, gc=32)
    assert len(state) == len(build_generator("rrdbnet").state_dict())
    path = tmp_path / "official.pth"
    torch.save(state if layout == "esrgan" else {"params_ema": state}, path)
    model, about = load_official(path)
    assert "23 blocks x 64 ch, growth 32" in about
    assert sum(p.numel() for p in model.parameters()) == 16_697_987  # ESRGAN's published size
    x = x_lr(6, 5)
    with torch.no_grad():
        assert torch.allclose(model(x), official_forward(state, x, layout, 23), atol=1e-4)


def test_x2plus_unshuffles_its_input(tmp_path):
    state = official_state("basicsr", nb=1, in_ch=12)
    path = tmp_path / "RealESRGAN_x2plus.pth"
    torch.save({"params_ema": state}, path)
    model, _ = load_official(path)
    assert model.scale == 2
    x = x_lr(10, 12)
    with torch.no_grad():
        assert torch.allclose(model(x), official_forward(state, x, "basicsr", 1), atol=1e-5)
        assert model(x_lr(9, 7)).shape == (1, 3, 18, 14)  # odd sizes are padded, as Real-ESRGAN does
    with pytest.raises(SrlibError, match="holds a x2 model"):
        load_model_file(path, 4)


def test_evaluate_loads_an_official_file_as_a_model(tmp_path):
    state = official_state("esrgan", nb=1)
    path = tmp_path / "RRDB_ESRGAN_x4.pth"
    torch.save(state, path, _use_new_zipfile_serialization=False)
    model, about = load_model_file(path, 4)
    x = x_lr()
    with torch.no_grad():
        assert torch.allclose(model(x), official_forward(state, x, "esrgan", 1), atol=1e-5)
    assert str(path) in about


def one_error(exc) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_a_missing_or_unexpected_key_is_named(tmp_path):
    state = official_state("esrgan", nb=2)
    del state["RRDB_trunk.1.RDB2.conv3.bias"]
    state["RRDB_trunk.1.RDB2.conv9.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "cut.pth")
    with pytest.raises(SrlibError) as e:
        load_official(tmp_path / "cut.pth")
    msg = one_error(e)
    assert "missing RRDB_trunk.1.RDB2.conv3.bias" in msg and "unexpected RRDB_trunk.1.RDB2.conv9.weight" in msg
    assert "official ESRGAN layout" in msg


def test_a_wrong_shape_is_named(tmp_path):
    state = official_state("basicsr", nb=1)
    state["conv_hr.weight"] = torch.zeros(8, 8, 1, 1)
    torch.save({"params_ema": state}, tmp_path / "shape.pth")
    with pytest.raises(SrlibError) as e:
        load_official(tmp_path / "shape.pth")
    assert "conv_hr.weight has shape (8, 8, 1, 1)" in one_error(e)


def test_the_2018_key_names_are_recognised(tmp_path):
    state = {"model.0.weight": torch.zeros(8, 3, 3, 3), "model.1.sub.0.RDB1.conv1.0.weight": torch.zeros(4, 8, 3, 3),
             "trunk_conv.weight": torch.zeros(8, 8, 3, 3)}
    torch.save(state, tmp_path / "old.pth")
    with pytest.raises(SrlibError) as e:
        load_official(tmp_path / "old.pth")
    assert "transer_RRDB_models.py" in one_error(e)


class Payload:
    def __reduce__(self):
        return (print, ("this ran",))


def test_a_legacy_file_that_carries_code_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    torch.save({"conv_first.weight": Payload()}, path, _use_new_zipfile_serialization=False,
               pickle_module=pickle)
    with pytest.raises(SrlibError) as e:
        load_official(path)
    assert "refusing to load" in one_error(e)
    assert "this ran" not in capsys.readouterr().out


def test_a_damaged_file_is_one_line(tmp_path):
    path = tmp_path / "RealESRGAN_x4plus.pth"
    path.write_bytes(b"<html>404 Not Found</html>" * 20)  # a failed download
    with pytest.raises(SrlibError) as e:
        load_official(path)
    assert "damaged or incomplete" in one_error(e)


def test_a_missing_official_file_says_where_to_get_it(tmp_path):
    msg = missing_official_file(str(tmp_path / "RealESRGAN_x4plus.pth"))
    assert OFFICIAL_WEIGHTS["RealESRGAN_x4plus.pth"] in msg and "not shipped" in msg
    assert "releases/download/v0.1.0/RealESRGAN_x4plus.pth" in OFFICIAL_WEIGHTS["RealESRGAN_x4plus.pth"]
    assert missing_official_file("RRDB_ESRGAN_x4") and missing_official_file("srresnet_x4-cpu") is None
