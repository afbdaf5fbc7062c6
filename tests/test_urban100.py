"""Urban100 x4: in the registry and the downloader (checksummed, like the other sets), not in the shared copy.

The images are not in ../shared/datasets and the tests have no internet: what needs them skips and says so.
"""
from __future__ import annotations

import csv
import hashlib
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
from PIL import Image

import srlib.data.root
from srlib.data import get_spec, is_available, load_benchmark
from srlib.data.download import ManifestRow, download, read_manifest
from srlib.errors import SrlibError

SHARED = Path(srlib.data.root.REPO_ROOT).parent / "shared" / "datasets"
DOWNLOAD_ONLY = SHARED / "MANIFEST-download-only.tsv"


def cli(*args, root):
    env = {**__import__("os").environ, "SRLIB_DATA_DIR": str(root), "SRLIB_DOWNLOAD_URL": "http://127.0.0.1:9"}
    return subprocess.run([sys.executable, "-m", "srlib", *args], capture_output=True, text=True, env=env, timeout=300)


def urban_rows() -> list[ManifestRow]:
    return [r for r in read_manifest() if PurePosixPath(r.local_path).parts[0] == "Urban100"]


def test_the_registry_knows_urban100_at_x4_only():
    spec = get_spec("urban100")
    assert (spec.name, spec.kind, spec.folder, spec.scales, spec.count) == ("Urban100", "benchmark", "Urban100", (4,), 100)
    with pytest.raises(SrlibError, match="x4 only, not x2"):
        load_benchmark("Urban100", 2)


def test_the_manifest_lists_100_pairs_with_checksums():
    rows = urban_rows()
    assert len(rows) == 200
    assert all(re.fullmatch(r"[0-9a-f]{64}", r.source_sha256) and re.fullmatch(r"[0-9a-f]{40}", r.commit) for r in rows)
    assert all(r.conversion == "copy" and not r.content_sha256 for r in rows)
    names = {f"img_{i:03d}.png" for i in range(1, 101)}
    for kind in ("HR", "LR"):
        assert {PurePosixPath(r.local_path).name for r in rows if r.local_path.startswith(f"Urban100/x4/{kind}/")} == names
    assert len({r.source_sha256 for r in rows}) == 200  # no file listed twice under two names


@pytest.mark.skipif(not DOWNLOAD_ONLY.is_file(), reason=f"no {DOWNLOAD_ONLY}")
def test_the_manifest_entries_are_the_shared_download_only_ones():
    with open(DOWNLOAD_ONLY, newline="", encoding="utf-8") as f:
        shared = [ManifestRow(**row) for row in csv.DictReader(f, delimiter="\t")]
    assert len(shared) == 200 and urban_rows() == shared


def test_info_lists_urban100_as_missing(tmp_path):
    proc = cli("info", root=tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = [ln for ln in proc.stdout.splitlines() if ln.split()[:1] == ["Urban100"]]
    assert len(line) == 1 and line[0].split()[1] == "missing", proc.stdout


def test_info_says_how_to_get_a_missing_set(tmp_path):
    line = [ln for ln in cli("info", root=tmp_path).stdout.splitlines() if ln.split()[:1] == ["Urban100"]][0]
    assert "python -m srlib download Urban100" in line


def test_evaluate_strict_on_missing_urban100_says_how_to_download(tmp_path):
    proc = cli("evaluate", "--dataset", "Urban100", "--strict", root=tmp_path)
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and len(errors) == 1
    assert "python -m srlib download Urban100" in errors[0]


def test_download_without_a_network_is_one_line_and_keeps_nothing(tmp_path):
    proc = cli("download", "Urban100", root=tmp_path)
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert proc.returncode == 2 and len(errors) == 1 and "could not reach" in errors[0] and "Urban100" in errors[0]
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_downloaded_urban100_is_found_and_loaded(tmp_path):
    """The downloader's Urban100 rows land where the registry looks (served here from a local folder)."""
    server, root, rows = tmp_path / "server", tmp_path / "data", []
    rng = np.random.default_rng(0)
    for row in urban_rows()[:4]:  # img_001 and img_002, HR and LR
        shape = (32, 48, 3) if "/HR/" in row.local_path else (8, 12, 3)
        src = server / row.github_repo / row.commit / row.source_path
        src.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(src)
        rows.append(ManifestRow(row.local_path, row.github_repo, row.commit, row.source_path,
                                hashlib.sha256(src.read_bytes()).hexdigest(), "copy"))
    files = download("Urban100", root=root, base_url=server.as_uri(), progress=False, manifest=rows)
    assert sorted(p.relative_to(root).as_posix() for p in files) == sorted(r.local_path for r in rows)
    assert is_available("Urban100", 4, root=root)
    bench = load_benchmark("Urban100", 4, fallback=False, root=root)
    assert [p.name for p in bench] == ["img_001", "img_002"] and bench[0].hr.shape == (32, 48, 3)


def test_the_real_urban100_loads_with_its_100_pairs(datasets):
    if not is_available("Urban100", 4, root=datasets):
        pytest.skip(f"Urban100 is not in {datasets} (download only: `python -m srlib download Urban100` with internet)")
    bench = load_benchmark("Urban100", 4, fallback=False, root=datasets)
    assert len(bench) == 100 and all(p.hr.shape[0] == 4 * p.lr.shape[0] for p in bench)
