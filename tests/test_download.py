"""The downloader, against a real local HTTP server (no internet needed)."""
from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import http.server
import io
import socket
import threading
from collections import Counter
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
from PIL import Image

import srlib.data.root
from srlib.data import download as dl
from srlib.data.download import DEFAULT_BASE_URL, ManifestRow, download, read_manifest
from srlib.data.registry import DATASETS
from srlib.errors import SrlibError

REPO, COMMIT = "someone/sr-data", "0123456789abcdef0123456789abcdef01234567"
SHARED = Path(srlib.data.root.REPO_ROOT).parent / "shared" / "datasets"


def image_bytes(seed: int, fmt: str = "PNG", size=(12, 8)) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Server:
    """A directory laid out as `{repo}/{commit}/{source_path}`, served over HTTP."""

    def __init__(self, directory: Path):
        self.dir = directory
        handler = functools.partial(Quiet, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def publish(self, local_path: str, data: bytes, conversion: str = "copy", served: bytes | None = None) -> ManifestRow:
        """Put `served` (default `data`) on the server; return a manifest row that expects `data`."""
        source = f"data/{local_path.replace('/', '_')}" + (".bmp" if conversion == "bmp->png" else "")
        path = self.dir / REPO / COMMIT / source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if served is None else served)
        return ManifestRow(local_path, REPO, COMMIT, source, sha(data), conversion)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "server")
    yield s
    s.close()


@pytest.fixture
def root(tmp_path):
    return tmp_path / "data"


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_download_writes_verified_files_and_nothing_else(server, root):
    a, b, other = image_bytes(1), image_bytes(2), image_bytes(3)
    manifest = [
        server.publish("Set5/x2/HR/img_001.png", a),
        server.publish("Set5/x2/LR/img_001.png", b),
        server.publish("Set14/x2/HR/img_001.png", other),  # another set: not fetched
    ]
    paths = download("set5", root=root, base_url=server.url, manifest=manifest)  # with the progress bar
    assert paths == [root.resolve() / "Set5/x2/HR/img_001.png", root.resolve() / "Set5/x2/LR/img_001.png"]
    assert paths[0].read_bytes() == a and paths[1].read_bytes() == b
    assert files_under(root) == {"Set5/x2/HR/img_001.png", "Set5/x2/LR/img_001.png"}  # no temp files


def test_bmp_is_converted_to_png(server, root):
    bmp = image_bytes(4, fmt="BMP")
    manifest = [server.publish("train/T91/t1.png", bmp, conversion="bmp->png")]
    (path,) = download("T91", root=root, base_url=server.url, progress=False, manifest=manifest)
    with Image.open(path) as im:
        assert im.format == "PNG"
        got = np.asarray(im)
    assert np.array_equal(got, np.asarray(Image.open(io.BytesIO(bmp))))
    assert files_under(root) == {"train/T91/t1.png"}


def test_rerun_skips_present_files_and_repairs_damaged_ones(server, root):
    data = image_bytes(5)
    manifest = [server.publish("Set5/x4/HR/img_001.png", data), server.publish("train/T91/t2.png", image_bytes(6, "BMP"), "bmp->png")]
    for name in ("Set5", "T91"):
        download(name, root=root, base_url=server.url, progress=False, manifest=manifest)
    # Everything present: no request is made, so an unreachable server does not matter.
    for name in ("Set5", "T91"):
        download(name, root=root, base_url=closed_port_url(), progress=False, manifest=manifest)
    # A damaged copy fails its hash and is fetched again.
    target = root / "Set5/x4/HR/img_001.png"
    target.write_bytes(b"damaged")
    download("Set5", root=root, base_url=server.url, progress=False, manifest=manifest)
    assert target.read_bytes() == data
    # force re-fetches even a good file: with no server that must fail.
    with pytest.raises(SrlibError):
        download("Set5", root=root, base_url=closed_port_url(), force=True, progress=False, manifest=manifest)
    assert target.read_bytes() == data  # the failed attempt left the good file alone


def test_checksum_mismatch_keeps_nothing(server, root):
    good = server.publish("Set5/x2/HR/img_001.png", image_bytes(7))
    bad = server.publish("Set5/x2/HR/img_002.png", image_bytes(8), served=image_bytes(9))
    with pytest.raises(SrlibError, match="checksum") as info:
        download("Set5", root=root, base_url=server.url, progress=False, manifest=[good, bad])
    assert "img_002.png" in str(info.value) and bad.source_sha256[:12] in str(info.value)
    assert "not kept" in str(info.value)
    assert files_under(root) == {"Set5/x2/HR/img_001.png"}  # the bad file and its temp file are gone


def test_http_error_is_reported_and_leaves_nothing(server, root):
    row = server.publish("Set5/x2/HR/img_001.png", image_bytes(10))
    (server.dir / REPO / COMMIT / row.source_path).unlink()
    with pytest.raises(SrlibError, match="HTTP 404"):
        download("Set5", root=root, base_url=server.url, progress=False, manifest=[row])
    assert files_under(root) == set()


def test_no_network_says_what_to_do(server, root):
    row = server.publish("Set5/x2/HR/img_001.png", image_bytes(11))
    with pytest.raises(SrlibError, match="needs internet") as info:
        download("Set5", root=root, base_url=closed_port_url(), progress=False, manifest=[row])
    assert "SRLIB_DATA_DIR" in str(info.value) and "by hand" in str(info.value)
    assert files_under(root) == set()


def test_base_url_and_root_come_from_environment(server, tmp_path, monkeypatch):
    row = server.publish("Set5/x3/LR/img_001.png", image_bytes(12))
    monkeypatch.setenv("SRLIB_DOWNLOAD_URL", server.url)
    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path / "envroot"))
    (path,) = download("Set5", progress=False, manifest=[row])
    assert path == (tmp_path / "envroot/Set5/x3/LR/img_001.png").resolve() and path.is_file()


def test_manifest_path_escaping_the_root_is_refused(server, root, tmp_path):
    evil = server.publish("Set5/../../evil.png", image_bytes(13))
    with pytest.raises(SrlibError, match="outside the data root"):
        download("Set5", root=root, base_url=server.url, progress=False, manifest=[evil])
    assert not (tmp_path / "evil.png").exists() and files_under(root) == set()


def test_unwritable_root_is_reported(server, tmp_path):
    row = server.publish("Set5/x2/HR/img_001.png", image_bytes(14))
    root = tmp_path / "a_file"
    root.write_text("not a folder")  # (chmod would not stop root, which the CI may run as)
    with pytest.raises(SrlibError, match="cannot write"):
        download("Set5", root=root, base_url=server.url, progress=False, manifest=[row])


def test_unknown_name_is_refused_with_a_suggestion(root):
    with pytest.raises(SrlibError, match="Set5"):
        download("Set6", root=root, progress=False, manifest=[])


def test_url_layout():
    row = ManifestRow("Set5/x2/HR/img_001.png", "a/b", "c0ffee", "data/x y.png", "0" * 64, "copy")
    assert row.url(DEFAULT_BASE_URL + "/") == "https://raw.githubusercontent.com/a/b/c0ffee/data/x%20y.png"


def test_packaged_manifest_matches_the_registry():
    rows = read_manifest()
    assert rows and all(r.conversion in ("copy", "bmp->png") and len(r.source_sha256) == 64 for r in rows)
    assert all(len(r.content_sha256) == 64 for r in rows if r.conversion != "copy")  # converted files are verified too
    assert len({r.local_path for r in rows}) == len(rows)
    counts = Counter()
    for r in rows:
        parts = PurePosixPath(r.local_path).parts
        owners = [s for s in DATASETS.values() if parts[: len(PurePosixPath(s.folder).parts)] == PurePosixPath(s.folder).parts]
        assert len(owners) == 1 and ".." not in parts, r.local_path
        counts[owners[0].name] += 1
    expected = {s.name: s.count * (2 * len(s.scales) if s.kind == "benchmark" else 1) for s in DATASETS.values()}
    assert counts == expected


@pytest.mark.skipif(not (SHARED / "MANIFEST.tsv").is_file(), reason=f"no shared data sets at {SHARED}")
def test_packaged_manifest_matches_shared_copy():
    with open(SHARED / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        shared = [ManifestRow(**row) for row in csv.DictReader(f, delimiter="\t")]
    packaged = [r for r in read_manifest() if not r.local_path.startswith("Urban100/")]  # download only: test_urban100.py
    assert [dataclasses.replace(r, content_sha256="") for r in packaged] == shared  # the shared file has no pixel hashes
    for row in packaged:  # the shared files are what the downloader would produce
        path = SHARED / row.local_path
        assert path.is_file(), row.local_path
        if row.conversion == "copy":
            assert dl._sha256(path) == row.source_sha256 and not row.content_sha256, row.local_path
        else:
            assert dl.pixels_sha256(path) == row.content_sha256, row.local_path


def test_a_linked_set_that_needs_repair_is_refused_before_writing_outside(server, tmp_path):
    """Set5 linked outside the data root with a damaged file: refused (it would write outside), the copy untouched."""
    row = server.publish("Set5/x2/HR/img_001.png", image_bytes(15))
    copy = tmp_path / "elsewhere" / "Set5"
    (copy / "x2" / "HR").mkdir(parents=True)
    (copy / "x2" / "HR" / "img_001.png").write_bytes(b"damaged")
    root = tmp_path / "data"
    root.mkdir()
    (root / "Set5").symlink_to(copy)
    with pytest.raises(SrlibError, match="outside the data root"):
        download("Set5", root=root, base_url=server.url, progress=False, manifest=[row])
    assert (copy / "x2" / "HR" / "img_001.png").read_bytes() == b"damaged"


def test_a_verified_converted_file_is_not_fetched_again(server, root, tmp_path):
    """With a pixel hash in the manifest, an intact converted file is recognised: no request is made."""
    bmp = image_bytes(16, "BMP")
    Image.open(io.BytesIO(bmp)).save(tmp_path / "ref.png")
    row = dataclasses.replace(server.publish("train/T91/t3.png", bmp, "bmp->png"), content_sha256=dl.pixels_sha256(tmp_path / "ref.png"))
    download("T91", root=root, base_url=server.url, progress=False, manifest=[row])
    download("T91", root=root, base_url=closed_port_url(), progress=False, manifest=[row])
