"""`python -m srlib upscale`: what a photo carries is kept, inputs are never lost, every mistake is one line."""
import os

import numpy as np
import png
import pytest
import tifffile
import torch
from PIL import Image, ImageCms, ImageOps

from srlib.cli import main
from srlib.degrade import imresize
from srlib.infer import upscale_array
from srlib.models import COURSE_MODELS, RRDBNet, build_generator, save_generator
from srlib.models.official import OFFICIAL_WEIGHTS
from srlib.models.pretrained import shipped_path

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.fixture
def tiny(tmp_path):
    """(path, model) of a seeded srresnet-tiny x4 checkpoint."""
    torch.manual_seed(0)
    model = build_generator("srresnet-tiny", 4).eval()
    return save_generator(model, tmp_path / "tiny.pt", "srresnet-tiny", 4), model


@pytest.fixture
def bicubic_net(tmp_path):
    """srresnet-tiny whose tail is zero: exactly its bicubic image skip, so a downscaled output is close to the input."""
    model = build_generator("srresnet-tiny", 4).eval()
    with torch.no_grad():
        model.tail.weight.zero_()
        model.tail.bias.zero_()
    return save_generator(model, tmp_path / "bicubic.pt", "srresnet-tiny", 4), model


def run(capsys, *args):
    """(exit status, stdout lines, stderr lines) of `python -m srlib upscale ARGS`."""
    try:
        code = main(["upscale", *map(str, args)])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def smooth(h, w, c, seed=0, peak=255):
    """A smooth random image (low frequencies only), as integers up to `peak`."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    planes = [0.5 + 0.2 * np.sin(2 * np.pi * (rng.uniform(0.3, 1) * x + rng.uniform(0.3, 1) * y) + rng.uniform(0, 6))
              + 0.2 * x * rng.uniform(-1, 1) for _ in range(c)]
    dtype = np.uint16 if peak > 255 else np.uint8
    return np.round(np.clip(np.stack(planes, -1), 0, 1) * peak).astype(dtype)


def reference(model, rgb_float):
    return upscale_array(model, np.ascontiguousarray(rgb_float, np.float32), progress=False)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_kept_and_upscaled_by_bicubic(capsys, tmp_path, tiny, mode):
    path, model = tiny
    arr = smooth(10, 12, 4 if mode == "RGBA" else 2)
    arr[..., -1] = np.linspace(0, 255, 12).astype(np.uint8)[None, :]
    Image.fromarray(arr, mode).save(tmp_path / "a.png")
    code, out, err = run(capsys, tmp_path / "a.png", "--model", path)
    assert code == 0 and err == []
    res = Image.open(tmp_path / "a_x4.png")
    assert res.mode == mode and res.size == (48, 40)
    got = np.asarray(res).astype(int)
    alpha = np.clip(imresize(arr[..., -1].astype(np.float64) / 255, 4), 0, 1)
    assert np.abs(got[..., -1] - np.round(alpha * 255)).max() <= 1
    colour = arr[..., :-1].astype(np.float32) / 255
    sr = reference(model, colour if mode == "RGBA" else np.repeat(colour, 3, axis=2))
    want = sr if mode == "RGBA" else (sr @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    assert np.abs(got[..., :-1] - np.round(want * 255)).max() <= 1


def test_grey_stays_grey(capsys, tmp_path, tiny):
    path, model = tiny
    arr = smooth(9, 11, 1)[..., 0]
    Image.fromarray(arr, "L").save(tmp_path / "g.png")
    assert run(capsys, tmp_path / "g.png", "--model", path)[0] == 0
    res = Image.open(tmp_path / "g_x4.png")
    assert res.mode == "L" and res.size == (44, 36)
    sr = reference(model, np.repeat(arr[..., None].astype(np.float32) / 255, 3, axis=2))
    luma = sr @ np.array([0.299, 0.587, 0.114], np.float32)
    assert np.abs(np.asarray(res).astype(int) - np.round(luma * 255)).max() <= 1


def read_png16(path):
    w, h, rows, info = png.Reader(filename=str(path)).asDirect()
    return np.vstack([np.asarray(r, np.uint16) for r in rows]).reshape(h, w, info["planes"]), info


def check_16bit(arr_in, got, model):
    """Exactly the 16-bit rounding of the float output, and, downscaled by 4, close to the input."""
    assert got.dtype == np.uint16
    want = np.round(reference(model, arr_in.astype(np.float32) / 65535) * 65535)
    assert np.abs(got.astype(np.int64) - want).max() <= 1  # an 8-bit step would be 257
    assert (got % 257 != 0).mean() > 0.9
    back = imresize(got.astype(np.float64) / 65535, 0.25)
    assert np.abs(back - arr_in / 65535)[2:-2, 2:-2].max() < 2e-3


def test_16bit_png_round_trip(capsys, tmp_path, bicubic_net):
    path, model = bicubic_net
    arr = smooth(16, 20, 3, peak=65535)
    arr[arr % 257 == 0] += 1  # values an 8-bit file cannot hold
    with open(tmp_path / "deep.png", "wb") as f:
        png.Writer(20, 16, greyscale=False, bitdepth=16).write_array(f, arr.reshape(-1))
    code, out, err = run(capsys, tmp_path / "deep.png", "--model", path)
    assert code == 0 and "16-bit" in out[-1]
    got, info = read_png16(tmp_path / "deep_x4.png")
    assert info["bitdepth"] == 16 and got.shape == (64, 80, 3)
    check_16bit(arr, got, model)


def test_16bit_tiff_round_trip_keeps_icc_and_dpi(capsys, tmp_path, bicubic_net):
    path, model = bicubic_net
    arr = smooth(16, 20, 3, seed=3, peak=65535)
    tifffile.imwrite(tmp_path / "deep.tif", arr, photometric="rgb", iccprofile=SRGB, resolution=(300, 300),
                     resolutionunit="inch")
    assert run(capsys, tmp_path / "deep.tif", "--model", path)[0] == 0
    got = tifffile.imread(tmp_path / "deep_x4.tif")
    assert got.shape == (64, 80, 3)
    check_16bit(arr, got, model)
    with Image.open(tmp_path / "deep_x4.tif") as im:
        assert im.info["icc_profile"] == SRGB and round(im.info["dpi"][0]) == 300
    # the same 16-bit picture written as PNG: 16 bits, and the profile in its iCCP chunk
    assert run(capsys, tmp_path / "deep.tif", "--model", path, "-o", tmp_path / "deep.png")[0] == 0
    got, info = read_png16(tmp_path / "deep.png")
    assert info["bitdepth"] == 16
    check_16bit(arr, got, model)
    with Image.open(tmp_path / "deep.png") as im:
        assert im.info["icc_profile"] == SRGB


def test_exif_rotation_is_applied_and_reset(capsys, tmp_path, tiny):
    path, model = tiny
    arr = smooth(8, 12, 3)
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112], exif[0x010F] = 6, "srlib-test-camera"  # Orientation: rotate 90 CW to view; Make
    im.save(tmp_path / "r.png", exif=exif, dpi=(300, 300))
    assert run(capsys, tmp_path / "r.png", "--model", path)[0] == 0
    with Image.open(tmp_path / "r.png") as src:
        upright = np.asarray(ImageOps.exif_transpose(src)).astype(np.float32) / 255
    with Image.open(tmp_path / "r_x4.png") as res:
        assert res.size == (32, 48)  # 8x12 upright -> portrait
        assert res.getexif().get(0x0112, 1) == 1 and res.getexif()[0x010F] == "srlib-test-camera"
        assert round(res.info["dpi"][0]) == 300
        got = np.asarray(res).astype(int)
    assert np.abs(got - np.round(reference(model, upright) * 255)).max() <= 1


def test_icc_profile_is_kept(capsys, tmp_path, tiny):
    Image.fromarray(smooth(8, 8, 3)).save(tmp_path / "c.png", icc_profile=SRGB)
    assert run(capsys, tmp_path / "c.png", "--model", tiny[0])[0] == 0
    with Image.open(tmp_path / "c_x4.png") as res:
        assert res.info["icc_profile"] == SRGB


@pytest.mark.parametrize("ext, fmt", [(".jpg", "JPEG"), (".webp", "WEBP")])
def test_jpeg_and_webp_outputs_keep_quality_and_profile(capsys, tmp_path, tiny, ext, fmt):
    path, model = tiny
    arr = smooth(24, 24, 3)
    Image.fromarray(arr).save(tmp_path / f"p{ext}", icc_profile=SRGB, quality=98)
    assert run(capsys, tmp_path / f"p{ext}", "--model", path)[0] == 0
    with Image.open(tmp_path / f"p{ext}") as src:
        lr = np.asarray(src).astype(np.float32) / 255
    with Image.open(tmp_path / f"p_x4{ext}") as res:
        assert res.format == fmt and res.size == (96, 96) and res.info["icc_profile"] == SRGB
        got = np.asarray(res.convert("RGB")).astype(np.float64) / 255
    mse = np.mean((got - reference(model, lr)) ** 2)
    # quality 95 (JPEG 4:4:4; WebP is always 4:2:0): here JPEG 38.8 dB, WebP 36.2; quality 85 gives 34.7 and 34.4
    assert 10 * np.log10(1 / mse) > {"JPEG": 37.5, "WEBP": 35.5}[fmt]


def test_a_decompression_bomb_is_refused_with_the_setting(capsys, tmp_path, tiny, monkeypatch):
    Image.fromarray(smooth(20, 20, 3)).save(tmp_path / "big.png")
    monkeypatch.setenv("SRLIB_MAX_PIXELS", "100")
    code, out, err = run(capsys, tmp_path / "big.png", "--model", tiny[0])
    assert code == 1 and not (tmp_path / "big_x4.png").exists()
    assert "too large" in err[0] and "0.0001 megapixels" in err[0] and "SRLIB_MAX_PIXELS=" in err[0]
    monkeypatch.setenv("SRLIB_MAX_PIXELS", "400")
    assert run(capsys, tmp_path / "big.png", "--model", tiny[0])[0] == 0


def test_the_input_is_never_overwritten(capsys, tmp_path, tiny):
    Image.fromarray(smooth(8, 8, 3)).save(tmp_path / "a.png")
    Image.fromarray(smooth(8, 8, 3, seed=1)).save(tmp_path / "a_x4.png")  # an input named like an output
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.png")}
    for args in ([tmp_path / "a.png", "-o", tmp_path / "a.png"], [tmp_path / "a.png", "-o", tmp_path / "a.png",
                                                                    "--overwrite"],
                 [tmp_path, "--overwrite"], [tmp_path / "a.png", tmp_path / "a_x4.png", "-o", tmp_path]):
        code, out, err = run(capsys, *args, "--model", tiny[0])
        assert code == 2 and len(err) == 1 and "it is an input of this run" in err[0], args
    code, out, err = run(capsys, tmp_path / "a.png", "--model", tiny[0])  # a_x4.png exists: not replaced either
    assert code == 2 and "already exists; nothing was written" in err[0] and "--overwrite" in err[0]
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.png")} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a_x4.png", "tiny.pt"]  # no temporary left
    (tmp_path / "a_x4.png").chmod(0o640)
    code, out, err = run(capsys, tmp_path / "a.png", "--model", tiny[0], "--overwrite")
    assert code == 0 and (tmp_path / "a_x4.png").read_bytes() != before["a_x4.png"]
    assert (tmp_path / "a_x4.png").stat().st_mode & 0o777 == 0o640  # a replaced file keeps its permissions


def test_outputs_get_the_usual_permissions(capsys, tmp_path):
    Image.fromarray(smooth(8, 8, 3)).save(tmp_path / "a.png")
    mask = os.umask(0o022)
    try:
        assert run(capsys, tmp_path / "a.png", "--model", "bicubic", "--tile", "0")[0] == 0
    finally:
        os.umask(mask)
    assert (tmp_path / "a_x4.png").stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0o600


def test_a_bad_file_in_a_folder_is_reported_and_the_others_written(capsys, tmp_path, tiny):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(smooth(8, 8, 3)).save(src / "a.png")
    (src / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"cut off" * 10)
    Image.fromarray(smooth(8, 8, 3, seed=2)).save(src / "c.jpg")
    (src / "notes.txt").write_text("not an image")
    code, out, err = run(capsys, src, "-o", tmp_path / "out", "--model", tiny[0])
    assert code == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_x4.png", "c_x4.jpg"]
    assert len(err) == 2 and err[0].startswith(f"error: {src / 'b.png'}: cannot read") and "1 image failed" in err[1]
    assert len(out) == 3 and out[0].startswith("model: ")


def test_a_checkpoint_of_another_scale_is_one_line(capsys, tmp_path):
    x2 = save_generator(build_generator("srresnet-tiny", 2), tmp_path / "x2.pt", "srresnet-tiny", 2)
    Image.fromarray(smooth(8, 8, 3)).save(tmp_path / "a.png")
    code, out, err = run(capsys, tmp_path / "a.png", "--model", x2)
    assert code == 2 and len(err) == 1 and "holds a x2 model" in err[0] and "--scale 2" in err[0]
    assert run(capsys, tmp_path / "a.png", "--model", x2, "--scale", "2")[0] == 0
    assert Image.open(tmp_path / "a_x2.png").size == (16, 16)


def test_a_corrupt_model_file_is_one_line(capsys, tmp_path):
    (tmp_path / "model.pt").write_bytes(b"PK\x03\x04 half a download")
    Image.fromarray(smooth(8, 8, 3)).save(tmp_path / "a.png")
    code, out, err = run(capsys, tmp_path / "a.png", "--model", tmp_path / "model.pt")
    assert code == 2 and len(err) == 1 and "damaged or incomplete" in err[0]


def test_an_official_file_that_is_not_here_says_where_to_get_it(capsys, tmp_path):
    Image.fromarray(smooth(8, 8, 3)).save(tmp_path / "a.png")
    code, out, err = run(capsys, tmp_path / "a.png", "--model", tmp_path / "RealESRGAN_x4plus.pth")
    assert code == 2 and len(err) == 1 and OFFICIAL_WEIGHTS["RealESRGAN_x4plus.pth"] in err[0]


def official_keys(net, rdb: str, names: dict) -> dict:
    """srlib's RRDBNet state under an official file's key names (the same weights, renamed).

    body.0.blocks.K.convs.J.weight -> {rdb}{K+1}.conv{J+1}.weight; other layers by `names`.
    """
    state = {}
    for key, value in net.state_dict().items():
        if key.startswith("body.0.blocks."):
            k, _, j, leaf = key.split(".")[3:]
            key = f"{rdb}{int(k) + 1}.conv{int(j) + 1}.{leaf}"
        else:
            head, leaf = key.rsplit(".", 1)
            key = f"{names.get(head, head)}.{leaf}"
        state[key] = value
    return state


def test_an_official_esrgan_file_upscales(capsys, tmp_path):
    torch.manual_seed(0)
    net = RRDBNet(4, channels=8, blocks=1, growth=4).eval()
    state = official_keys(net, "RRDB_trunk.0.RDB", {"conv_body": "trunk_conv", "ups.0": "upconv1",
                                                     "ups.1": "upconv2", "conv_hr": "HRconv"})
    torch.save(state, tmp_path / "RRDB_ESRGAN_x4.pth", _use_new_zipfile_serialization=False)
    arr = smooth(8, 10, 3)
    Image.fromarray(arr).save(tmp_path / "a.png")
    code, out, err = run(capsys, tmp_path / "a.png", "--model", tmp_path / "RRDB_ESRGAN_x4.pth")
    assert code == 0 and "official ESRGAN" in out[0]
    got = np.asarray(Image.open(tmp_path / "a_x4.png")).astype(int)
    assert np.abs(got - np.round(reference(net, arr.astype(np.float32) / 255) * 255)).max() <= 1


def test_the_default_model_is_named(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SRLIB_CHECKPOINT_DIR", str(tmp_path / "none"))
    Image.fromarray(smooth(8, 8, 3)).save(tmp_path / "a.png")
    code, out, err = run(capsys, tmp_path / "a.png")
    real_world = "realesrgan_x4-cpu" in COURSE_MODELS and shipped_path("realesrgan_x4-cpu").is_file()
    assert code == 0 and out[0].startswith(f"model: {'realesrgan_x4-cpu' if real_world else 'esrgan_x4-cpu'}, the default")


def test_no_images_or_a_missing_path_is_one_line(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    for target, words in ((tmp_path / "empty", "holds no"), (tmp_path / "missing.png", "no such file or folder")):
        code, out, err = run(capsys, target, "--model", "bicubic")
        assert code == 2 and len(err) == 1 and words in err[0]


def test_an_rgba_image_cannot_become_a_jpeg(capsys, tmp_path):
    Image.fromarray(smooth(8, 8, 4), "RGBA").save(tmp_path / "a.png")
    code, out, err = run(capsys, tmp_path / "a.png", "-o", tmp_path / "a.jpg", "--model", "bicubic")
    assert code == 1 and "JPEG has no alpha channel" in err[0] and not (tmp_path / "a.jpg").exists()


def test_a_realesrgan_x2plus_file_runs_tiled_on_its_2x2_grid(capsys, tmp_path):
    # pixel-unshuffle by 2: tiles must start on even pixels (srlib.infer aligns them to model.tile_multiple)
    from srlib.models import UnshuffleRRDBNet

    torch.manual_seed(0)
    net = UnshuffleRRDBNet(2, channels=8, blocks=1, growth=4).eval()
    state = official_keys(net, "body.0.rdb", {"ups.0": "conv_up1", "ups.1": "conv_up2"})
    torch.save({"params_ema": state}, tmp_path / "RealESRGAN_x2plus.pth")
    arr = np.random.default_rng(0).integers(0, 256, (101, 97, 3), dtype=np.uint8)  # odd sizes, several tiles of 16
    Image.fromarray(arr).save(tmp_path / "a.png")
    code, out, err = run(capsys, tmp_path / "a.png", "--model", tmp_path / "RealESRGAN_x2plus.pth", "--scale", "2",
                         "--tile", "16")
    assert code == 0
    with torch.no_grad():
        want = net(torch.from_numpy(arr.astype(np.float32) / 255).permute(2, 0, 1)[None]).clamp(0, 1)
    got = np.asarray(Image.open(tmp_path / "a_x2.png")).astype(int)
    assert np.abs(got - np.round(want[0].permute(1, 2, 0).numpy() * 255)).max() <= 1


def test_the_python_api_takes_a_module_and_checks_its_scale(tmp_path, tiny):
    from srlib import SrlibError
    from srlib.upscale import upscale_paths

    Image.fromarray(smooth(8, 8, 3)).save(tmp_path / "a.png")
    lines = []
    assert upscale_paths([tmp_path / "a.png"], model=tiny[1], print_=lines.append) == []
    assert lines[0] == "model: a SRResNet passed in" and Image.open(tmp_path / "a_x4.png").size == (32, 32)
    with pytest.raises(SrlibError, match="upscales x4, not x2"):
        upscale_paths([tmp_path / "a.png"], model=tiny[1], scale=2)


def test_running_out_of_memory_is_a_failed_image_not_a_traceback(capsys, tmp_path):
    from srlib.upscale import upscale_paths

    Image.fromarray(smooth(8, 8, 3)).save(tmp_path / "a.png")

    def greedy(x):
        raise MemoryError("Unable to allocate 7.7 GiB")

    net = torch.nn.Module()
    net.scale, net.forward = 4, greedy
    failures = upscale_paths([tmp_path / "a.png"], model=net, tile=None, print_=lambda line: None)
    assert len(failures) == 1 and "not enough memory (MemoryError)" in failures[0][1]
    assert "32x32" in failures[0][1] and not (tmp_path / "a_x4.png").exists()
