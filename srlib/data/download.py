"""Download a data set from its public GitHub sources, checked file by file.

`manifest.tsv` (packaged with srlib) lists every file of every data set: where it
goes under the data root, the GitHub repository, commit and path it comes from, the
sha256 of the source bytes, a conversion (`copy`, or `bmp->png` for T91) and, for a
converted file, the sha256 of its decoded RGB pixels (`content_sha256`: PNG bytes depend
on the encoder, pixels do not). Pinning the commit and the hashes means a learner gets
exactly the files the course was tested on, and a damaged file, copied or converted,
is noticed and fetched again.

Each file is written to a temporary file next to its target, checked, and only then
renamed into place, so an interrupted or failed download never leaves a partial file.
A link at a target path is replaced, never written through; a file that is already
present and verified is never rewritten (so a set may be a link to a read-only copy).
A whole file must arrive within `FILE_DEADLINE_S`, however slowly the server trickles.
"""
from __future__ import annotations

import csv
import functools
import http.client
import hashlib
import os
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from PIL import Image
from tqdm.auto import tqdm

from ..errors import SrlibError
from .images import open_image
from .registry import get_spec
from .root import ENV_VAR, data_root

DEFAULT_BASE_URL = "https://raw.githubusercontent.com"
URL_ENV_VAR = "SRLIB_DOWNLOAD_URL"
TIMEOUT_S = 30  # per network read
FILE_DEADLINE_S = 120  # per file, connection to last byte


@dataclass(frozen=True)
class ManifestRow:
    """One file: where it goes (`local_path`, under the data root) and where it comes from."""

    local_path: str
    github_repo: str
    commit: str
    source_path: str
    source_sha256: str
    conversion: str  # "copy" or "bmp->png"
    content_sha256: str = ""  # converted files: `pixels_sha256` of the result

    def url(self, base: str) -> str:
        return f"{base.rstrip('/')}/{self.github_repo}/{self.commit}/{urllib.parse.quote(self.source_path)}"


def read_manifest() -> list[ManifestRow]:
    """All rows of the manifest packaged with srlib."""
    text = resources.files("srlib.data").joinpath("manifest.tsv").read_text(encoding="utf-8")
    return [ManifestRow(**row) for row in csv.DictReader(text.splitlines(), delimiter="\t")]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pixels_sha256(path: Path) -> str:
    """sha256 of an image's decoded pixels (size, then RGB bytes): the same for any lossless encoding."""
    with open_image(path) as im:
        rgb = im.convert("RGB")
        return hashlib.sha256(f"{rgb.width}x{rgb.height}\n".encode() + rgb.tobytes()).hexdigest()


class _DeadlineMixin:
    """An HTTP(S) connection whose socket is shut down at `deadline` (time.monotonic()), whatever phase it is in:
    TLS handshake, headers or body."""

    def __init__(self, *args, deadline: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.deadline, self.expired, self._timer, self._kept = deadline, False, None, None

    def connect(self):
        remaining = max(0.0, self.deadline - time.monotonic())
        limit = max(remaining, 0.01)  # (0 would make the socket non-blocking)
        self.timeout = min(self.timeout, limit) if isinstance(self.timeout, (int, float)) else limit
        self._timer = threading.Timer(remaining, self._expire)
        self._timer.daemon = True
        self._timer.start()
        super().connect()
        self._kept = self.sock  # urllib drops self.sock once the response is open; the response keeps using it

    def _expire(self):
        self.expired = True
        for sock in (self.sock, self._kept):  # self.sock: the raw socket during a TLS handshake
            try:
                if sock is not None:
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self):
        if self._timer:
            self._timer.cancel()


class _HTTPConnection(_DeadlineMixin, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineMixin, http.client.HTTPSConnection):
    pass


def _opener(connections: list):
    """A urllib opener (proxies and redirects as usual) whose connections land in `connections`."""

    def make(cls, *args, **kwargs):
        connections.append(cls(*args, deadline=connections.deadline, **kwargs))
        return connections[-1]

    class HTTP(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(functools.partial(make, _HTTPConnection), req)

    class HTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(functools.partial(make, _HTTPSConnection), req, context=self._context)

    return urllib.request.build_opener(HTTP, HTTPS)


class _Connections(list):
    def __init__(self, deadline: float):
        super().__init__()
        self.deadline = deadline


def _fetch(url: str, dest: Path) -> str:
    """Stream `url` into `dest` within FILE_DEADLINE_S; return the sha256 of the bytes received."""
    digest = hashlib.sha256()
    connections = _Connections(time.monotonic() + FILE_DEADLINE_S)
    with open(dest, "wb") as out:
        try:
            with _opener(connections).open(url, timeout=TIMEOUT_S) as response:
                while chunk := response.read1(1 << 16):  # read1: returns what has arrived, never waits to fill
                    digest.update(chunk)
                    _write(out, chunk, dest)
            if any(c.expired for c in connections):  # the shut-down socket ended the body early
                raise TimeoutError("deadline")
        except urllib.error.HTTPError as e:  # before URLError: it is a subclass
            raise SrlibError(
                f"the server answered HTTP {e.code} ({e.reason}) for {url}. The file may have moved: "
                f"update srlib, or copy the data set by hand into the data root."
            ) from e
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            # the socket's own timeout (capped at the time left) may fire just before the deadline timer does
            if any(c.expired for c in connections) or time.monotonic() >= connections.deadline:
                raise SrlibError(
                    f"{url} did not arrive within {FILE_DEADLINE_S} s (a stalled or very slow connection); "
                    f"nothing was kept. Try again later, or use a mirror ({URL_ENV_VAR})."
                ) from None
            reason = getattr(e, "reason", e)
            raise SrlibError(
                f"could not reach {url} ({reason}). Downloading needs internet; alternatively copy the "
                f"data set's folder by hand into the data root, or set {ENV_VAR} to a folder that has it."
            ) from e
        finally:
            for c in connections:
                c.cancel()
    return digest.hexdigest()


def _write(out, chunk: bytes, dest: Path) -> None:
    try:
        out.write(chunk)
    except OSError as e:
        raise SrlibError(f"cannot write {dest} ({e.strerror or e}); nothing was kept. Free some space and try again.") from None


def _install(row: ManifestRow, target: Path, base: str) -> None:
    """Fetch one file into a temporary file beside `target`, verify, convert, verify, rename over `target`.

    `os.replace` renames onto the path itself: a link there is replaced, not followed.
    """
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
            if row.content_sha256 and pixels_sha256(tmp) != row.content_sha256:
                raise SrlibError(
                    f"{row.local_path}: the PNG converted from the verified BMP does not hold the expected pixels; "
                    "the file was not kept. Report it (it points at an image-library change)."
                )
        elif row.conversion != "copy":
            raise SrlibError(f"unknown conversion {row.conversion!r} for {row.local_path}; update srlib.")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _is_present(row: ManifestRow, target: Path) -> bool:
    """True when `target` (or the file a link there points to) holds the verified content.

    A `copy` file must match the source hash; a converted one its pixel hash
    (or, without one in the manifest, decode completely).
    """
    try:
        if not target.is_file():
            return False
        if row.conversion == "copy":
            return _sha256(target) == row.source_sha256
        if row.content_sha256:
            return pixels_sha256(target) == row.content_sha256
        with Image.open(target) as im:
            im.load()
        return True
    except (OSError, SyntaxError, ValueError, SrlibError):  # unreadable or undecodable: fetch it again
        return False


def _target(row: ManifestRow, root: Path) -> Path:
    """Where `row` goes under `root` (the path itself, links not resolved); refuses paths that climb out."""
    path = PurePosixPath(row.local_path)
    if ".." in path.parts or path.is_absolute():
        raise SrlibError(f"refusing to write {row.local_path!r}: it lies outside the data root {root}.")
    return root.joinpath(*path.parts)


def _check_target(row: ManifestRow, target: Path, root: Path) -> None:
    """Refuse (before anything is written) a target that is a folder or whose folder leads outside `root`."""
    if target.is_dir():
        raise SrlibError(
            f"{target} is a folder, but the file {row.local_path} belongs there: move the folder away and download again."
        )
    existing = target.parent
    while not (existing.exists() or existing.is_symlink()) and existing != root:
        existing = existing.parent
    if not existing.resolve().is_relative_to(root):
        raise SrlibError(
            f"refusing to write {row.local_path!r}: {existing} leads to {existing.resolve()}, outside the data root "
            f"{root}. Replace the link by a folder (or by a complete copy of the set) and download again."
        )


def download(
    name: str,
    root: Path | str | None = None,
    base_url: str | None = None,
    force: bool = False,
    progress: bool = True,
    manifest: list[ManifestRow] | None = None,
) -> list[Path]:
    """Download data set `name` into `root` (default: the data root); return its files' paths.

    Files already present and verified (by content) are left alone unless `force`;
    damaged ones are fetched again. Every file to be written is checked before the
    first is. `base_url` (or `$SRLIB_DOWNLOAD_URL`) replaces the GitHub host, e.g. for
    a mirror; `manifest` replaces the packaged one.
    """
    spec = get_spec(name)
    root = Path(root).expanduser().resolve() if root is not None else data_root().resolve()
    base = base_url or os.environ.get(URL_ENV_VAR, "").strip() or DEFAULT_BASE_URL
    folder = PurePosixPath(spec.folder).parts
    rows = [r for r in (manifest if manifest is not None else read_manifest())
            if PurePosixPath(r.local_path).parts[: len(folder)] == folder]
    if not rows:
        raise SrlibError(f"the manifest lists no files for {spec.name}; update srlib.")
    targets = [_target(r, root) for r in rows]
    todo = [(r, t) for r, t in zip(rows, targets) if force or not _is_present(r, t)]
    for row, target in todo:  # check all before writing any
        _check_target(row, target, root)
    for row, target in tqdm(todo, desc=spec.name, unit="file", disable=not progress or not todo):
        _install(row, target, base)
    return targets
