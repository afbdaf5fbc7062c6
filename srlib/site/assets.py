"""The site's front-end files: npm packages pinned in site/package-lock.json, and anywidget's AMD module.

`npm ci` installs them once into a cache (build/site-npm/, reinstalled only when
package.json or the lock changes); only the files a page loads are copied into
the site's lib/ folder, so that the site works from disk with no network.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from ..data.root import REPO_ROOT
from ..errors import SrlibError

PACKAGE_DIR = REPO_ROOT / "site"  # package.json + package-lock.json, committed
NPM_CACHE = REPO_ROOT / "build" / "site-npm"
NPM_MISSING = ("npm not found: the course website needs Node.js and npm to fetch its front-end files once "
               "(Debian/Ubuntu: sudo apt-get install nodejs npm; conda: conda install nodejs; or https://nodejs.org).")

# (files in node_modules, folder under lib/): what the pages load, and the fonts their CSS asks for
NPM_FILES = [
    ("requirejs/require.js", "."),
    ("@jupyter-widgets/html-manager/dist/embed-amd.js", "."),
    ("@jupyter-widgets/html-manager/dist/*.woff2", "."),  # Font Awesome, next to embed-amd.js as its CSS expects
    ("@jupyter-widgets/html-manager/dist/*.woff", "."),
    ("katex/dist/katex.min.js", "katex"),
    ("katex/dist/katex.min.css", "katex"),
    ("katex/dist/contrib/auto-render.min.js", "katex/contrib"),
    ("katex/dist/fonts/*.woff2", "katex/fonts"),
    ("katex/dist/fonts/*.woff", "katex/fonts"),
    ("katex/LICENSE", "katex"),  # require.js and embed-amd.js carry their licences in the file
]
STATIC = Path(__file__).parent / "static"  # the site's own CSS and scripts


def lock_digest(package_dir: Path) -> str:
    files = [package_dir / "package.json", package_dir / "package-lock.json"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise SrlibError(f"{missing[0]} is missing: the site's front-end files are pinned there (git checkout site/).")
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()


def npm_modules(package_dir: Path = PACKAGE_DIR, cache: Path = NPM_CACHE) -> Path:
    """node_modules with exactly the locked versions; `npm ci` runs only when the lock changed."""
    digest = lock_digest(package_dir)
    stamp, modules = cache / ".installed", cache / "node_modules"
    if stamp.is_file() and stamp.read_text().strip() == digest and modules.is_dir():
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise SrlibError(NPM_MISSING)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(package_dir / name, cache / name)
    print(f"site: npm ci in {cache} (once; again only when site/package-lock.json changes)", flush=True)
    run = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=cache,
                         capture_output=True, text=True)
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SrlibError(f"npm ci failed in {cache}: {last} (is the npm registry reachable?)")
    stamp.write_text(digest + "\n")
    return modules


def anywidget_module() -> Path:
    """The AMD build of anywidget's front end that its wheel installs for Jupyter (nbextensions/anywidget/index.js)."""
    from jupyter_core.paths import jupyter_path

    dirs = [Path(sys.prefix) / "share" / "jupyter" / "nbextensions", *map(Path, jupyter_path("nbextensions"))]
    for d in dirs:
        if (d / "anywidget" / "index.js").is_file():
            return d / "anywidget" / "index.js"
    raise SrlibError("anywidget's front end (nbextensions/anywidget/index.js) not found in "
                     f"{', '.join(map(str, dict.fromkeys(dirs)))}: reinstall it (make setup, or pip install anywidget).")


def copy_assets(lib: Path, modules: Path) -> list[Path]:
    """Copy what the pages load into `lib`; every pattern must match (a changed package layout is an error)."""
    copied = []
    for pattern, dest in NPM_FILES:
        found = sorted(modules.glob(pattern))
        if not found:
            raise SrlibError(f"{modules / pattern} not found: remove {modules.parent} and build the site again.")
        for src in found:
            copied.append(copy_file(src, lib / dest / src.name))
    copied.append(copy_file(anywidget_module(), lib / "anywidget" / "index.js"))
    copied += [copy_file(f, lib / f.name) for f in sorted(STATIC.iterdir()) if f.is_file()]
    return copied


def copy_file(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst
