"""Data, metrics and downloads under a learner's mistakes: each test is one case "a learner does X -> gets Y".

Every case reproduces a defect of issue 8 (the item number is in the docstring): without the fix, the test fails.
Y is always one of: the right number, or one `SrlibError` line that says what to do (exit status 2 on the
command line), never a bare traceback and never a plausible wrong number.
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import io
import os
import pathlib
import socket
import struct
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from srlib import cli
from srlib.data import (
    PairedPatchDataset, load_benchmark, load_image, load_training_images, save_image, to_tensor,
)
from srlib.data import download as dl
from srlib.data.download import ManifestRow, download, pixels_sha256
from srlib.errors import SrlibError
from srlib.evaluate import bicubic_upscale, score_benchmark
from srlib.metrics import psnr, ssim
from srlib.texture import hf_power_ratio_db

REPO, COMMIT = "someone/sr-data", "0123456789abcdef0123456789abcdef01234567"


# ------------------------------------------------------------------------------------------ helpers

def smooth_pair(seed=0, size=48, noise=6):
    """A smooth uint8 'photo' (HR) and a noisy copy of it (SR), as 8-bit files hold them."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    hr = np.stack([0.5 + 0.4 * np.sin(6 * xx + c) * np.cos(4 * yy) for c in range(3)], axis=-1)
    hr8 = np.round(hr * 255).astype(np.uint8)
    sr8 = np.clip(hr8 + rng.integers(-noise, noise + 1, hr8.shape), 0, 255).astype(np.uint8)
    return sr8, hr8


def png_bytes(pixels: np.ndarray, fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt)
    return buf.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header that claims width x height pixels, in under 100 bytes (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def make_set5(root: Path, hr_bytes: bytes | None = None) -> None:
    """A one-image Set5 x4 in `root` (HR 32x32, LR 8x8), or with `hr_bytes` as its HR file."""
    rng = np.random.default_rng(0)
    base = root / "Set5" / "x4"
    for d, side in (("HR", 32), ("LR", 8)):
        (base / d).mkdir(parents=True, exist_ok=True)
        (base / d / "img_001.png").write_bytes(png_bytes(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)))
    if hr_bytes is not None:
        (base / "HR" / "img_001.png").write_bytes(hr_bytes)


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Server:
    """Serves a folder laid out as {repo}/{commit}/{source_path} on 127.0.0.1 (no internet needed)."""

    def __init__(self, directory: Path, handler=None):
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler or functools.partial(Quiet, directory=str(directory)))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def publish(self, local_path: str, data: bytes, conversion="copy", content_sha256="") -> ManifestRow:
        source = f"data/{local_path.replace('/', '_')}"
        (self.dir / REPO / COMMIT / source).parent.mkdir(parents=True, exist_ok=True)
        (self.dir / REPO / COMMIT / source).write_bytes(data)
        return ManifestRow(local_path, REPO, COMMIT, source, sha(data), conversion, content_sha256)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "server")
    yield s
    s.close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} if root.exists() else set()


# ------------------------------------------------------------- 6: a scale the data set does not have

def test_evaluate_scale_5_on_set5_is_refused_not_scored_on_samples(capsys, empty_root):
    """6. `evaluate --scale 5` (Set5 has x2-x4) -> exit 2, one line naming the scales; no fallback to the samples."""
    code, out, err = run_cli(capsys, "evaluate", "--dataset", "Set5", "--scale", "5")
    line = one_error_line(err)
    assert code == 2 and "x5" in line and "x2, x3, x4" in line and "embedded" not in out + err


def test_evaluate_bsd100_at_x2_is_refused(capsys, empty_root):
    """6. `evaluate --dataset BSD100 --scale 2` (the course's BSD100 is x4 only, as in shared/datasets) -> exit 2."""
    code, out, err = run_cli(capsys, "evaluate", "--dataset", "BSD100", "--scale", "2")
    line = one_error_line(err)
    assert code == 2 and "x4 only" in line and "download" not in line and "embedded" not in out


def test_load_benchmark_with_fallback_refuses_a_missing_scale(empty_root):
    """6. load_benchmark("Set5", 5) with fallback on -> SrlibError, not 5 embedded samples at x5."""
    with pytest.raises(SrlibError, match="not x5"):
        load_benchmark("Set5", 5)


# ------------------------------------------------------------- 7: images of the wrong type or range

def test_psnr_and_ssim_of_uint8_images_are_those_of_the_same_images_in_0_1():
    """7. psnr/ssim on uint8 arrays -> the same dB as on the images / 255 (was 16 dB instead of 31)."""
    sr8, hr8 = smooth_pair()
    want_p, want_s = psnr(sr8 / 255.0, hr8 / 255.0, crop=4), ssim(sr8 / 255.0, hr8 / 255.0, crop=4)
    assert 25 < want_p < 45
    assert psnr(sr8, hr8, crop=4) == pytest.approx(want_p, abs=1e-9)
    assert ssim(sr8, hr8, crop=4) == pytest.approx(want_s, abs=1e-12)
    assert psnr(torch.from_numpy(sr8).permute(2, 0, 1), torch.from_numpy(hr8).permute(2, 0, 1), crop=4) == pytest.approx(want_p)


def test_psnr_of_uint16_images_scales_by_65535():
    """7. psnr on uint16 arrays -> the same dB as on the images / 65535."""
    sr8, hr8 = smooth_pair(1)
    sr16, hr16 = (x.astype(np.uint16) * 257 for x in (sr8, hr8))
    assert psnr(sr16, hr16, crop=4) == pytest.approx(psnr(sr8 / 255.0, hr8 / 255.0, crop=4), abs=1e-9)


def test_float_image_in_0_255_is_refused_with_the_fix():
    """7. psnr of float images in 0..255 -> SrlibError "divide by 255" (was 6.78 dB, plausible and wrong)."""
    sr8, hr8 = smooth_pair()
    with pytest.raises(SrlibError, match="divide by 255"):
        psnr(sr8.astype(np.float64), hr8.astype(np.float64))
    with pytest.raises(SrlibError, match="divide by 255"):
        ssim(sr8.astype(np.float32), hr8 / 255.0)


def test_image_in_minus_1_to_1_is_refused():
    """7. psnr of tanh-style images in -1..1 -> SrlibError saying (x + 1) / 2."""
    sr8, hr8 = smooth_pair()
    with pytest.raises(SrlibError, match=r"\(x \+ 1\) / 2"):
        psnr(sr8 / 127.5 - 1, hr8 / 255.0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_an_image_is_refused(bad):
    """7. a model output holding NaN or inf -> SrlibError (was a NaN or a finite score after clipping)."""
    sr8, hr8 = smooth_pair()
    sr = sr8 / 255.0
    sr[3, 3, 1] = bad
    with pytest.raises(SrlibError, match="NaN or infinite"):
        psnr(sr, hr8 / 255.0)


@pytest.mark.parametrize("crop", [-2, 1.5, True])
def test_negative_or_fractional_crop_is_refused(crop):
    """7. psnr(..., crop=-2) -> SrlibError (was NaN from an empty slice)."""
    sr8, hr8 = smooth_pair()
    with pytest.raises(SrlibError, match="crop"):
        psnr(sr8, hr8, crop=crop)


def test_texture_statistic_refuses_0_255_data():
    """7. hf_power_ratio_db on a 0..255 float SR -> SrlibError (it was clipped to white and gave a number)."""
    sr8, hr8 = smooth_pair()
    with pytest.raises(SrlibError, match="divide by 255"):
        hf_power_ratio_db(sr8.astype(np.float64), hr8 / 255.0, scale=4)


def test_evaluate_with_a_method_returning_0_255_names_the_image():
    """7. score_benchmark with an upscaler that returns 0..255 -> SrlibError naming the set and the image."""
    sr8, hr8 = smooth_pair(size=32)
    from srlib.data import BenchmarkSet, ImagePair

    bench = BenchmarkSet("mine", 4, "a test", [ImagePair("photo_1", hr8 / 255.0, (hr8 / 255.0)[::4, ::4])])
    with pytest.raises(SrlibError, match="mine x4, photo_1: .*divide by 255"):
        score_benchmark(lambda lr, s: bicubic_upscale(lr, s) * 255, bench)


def test_model_toggle_shows_the_right_psnr_for_uint8_images():
    """7. widgets.model_toggle with uint8 images (its docs accept them) -> the PSNR of the images in [0, 1]."""
    from srlib.widgets import model_toggle

    sr8, hr8 = smooth_pair()
    widget = model_toggle({"SR": sr8, "HR": hr8}, reference="HR", crop=4)
    assert f"PSNR {psnr(sr8 / 255.0, hr8 / 255.0, crop=4):.2f} dB" in widget.texts[widget.names.index("SR")]


def test_training_patches_from_uint8_images_are_in_0_1():
    """7. PairedPatchDataset of uint8 images -> patches in [0, 1] (were floats up to 255)."""
    _, hr8 = smooth_pair(size=64)
    lr, hr = PairedPatchDataset([hr8], scale=4, patch_size=32, length=2)[0]
    assert hr.max() <= 1 and lr.max() <= 1.01 and hr.max() > 0.5
    assert to_tensor(hr8).max() <= 1


# ------------------------------------------------------------- 8: saving images

def test_saving_an_image_times_255_is_refused_and_writes_nothing(tmp_path):
    """8. save_image(path, img * 255) -> SrlibError "divide by 255", no file (was an all-white PNG)."""
    _, hr8 = smooth_pair()
    with pytest.raises(SrlibError, match="divide by 255"):
        save_image(tmp_path / "out.png", hr8 / 255.0 * 255)
    assert not (tmp_path / "out.png").exists()


def test_saving_with_an_unknown_extension_lists_the_supported_ones(tmp_path):
    """8. save_image("out.imgx", img) -> one SrlibError line listing .png, .jpg, ... (was a bare ValueError)."""
    _, hr8 = smooth_pair()
    with pytest.raises(SrlibError, match=r"\.png, \.jpg"):
        save_image(tmp_path / "out.imgx", hr8)
    assert files_under(tmp_path) == set()


# ------------------------------------------------------------- 9: decompression bombs

def test_a_png_claiming_50000x50000_is_refused_before_decoding(tmp_path):
    """9. load_image of a tiny PNG claiming 50000x50000 -> SrlibError naming the limit and the setting (was PIL's DecompressionBombError)."""
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(50000, 50000))
    with pytest.raises(SrlibError, match="50000x50000 = 2500 megapixels.*limit is 40 megapixels.*SRLIB_MAX_PIXELS"):
        load_image(path)


def test_a_png_claiming_10000x10000_is_refused_not_decoded_with_a_warning(tmp_path, recwarn):
    """9. load_image of a small PNG claiming 10000x10000 (100 MP) -> SrlibError, no PIL warning, nothing decoded."""
    path = tmp_path / "big.png"
    path.write_bytes(png_claiming(10000, 10000))
    with pytest.raises(SrlibError, match="10000x10000"):
        load_image(path)
    assert not [w for w in recwarn if "DecompressionBomb" in type(w.message).__name__]


def test_the_pixel_limit_is_a_setting(tmp_path, monkeypatch):
    """9. SRLIB_MAX_PIXELS=100 -> a 20x20 image is refused; SRLIB_MAX_PIXELS=400 -> it loads; a bad value -> one line."""
    path = tmp_path / "small.png"
    path.write_bytes(png_bytes(np.zeros((20, 20, 3), np.uint8)))
    monkeypatch.setenv("SRLIB_MAX_PIXELS", "100")
    with pytest.raises(SrlibError, match="0.0004 megapixels"):
        load_image(path)
    monkeypatch.setenv("SRLIB_MAX_PIXELS", "400")
    assert load_image(path).shape == (20, 20, 3)
    monkeypatch.setenv("SRLIB_MAX_PIXELS", "lots")
    with pytest.raises(SrlibError, match="SRLIB_MAX_PIXELS"):
        load_image(path)


def test_evaluate_on_a_set_holding_a_bomb_is_one_line(capsys, empty_root):
    """9. `evaluate` on a Set5 whose HR file is a bomb -> exit 2, one line naming the file (was a traceback)."""
    make_set5(empty_root, png_claiming(50000, 50000))
    code, _, err = run_cli(capsys, "evaluate", "--dataset", "Set5")
    assert code == 2 and "img_001.png" in one_error_line(err) and "megapixels" in err


def test_training_images_holding_a_bomb_are_one_error(tmp_path):
    """9. load_training_images over a T91 folder holding a bomb -> SrlibError (training used to crash)."""
    (tmp_path / "train" / "T91").mkdir(parents=True)
    (tmp_path / "train" / "T91" / "t1.png").write_bytes(png_claiming(50000, 50000))
    with pytest.raises(SrlibError, match="t1.png.*megapixels"):
        load_training_images(("T91",), root=tmp_path)


# ------------------------------------------------------------- 10: folders and permissions

def deny_listing_under(monkeypatch, root: Path):
    """Simulate `chmod 000 root` (the tests may run as root, whom chmod does not stop): nothing inside can be listed or stat'ed."""
    real_iterdir, real_is_dir = pathlib.Path.iterdir, pathlib.Path.is_dir

    def iterdir(self):
        if self.is_relative_to(root):
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    def is_dir(self):
        if self.is_relative_to(root) and self != root:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_dir(self)

    monkeypatch.setattr(pathlib.Path, "iterdir", iterdir)
    monkeypatch.setattr(pathlib.Path, "is_dir", is_dir)


def test_info_on_an_unreadable_data_root_lists_the_sets_and_says_why(capsys, empty_root, monkeypatch):
    """10. `info` with an unreadable data root -> each set listed as 'unreadable' plus what to do (was a PermissionError)."""
    make_set5(empty_root)
    deny_listing_under(monkeypatch, empty_root)
    code, out, err = run_cli(capsys, "info")
    assert code == 0 and "Traceback" not in err
    assert "Set5     unreadable" in out and "permission denied" in out and "chmod" in out


def test_evaluate_on_an_unreadable_data_root_is_one_line(capsys, empty_root, monkeypatch):
    """10. `evaluate` with an unreadable data root -> exit 2, one line "permission denied" (was a PermissionError)."""
    make_set5(empty_root)
    deny_listing_under(monkeypatch, empty_root)
    code, _, err = run_cli(capsys, "evaluate")
    assert code == 2 and "permission denied" in one_error_line(err)


def test_a_folder_passed_as_an_image_is_called_a_folder(tmp_path):
    """10. load_image(a folder) -> "is a folder" (was "image not found")."""
    (tmp_path / "photos").mkdir()
    with pytest.raises(SrlibError, match="photos is a folder"):
        load_image(tmp_path / "photos")


def test_an_unreadable_image_says_permission_not_redownload(tmp_path, monkeypatch):
    """10. load_image of a file without read permission -> "permission denied", not "Re-download"."""
    path = tmp_path / "x.png"
    path.write_bytes(png_bytes(np.zeros((4, 4, 3), np.uint8)))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Image, "open", refuse)
    with pytest.raises(SrlibError, match="permission denied") as info:
        load_image(path)
    assert "download" not in str(info.value).lower()


def test_a_damaged_file_of_a_data_set_names_the_download_command(empty_root):
    """10/18. a damaged T91 file -> the message names `python -m srlib download T91` (which repairs it)."""
    (empty_root / "train" / "T91").mkdir(parents=True)
    (empty_root / "train" / "T91" / "t1.png").write_bytes(b"\x89PNG\r\n\x1a\n damaged")
    with pytest.raises(SrlibError, match="python -m srlib download T91"):
        load_image(empty_root / "train" / "T91" / "t1.png")


# ------------------------------------------------------------- 15: links and folders in the data root

def test_a_link_at_a_target_path_is_replaced_not_written_through(server, tmp_path):
    """15. download where Set5/.../img_001.png is a link to a learner's file -> the link is replaced, the file untouched."""
    root = tmp_path / "data"
    good = png_bytes(np.full((4, 4, 3), 7, np.uint8))
    row = server.publish("Set5/x2/HR/img_001.png", good)
    mine = root / "my_work.png"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"a learner's own file")
    target = root / row.local_path
    target.parent.mkdir(parents=True)
    target.symlink_to(mine)
    download("Set5", root=root, base_url=server.url, progress=False, manifest=[row])
    assert mine.read_bytes() == b"a learner's own file"
    assert not target.is_symlink() and target.read_bytes() == good


def test_a_folder_at_a_target_path_is_one_line_and_nothing_is_written(server, tmp_path):
    """15. a folder where a file of the set belongs -> SrlibError "is a folder", before any file is written (was IsADirectoryError)."""
    root = tmp_path / "data"
    rows = [server.publish("Set5/x2/HR/img_001.png", png_bytes(np.zeros((4, 4, 3), np.uint8))),
            server.publish("Set5/x2/HR/img_002.png", png_bytes(np.ones((4, 4, 3), np.uint8)))]
    (root / rows[1].local_path).mkdir(parents=True)
    with pytest.raises(SrlibError, match="img_002.png is a folder"):
        download("Set5", root=root, base_url=server.url, progress=False, manifest=rows)
    assert files_under(root) == set()


def test_a_set_linked_to_a_verified_read_only_copy_counts_as_present(tmp_path):
    """15. Set5 as a link to a complete read-only copy elsewhere -> `download Set5` is satisfied, writes nothing, needs no network."""
    data = png_bytes(np.full((4, 4, 3), 9, np.uint8))
    row = ManifestRow("Set5/x2/HR/img_001.png", REPO, COMMIT, "data/a.png", sha(data), "copy")
    copy = tmp_path / "shared" / "Set5"
    (copy / "x2" / "HR").mkdir(parents=True)
    (copy / "x2" / "HR" / "img_001.png").write_bytes(data)
    os.chmod(copy / "x2" / "HR" / "img_001.png", 0o444)
    root = tmp_path / "data"
    root.mkdir()
    (root / "Set5").symlink_to(copy)
    (path,) = download("Set5", root=root, base_url=closed_port_url(), progress=False, manifest=[row])
    assert path.read_bytes() == data and path == root / "Set5/x2/HR/img_001.png"


# ------------------------------------------------------------- 16: a server that trickles

class Trickle(http.server.BaseHTTPRequestHandler):
    """Sends 30 bytes, one every 0.2 s (6 s in all); with `slow_headers`, the status line trickles too."""

    slow_headers = False

    def do_GET(self):
        try:
            head = b"HTTP/1.0 200 OK\r\nContent-Length: 30\r\n\r\n"
            if self.slow_headers:
                for i in range(len(head)):
                    self.wfile.write(head[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.2)
            else:
                self.wfile.write(head)
            for _ in range(30):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass  # the client hung up: what the deadline is for

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("slow_headers", [False, True])
def test_a_trickling_server_hits_the_whole_file_deadline(tmp_path, monkeypatch, slow_headers):
    """16. a server sending one byte at a time, well within the per-read timeout -> SrlibError after FILE_DEADLINE_S, nothing kept."""
    handler = type("H", (Trickle,), {"slow_headers": slow_headers})
    srv = Server(tmp_path / "unused", handler)
    monkeypatch.setattr(dl, "FILE_DEADLINE_S", 1.0, raising=False)  # (raising=False: the unfixed module has none)
    row = ManifestRow("Set5/x2/HR/img_001.png", REPO, COMMIT, "data/a.png", sha(b"x" * 30), "copy")
    root = tmp_path / "data"
    start = time.monotonic()
    try:
        with pytest.raises(SrlibError, match="did not arrive within 1.0 s"):
            download("Set5", root=root, base_url=srv.url, progress=False, manifest=[row])
    finally:
        srv.close()
    assert time.monotonic() - start < 4
    assert files_under(root) == set()


def test_a_server_that_stalls_the_tls_handshake_hits_the_deadline(tmp_path, monkeypatch):
    """16. an https server that accepts and then sends nothing -> SrlibError after FILE_DEADLINE_S, not after every timeout."""
    monkeypatch.setattr(dl, "FILE_DEADLINE_S", 1.0, raising=False)
    row = ManifestRow("Set5/x2/HR/img_001.png", REPO, COMMIT, "data/a.png", sha(b"x"), "copy")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        start = time.monotonic()
        with pytest.raises(SrlibError, match="did not arrive within 1.0 s"):
            download("Set5", root=tmp_path / "data", base_url=f"https://127.0.0.1:{silent.getsockname()[1]}",
                     progress=False, manifest=[row])
    assert time.monotonic() - start < 4


# ------------------------------------------------------------- 17: several names, one unknown

def test_download_with_an_unknown_name_downloads_nothing(capsys, empty_root, monkeypatch):
    """17. `download Set5 Bogus` -> exit 2 naming Bogus, and Set5 was not downloaded first."""
    calls = []
    monkeypatch.setattr(dl, "download", lambda name, **kw: calls.append(name) or [])
    code, _, err = run_cli(capsys, "download", "Set5", "Bogus")
    assert code == 2 and "Bogus" in one_error_line(err) and calls == []


# ------------------------------------------------------------- 18: converted files are verified by content

def test_a_damaged_converted_file_is_repaired_by_download(server, tmp_path):
    """18. a T91 PNG (converted from BMP) replaced by other pixels -> `download T91` fetches and converts it again."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    bmp = png_bytes(pixels, "BMP")
    (tmp_path / "ref.png").write_bytes(png_bytes(pixels))
    row = server.publish("train/T91/t1.png", bmp, "bmp->png", pixels_sha256(tmp_path / "ref.png"))
    root = tmp_path / "data"
    (path,) = download("T91", root=root, base_url=server.url, progress=False, manifest=[row])
    damaged = pixels.copy()
    damaged[0, 0] ^= 0xFF
    path.write_bytes(png_bytes(damaged))  # still a valid PNG: only the content check can tell
    download("T91", root=root, base_url=server.url, progress=False, manifest=[row])
    assert np.array_equal(np.asarray(Image.open(path)), pixels)


def test_atomic_writes_give_new_files_the_usual_permissions_and_keep_a_replaced_files(tmp_path):
    # mkstemp's temporary files are private (0o600): a checkpoint or image written through one must not be
    import os

    import numpy as np

    from srlib.data import save_image
    from srlib.models.weights import atomic_write_bytes

    old = os.umask(0o022)
    try:
        new = atomic_write_bytes(b"x", tmp_path / "new.bin")
        img = save_image(tmp_path / "new.png", np.zeros((4, 4, 3), np.float32))
        assert new.stat().st_mode & 0o777 == img.stat().st_mode & 0o777 == 0o644
        os.chmod(new, 0o640)
        os.chmod(img, 0o600)
        atomic_write_bytes(b"y", new)
        save_image(img, np.ones((4, 4, 3), np.float32))
        assert (new.stat().st_mode & 0o777, img.stat().st_mode & 0o777) == (0o640, 0o600)
    finally:
        os.umask(old)
