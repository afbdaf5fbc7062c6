"""Download a data set from its public GitHub sources, checked file by file.

`manifest.tsv` (packaged with srlib) lists every file of every data set: where it
goes under the data root, the GitHub repository, commit and path it comes from, the
sha256 of the source bytes, and a conversion (`copy`, or `bmp->png` for T91). Pinning
the commit and the hash means a learner gets exactly the files the course was tested on.

Each file is written to a temporary file next to its target, checked, and only then
renamed into place, so an interrupted or failed download never leaves a partial file.
"""
from __future__ import annotations

import csv
import http.client
import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from PIL import Image
from tqdm.auto import tqdm

from ..errors import SrlibError
from .registry import get_spec
from .root import ENV_VAR, data_root

DEFAULT_BASE_URL = "https://raw.githubusercontent.com"
URL_ENV_VAR = "SRLIB_DOWNLOAD_URL"
TIMEOUT_S = 30


@dataclass(frozen=True)
class ManifestRow:
    """One file: where it goes (`local_path`, under the data root) and where it comes from."""

    local_path: str
    github_repo: str
    commit: str
    source_path: str
    source_sha256: str
    conversion: str  # "copy" or "bmp->png"

    def url(self, base: str) -> str:
        return f"{base.rstrip('/')}/{self.github_repo}/{self.commit}/{urllib.parse.quote(self.source_path)}"


def read_manifest() -> list[ManifestRow]:
    """All rows of the manifest packaged with srlib."""
    text = resources.files("srlib.data").joinpath("manifest.tsv").read_text(encoding="utf-8")
    return [ManifestRow(**row) for row in csv.DictReader(text.splitlines(), delimiter="\t")]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fetch(url: str, dest: Path) -> str:
    """Stream `url` into `dest`; return the sha256 of the bytes received."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(dest, "wb") as out:
            while chunk := response.read(1 << 16):
                digest.update(chunk)
                out.write(chunk)
    except urllib.error.HTTPError as e:  # before URLError: it is a subclass
        raise SrlibError(
            f"the server answered HTTP {e.code} ({e.reason}) for {url}. The file may have moved: "
            f"update srlib, or copy the data set by hand into the data root."
        ) from e
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as e:
        reason = getattr(e, "reason", e)
        raise SrlibError(
            f"could not reach {url} ({reason}). Downloading needs internet; alternatively copy the "
            f"data set's folder by hand into the data root, or set {ENV_VAR} to a folder that has it."
        ) from e
    return digest.hexdigest()


def _install(row: ManifestRow, target: Path, base: str) -> None:
    """Fetch one file into a temporary file beside `target`, verify, convert, rename."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        os.close(fd)
    except OSError as e:
        raise SrlibError(
            f"cannot write to {target.parent} ({e.strerror or e}). Set {ENV_VAR} to a folder you can write to."
        ) from e
    tmp = Path(name)
    try:
        got = _fetch(row.url(base), tmp)
        if got != row.source_sha256:
            raise SrlibError(
                f"checksum mismatch for {row.local_path}: expected sha256 {row.source_sha256[:12]}…, "
                f"got {got[:12]}…; the file was not kept. Try again later, or report it if it persists."
            )
        if row.conversion == "bmp->png":
            with Image.open(tmp) as im:
                im.load()
            im.save(tmp, format="PNG")
        elif row.conversion != "copy":
            raise SrlibError(f"unknown conversion {row.conversion!r} for {row.local_path}; update srlib.")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _is_present(row: ManifestRow, target: Path) -> bool:
    """A `copy` file counts only if its hash matches; a converted one if it exists."""
    if not target.is_file():
        return False
    return row.conversion != "copy" or _sha256(target) == row.source_sha256


def download(
    name: str,
    root: Path | str | None = None,
    base_url: str | None = None,
    force: bool = False,
    progress: bool = True,
    manifest: list[ManifestRow] | None = None,
) -> list[Path]:
    """Download data set `name` into `root` (default: the data root); return its files' paths.

    Files already present are skipped unless `force`. `base_url` (or `$SRLIB_DOWNLOAD_URL`)
    replaces the GitHub host, e.g. for a mirror; `manifest` replaces the packaged one.
    """
    spec = get_spec(name)
    root = Path(root).expanduser().resolve() if root is not None else data_root().resolve()
    base = base_url or os.environ.get(URL_ENV_VAR, "").strip() or DEFAULT_BASE_URL
    folder = PurePosixPath(spec.folder).parts
    rows = [r for r in (manifest if manifest is not None else read_manifest())
            if PurePosixPath(r.local_path).parts[: len(folder)] == folder]
    if not rows:
        raise SrlibError(f"the manifest lists no files for {spec.name}; update srlib.")
    targets = [(root / r.local_path).resolve() for r in rows]
    for row, target in zip(rows, targets):  # check all before writing any
        if not target.is_relative_to(root):
            raise SrlibError(f"refusing to write {row.local_path!r}: it lies outside the data root {root}.")
    for row, target in tqdm(list(zip(rows, targets)), desc=spec.name, unit="file", disable=not progress):
        if force or not _is_present(row, target):
            _install(row, target, base)
    return targets
