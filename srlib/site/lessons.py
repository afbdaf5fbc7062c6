"""What the syllabus shows of a lesson, read from its executed notebook.

The first markdown cell holds the title (`# ...`), a `## Learning objectives`
list and a `**Time:**` line; the cell tagged `result` printed the `RESULT:` line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..course import result_line
from ..errors import SrlibError

TIME_LINE = re.compile(r"^\*\*Time:\*\*[ \t]*(.+(?:\n(?![ \t]*\n|[ \t]*[#*>|-]).+)*)", re.MULTILINE)
LIST_ITEM = re.compile(r"^\s*[-*+]\s+")


@dataclass(frozen=True)
class Lesson:
    """One page of the site: its file name and the syllabus entry."""

    path: Path
    slug: str  # page name without .html, e.g. 00_welcome
    title: str
    objectives: tuple[str, ...]  # markdown, one item each
    time: str  # markdown after **Time:**, "" when the notebook has none
    result: str  # the RESULT line, or the error that stopped the run
    finished: bool  # False when a cell raised (the page shows the error)
    mode: str  # "smoke", "learner" or "" when the notebook was not run by papermill

    @property
    def page(self) -> str:
        return f"{self.slug}.html"

    @property
    def short_title(self) -> str:
        """The title up to its colon ("03 · GAN theory"): what the previous/next links show."""
        return self.title.split(":")[0].strip()


PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"  # the banner papermill puts above the cells of a failed run


def first_markdown(nb) -> str:
    return next((c.source for c in nb.cells if c.cell_type == "markdown"
                 and PAPERMILL_ERROR_TAG not in c.get("metadata", {}).get("tags", [])), "")


def title_of(markdown: str, fallback: str) -> str:
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def objectives_of(markdown: str) -> tuple[str, ...]:
    """The items of the list under `## Learning objectives`; indented lines continue an item."""
    items: list[str] = []
    inside = False
    for line in markdown.splitlines():
        if line.startswith("#"):
            if inside:
                break
            inside = line.lstrip("#").strip().lower() == "learning objectives"
        elif inside:
            if LIST_ITEM.match(line):
                items.append(LIST_ITEM.sub("", line).strip())
            elif items and line.startswith((" ", "\t")) and line.strip():
                items[-1] += " " + line.strip()
            elif items and line.strip():
                break
    return tuple(items)


def mode_of(nb) -> str:
    params = nb.metadata.get("papermill", {}).get("parameters", {})
    return "" if "SMOKE" not in params else ("smoke" if params["SMOKE"] else "learner")


def error_of(nb) -> str:
    """`Name: message` of the first error a cell raised, "" when none did."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".splitlines()[0][:200]
    return ""


def read_lesson(path: Path, nb) -> Lesson:
    md = first_markdown(nb)
    time = TIME_LINE.search(md)
    error = error_of(nb)
    return Lesson(path=path, slug=path.stem, title=title_of(md, path.stem), objectives=objectives_of(md),
                  time=" ".join(time.group(1).split()) if time else "", result=error or result_line(nb),
                  finished=not error, mode=mode_of(nb))


def check_notebooks(paths) -> list[Path]:
    """Existing .ipynb files, sorted by name (the NN_ prefix orders the syllabus), unique page names."""
    paths = sorted((Path(p) for p in paths), key=lambda p: p.name)
    if not paths:
        raise SrlibError("no executed notebooks to publish: run `make course` (or `python -m srlib course --smoke`) "
                         "first, or name them.")
    for p in paths:
        if p.suffix != ".ipynb" or not p.is_file():
            raise SrlibError(f"{p}: not an executed notebook (.ipynb file); give the notebooks that "
                             "`python -m srlib course` wrote to build/executed/.")
    stems = [p.stem for p in paths]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise SrlibError(f"two notebooks would make the same page {twice[0]}.html: give each name once.")
    return paths
