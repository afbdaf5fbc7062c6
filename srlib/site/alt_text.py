"""Alt text for a lesson's figures: what the page says about them, since a PNG of a plot carries no words.

Each image output gets `metadata["srlib_alt"]`: the figure's number, the section it is in and the first sentence
of the text just above its cell (lessons introduce a figure before the cell that draws it). The site's template
writes it as the <img>'s alt.
"""
from __future__ import annotations

import re

IMAGE_TYPES = ("image/png", "image/jpeg")
_MARKUP = re.compile(r"[*`#>]|\$+|\\\(|\\\)|<[^>]+>|\[([^\]]*)\]\([^)]*\)")


def plain(markdown: str) -> str:
    """Markdown as one line of plain words: links keep their text, emphasis, code marks and maths delimiters go."""
    text = _MARKUP.sub(lambda m: m.group(1) or "", markdown)
    return re.sub(r"\s+", " ", text).strip()


def first_sentence(markdown: str, limit: int = 220) -> str:
    """The first sentence of the first paragraph that is not a heading, at most `limit` characters."""
    for para in re.split(r"\n\s*\n", markdown):
        if para.lstrip().startswith("#"):
            continue
        text = plain(para)
        if text:
            sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
            return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"
    return ""


def describe_figures(nb, lesson_title: str) -> int:
    """Give every image output of `nb` an alt text (in place); returns how many were described."""
    heading, context, count = lesson_title, "", 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heads = re.findall(r"^#{1,4}\s+(.+)$", cell.source, flags=re.M)
            if heads:
                heading = plain(heads[-1])
            context = first_sentence(cell.source) or context
            continue
        for output in cell.get("outputs", []):
            if any(k in output.get("data", {}) for k in IMAGE_TYPES):
                count += 1
                about = f": {context}" if context else ""
                output.setdefault("metadata", {})["srlib_alt"] = f"Figure {count}, section “{heading}”{about}"
    return count
