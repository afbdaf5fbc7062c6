"""The site's HTML: each executed notebook through nbconvert's lab template made local, and the syllabus page."""
from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

from .alt_text import describe_figures
from .lessons import Lesson

TEMPLATES = Path(__file__).parent / "templates"
COURSE_TITLE = "GAN-based image super-resolution"


def lesson_page(nb, lesson: Lesson, prev: Lesson | None, next_: Lesson | None) -> str:
    """One lesson as a page that loads only lib/ files (require.js, embed-amd.js, anywidget, KaTeX)."""
    from nbconvert import HTMLExporter

    describe_figures(nb, lesson.short_title)
    exporter = HTMLExporter(template_name="srlib_site", extra_template_basedirs=[str(TEMPLATES)])
    resources = {"metadata": {"name": lesson.title}, "srlib_nav": {"prev": prev, "next": next_}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def markdown(text: str) -> str:
    """Markdown to HTML as nbconvert renders a cell (maths kept for KaTeX); one paragraph loses its <p>."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    out = markdown2html_mistune(text).strip()
    if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1:
        out = out[3:-4]
    return out


def lesson_entry(lesson: Lesson) -> str:
    anchor = f"lesson-{html.escape(lesson.slug)}"
    parts = [f'<li><article aria-labelledby="{anchor}">',
             f'<h3 id="{anchor}"><a href="{html.escape(lesson.page)}">{markdown(lesson.title)}</a></h3>']
    if lesson.time:
        parts.append(f'<p class="time"><strong>Time:</strong> {markdown(lesson.time)}</p>')
    if lesson.objectives:
        parts.append("<h4>Learning objectives</h4>")
        parts.append('<ul class="objectives">' + "".join(f"<li>{markdown(o)}</li>" for o in lesson.objectives)
                     + "</ul>")
    mode = f" ({lesson.mode} mode)" if lesson.mode else ""
    if lesson.finished:
        parts.append(f'<p class="result"><strong>Result{mode}:</strong> {html.escape(lesson.result)}</p>')
    else:
        parts.append(f'<p class="result failed"><strong>Result{mode}:</strong> the notebook stopped with an error '
                     f'(shown on its page): {html.escape(lesson.result)}</p>')
    parts.append("</article></li>")
    return "\n".join(parts)


def index_page(lessons: list[Lesson]) -> str:
    """The syllabus: every lesson's title (linked), time, learning objectives and the result its run printed."""
    modes = sorted({lesson.mode for lesson in lessons if lesson.mode})
    run = f", executed in {' and '.join(modes)} mode" if modes else ""
    built = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    entries = "\n".join(lesson_entry(lesson) for lesson in lessons)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{COURSE_TITLE}: the course</title>
<link rel="stylesheet" href="lib/katex/katex.min.css">
<link rel="stylesheet" href="lib/site.css">
</head>
<body class="srlib-index">
<a class="skip-link" href="#lessons">Skip to the lessons</a>
<header>
<h1>{COURSE_TITLE}</h1>
<p class="lead">From first principles to ESRGAN, in {len(lessons)} lesson{'s' if len(lessons) != 1 else ''}
that run{'' if len(lessons) != 1 else 's'} on a laptop CPU. Each page is an executed notebook{run}: its outputs, figures and widgets work offline.</p>
</header>
<main id="lessons">
<h2>Lessons</h2>
<ol class="lessons">
{entries}
</ol>
</main>
<footer>
<p>Built {built} by <code>python -m srlib site</code>. To run the lessons yourself: <code>make lab</code>.</p>
</footer>
<script src="lib/katex/katex.min.js"></script>
<script src="lib/katex/contrib/auto-render.min.js"></script>
<script src="lib/render-math.js"></script>
</body>
</html>
"""
