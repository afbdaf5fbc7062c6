"""The course as an offline website: `build_site(executed_notebooks, out_dir)`, `python -m srlib site`.

out_dir gets index.html (the syllabus) and one page per executed notebook, with
its widgets live (their state was saved in the notebook by papermill/nbclient)
and its maths typeset, everything loaded from out_dir/lib/: the pages open from
disk (file://) with the network off.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import SrlibError

SIZE_BUDGET = 60 * 2**20  # bytes: the site should stay a download a learner accepts


@dataclass(frozen=True)
class Site:
    """What build_site wrote."""

    out_dir: Path
    pages: tuple[Path, ...]  # index.html first, then the lessons
    bytes: int

    def summary(self) -> str:
        note = "" if self.bytes <= SIZE_BUDGET else f" (over the {SIZE_BUDGET / 2**20:.0f} MB budget)"
        largest = max(self.pages[1:], key=lambda p: p.stat().st_size)
        return (f"site: {len(self.pages) - 1} lesson page(s) + index, {self.bytes / 2**20:.1f} MB{note} in "
                f"{self.out_dir} (largest page {largest.name}, {largest.stat().st_size / 2**20:.1f} MB); "
                f"open {self.out_dir / 'index.html'}")


def folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def build_site(executed_notebooks, out_dir, *, package_dir: Path | None = None, npm_cache: Path | None = None) -> Site:
    """Write the site for these executed notebooks into out_dir (replaced whole, only once every page is built)."""
    import nbformat

    from . import assets
    from .lessons import check_notebooks, read_lesson
    from .pages import index_page, lesson_page

    paths = check_notebooks(executed_notebooks)
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and not (out_dir / "index.html").is_file() and any(out_dir.iterdir()):
        raise SrlibError(f"{out_dir} exists and is not a course site (no index.html): give an empty or new folder.")
    modules = assets.npm_modules(package_dir or assets.PACKAGE_DIR, npm_cache or assets.NPM_CACHE)
    notebooks = [nbformat.read(p, as_version=4) for p in paths]
    lessons = [read_lesson(p, nb) for p, nb in zip(paths, notebooks)]
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        assets.copy_assets(tmp / "lib", modules)
        for i, (nb, lesson) in enumerate(zip(notebooks, lessons)):
            prev = lessons[i - 1] if i > 0 else None
            next_ = lessons[i + 1] if i + 1 < len(lessons) else None
            (tmp / lesson.page).write_text(lesson_page(nb, lesson, prev, next_), encoding="utf-8")
        (tmp / "index.html").write_text(index_page(lessons), encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp's folder is private; a site is for reading
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}-old")
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pages = (out_dir / "index.html", *(out_dir / lesson.page for lesson in lessons))
    return Site(out_dir=out_dir, pages=pages, bytes=folder_size(out_dir))


def site_from_folder(source=None, out_dir=None) -> Site:
    """`python -m srlib site`: every executed lesson (NN_name.ipynb) in source becomes a page of out_dir."""
    from ..course import NOTEBOOK_NAME
    from ..data.root import REPO_ROOT

    src = Path(source) if source else REPO_ROOT / "build" / "executed"
    if not src.is_dir():
        raise SrlibError(f"{src}: no such folder of executed notebooks; run `make course` (or `make smoke`) first.")
    notebooks = sorted(p for p in src.glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))
    if not notebooks:
        raise SrlibError(f"{src} holds no executed lessons (NN_name.ipynb): run `make course` (or `make smoke`) first.")
    return build_site(notebooks, out_dir or REPO_ROOT / "build" / "site")
