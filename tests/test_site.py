"""The offline course site (srlib.site): syllabus, local-only pages, assets, size; built from real executed notebooks.

No browser here (tests/test_browser*.py open the pages); these tests read the files the build wrote.
"""
import html
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from srlib.course import result_line, run_notebook
from srlib.data.root import REPO_ROOT
from srlib.errors import SrlibError
from srlib.site import build_site, folder_size
from srlib.site import assets
from srlib.site.lessons import check_notebooks, objectives_of, read_lesson, title_of
from srlib.site.pages import markdown

# tag -> attributes that make the browser load something (links <a href> are navigation, not loads)
LOADS = {"script": ["src"], "link": ["href"], "img": ["src", "srcset"], "source": ["src", "srcset"],
         "iframe": ["src"], "video": ["src", "poster"], "audio": ["src"], "embed": ["src"], "object": ["data"],
         "input": ["src"], "track": ["src"]}
SCHEME = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")

FIRST_CELL = """# 01 · Tiny widget lesson: a test

Why this exists.

## Learning objectives
- Read $y = (x \\ast k)\\downarrow_s + n$ aloud, and the `code` too.
- Say what a second objective is, on a line
  that continues.

**Prerequisites:** none.

**Time:** about 2 min reading, 1 s compute
in learner mode.

$$\\mathcal{L}_D = -\\mathbb{E}\\left[\\log D(x)\\right]$$
"""

TINY_WIDGET = '''import anywidget, traitlets

class Tiny(anywidget.AnyWidget):
    _esm = "export default { render({ model, el }) { el.textContent = 'tiny ' + model.get('value'); } };"
    value = traitlets.Int(7).tag(sync=True)

Tiny()'''


class Loads(HTMLParser):
    """Every (tag, attribute, value) that loads a resource, and the text of inline <style> elements."""

    def __init__(self):
        super().__init__()
        self.loads, self.styles, self.scripts, self._in_style = [], [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in LOADS.get(tag, []):
            if attrs.get(name):
                self.loads.append((tag, name, attrs[name]))
        if tag == "script":
            self.scripts.append(attrs)
        if attrs.get("style"):
            self.styles.append(attrs["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def parse(page: Path) -> Loads:
    p = Loads()
    p.feed(page.read_text(encoding="utf-8"))
    return p


def make_notebook(path: Path, cells):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('import os\nSMOKE = os.environ.get("SRLIB_SMOKE", "0") == "1"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [cells[0], params, *cells[1:]]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def result_cell(source):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["result"]
    return cell


def npm_ready() -> bool:
    stamp = assets.NPM_CACHE / ".installed"
    installed = stamp.is_file() and stamp.read_text().strip() == assets.lock_digest(assets.PACKAGE_DIR)
    return installed or shutil.which("npm") is not None


NO_NPM = ("npm is not installed and build/site-npm/ holds no install of site/package-lock.json: the site cannot get "
          "its front-end files (sudo apt-get install nodejs npm)")


# ---------------------------------------------------------------- the syllabus entry, without execution


def test_title_objectives_and_time_from_the_first_cell(tmp_path):
    assert title_of(FIRST_CELL, "x") == "01 · Tiny widget lesson: a test"
    assert title_of("no heading", "fallback") == "fallback"
    assert objectives_of(FIRST_CELL) == ("Read $y = (x \\ast k)\\downarrow_s + n$ aloud, and the `code` too.",
                                         "Say what a second objective is, on a line that continues.")
    assert objectives_of("# T\n\nno objectives here\n- a list elsewhere") == ()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(FIRST_CELL)])
    lesson = read_lesson(tmp_path / "01_tiny.ipynb", nb)
    assert lesson.time == "about 2 min reading, 1 s compute in learner mode."  # the line that wraps is kept
    assert lesson.short_title == "01 · Tiny widget lesson"
    assert lesson.result == "(no result line)" and lesson.finished and lesson.mode == ""


def test_every_course_notebook_has_a_syllabus_entry():
    """The committed lessons carry what the index shows: a title, objectives and a time line."""
    for path in sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        lesson = read_lesson(path, nbformat.read(path, as_version=4))
        assert lesson.title.startswith(path.name[:2]), path.name
        assert len(lesson.objectives) >= 3, path.name
        assert re.search(r"\d+ min", lesson.time), (path.name, lesson.time)


def test_bad_notebook_lists_are_refused(tmp_path):
    with pytest.raises(SrlibError, match="no executed notebooks"):
        check_notebooks([])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SrlibError, match="not an executed notebook"):
        check_notebooks([tmp_path / "notes.txt"])
    with pytest.raises(SrlibError, match="not an executed notebook"):
        check_notebooks([tmp_path / "00_missing.ipynb"])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / d / "00_x.ipynb")
    with pytest.raises(SrlibError, match="same page 00_x.html"):
        check_notebooks([tmp_path / "a" / "00_x.ipynb", tmp_path / "b" / "00_x.ipynb"])


def test_front_end_versions_are_pinned_exactly():
    pkg = json.loads((REPO_ROOT / "site" / "package.json").read_text())
    lock = json.loads((REPO_ROOT / "site" / "package-lock.json").read_text())
    assert set(pkg["dependencies"]) == {"@jupyter-widgets/html-manager", "katex", "requirejs"}
    for name, version in pkg["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), (name, version)
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
        assert lock["packages"][""]["dependencies"][name] == version


def test_missing_npm_is_one_line_that_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no npm on it
    nb = tmp_path / "00_x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), nb)
    with pytest.raises(SrlibError, match=r"npm not found.*apt-get install nodejs npm") as e:
        build_site([nb], tmp_path / "site", npm_cache=tmp_path / "no-install")
    assert "\n" not in str(e.value)
    assert not (tmp_path / "site").exists()


# ---------------------------------------------------------------- a site built from real executed notebooks


@pytest.fixture(scope="module")
def smoke_site(tmp_path_factory):
    """Notebook 00 executed in smoke mode, a tiny anywidget lesson and a lesson that fails; the CLI builds the site."""
    if not npm_ready():
        pytest.skip(NO_NPM)
    try:
        assets.npm_modules()  # once per checkout; a registry out of reach skips with npm's own line
    except SrlibError as e:
        pytest.skip(f"the site's front-end files are not available: {e}")
    tmp = tmp_path_factory.mktemp("site")
    src = tmp / "nbs"
    src.mkdir()
    make_notebook(src / "01_tiny.ipynb", [nbformat.v4.new_markdown_cell(FIRST_CELL),
                                          nbformat.v4.new_code_cell(TINY_WIDGET),
                                          result_cell('print("RESULT: tiny <ok> & done")')])
    make_notebook(src / "02_broken.ipynb", [nbformat.v4.new_markdown_cell("# 02 · Broken\n\n**Time:** 1 min."),
                                            result_cell('raise ValueError("on purpose")')])
    build = tmp / "build"
    runs = [run_notebook(REPO_ROOT / "notebooks" / "00_welcome.ipynb", build, smoke=True),
            run_notebook(src / "01_tiny.ipynb", build, smoke=True),
            run_notebook(src / "02_broken.ipynb", build, smoke=True)]
    assert [ok for ok, _, _ in runs] == [True, True, False], runs
    out = tmp / "site"
    cli = subprocess.run([sys.executable, "-m", "srlib", "site", "--from", str(build / "executed"), "-o", str(out)],
                         capture_output=True, text=True, cwd=tmp)
    assert cli.returncode == 0, cli.stderr
    return {"executed": sorted((build / "executed").glob("*.ipynb")), "site": out, "stdout": cli.stdout}


@pytest.mark.slow
def test_index_lists_every_lesson_with_objectives_time_and_result(smoke_site):
    index = (smoke_site["site"] / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<html lang="en">', index) and "<h1>" in index and "<main" in index
    assert len(smoke_site["executed"]) == 3
    for path in smoke_site["executed"]:
        nb = nbformat.read(path, as_version=4)
        lesson = read_lesson(path, nb)
        assert f'<a href="{lesson.page}">{markdown(lesson.title)}</a>' in index
        assert lesson.time and markdown(lesson.time) in index
        for objective in lesson.objectives:
            assert f"<li>{markdown(objective)}</li>" in index
        assert html.escape(lesson.result) in index
        assert lesson.result == result_line(nb) or not lesson.finished
    welcome = read_lesson(smoke_site["executed"][0], nbformat.read(smoke_site["executed"][0], as_version=4))
    assert welcome.result != "(no result line)" and welcome.mode == "smoke" and len(welcome.objectives) >= 3
    assert "tiny &lt;ok&gt; &amp; done" in index
    assert re.search(r'class="result failed">.*?ValueError: on purpose</p>', index)  # the broken lesson says why
    assert index.count('class="result"') == 2


@pytest.mark.slow
def test_pages_load_only_local_files_that_exist(smoke_site):
    site = smoke_site["site"]
    pages = sorted(site.glob("*.html"))
    assert [p.name for p in pages] == ["00_welcome.html", "01_tiny.html", "02_broken.html", "index.html"]
    for page in pages:
        parsed = parse(page)
        assert parsed.loads, page.name
        for tag, attr, value in parsed.loads:
            if tag == "img" and value.startswith("data:image/"):
                continue  # figures are inlined
            assert not SCHEME.match(value), (page.name, tag, attr, value)
            assert (site / value.split("?")[0].split("#")[0]).is_file(), (page.name, value)
        for style in parsed.styles:
            assert not re.search(r"(url\(\s*['\"]?|@import\s+['\"]?)(https?:)?//", style), page.name
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=[\"']?(https?:)?//[^\"' >]*\.(js|css|mjs)", text), page.name
        assert "mathjax" not in text.lower() and "mermaid.esm" not in text


@pytest.mark.slow
def test_stylesheets_fonts_and_scripts_are_in_the_site(smoke_site):
    lib = smoke_site["site"] / "lib"
    for css in lib.rglob("*.css"):
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8")):
            if ref.startswith("data:"):
                continue
            assert not SCHEME.match(ref), (css.name, ref)
            if ref.endswith((".woff2", ".woff")):
                assert (css.parent / ref).is_file(), (css.name, ref)  # the browsers' formats are all there
    assert (lib / "anywidget" / "index.js").read_bytes() == assets.anywidget_module().read_bytes()
    config = (lib / "require-config.js").read_text()
    target = re.search(r'anywidget:\s*"([^"]+)"', config).group(1)
    assert (smoke_site["site"] / f"{target}.js").is_file()
    for name in ("require.js", "embed-amd.js", "katex/katex.min.js", "katex/contrib/auto-render.min.js", "site.css"):
        assert (lib / name).stat().st_size > 1000, name


@pytest.mark.slow
def test_widget_pages_embed_their_state_and_never_ask_a_cdn(smoke_site):
    site = smoke_site["site"]
    tiny = (site / "01_tiny.html").read_text(encoding="utf-8")
    state = json.loads(re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>',
                                 tiny, re.S).group(1))
    models = [m for m in state["state"].values() if m["model_module"] == "anywidget"]
    assert len(models) == 1 and "'tiny '" in models[0]["state"]["_esm"] and models[0]["state"]["value"] == 7
    assert 'type="application/vnd.jupyter.widget-view+json"' in tiny
    for page in ("00_welcome.html", "01_tiny.html"):
        scripts = parse(site / page).scripts
        embed = [s for s in scripts if s.get("src") == "lib/embed-amd.js"]
        assert len(embed) == 1, page
        assert not SCHEME.match(embed[0]["data-jupyter-widgets-cdn"]), page  # a missing module stays a local miss
        order = [s.get("src") for s in scripts if s.get("src")]
        # KaTeX's UMD files must run before require.js defines `define`, require-config before embed-amd
        assert order.index("lib/katex/katex.min.js") < order.index("lib/require.js")
        assert order.index("lib/require-config.js") < order.index("lib/embed-amd.js")
    assert "lib/embed-amd.js" not in (site / "02_broken.html").read_text(encoding="utf-8")  # no widgets, no loader


@pytest.mark.slow
def test_lesson_pages_link_to_the_index_and_their_neighbours(smoke_site):
    site = smoke_site["site"]
    names = ["00_welcome.html", "01_tiny.html", "02_broken.html"]
    for i, name in enumerate(names):
        text = (site / name).read_text(encoding="utf-8")
        assert text.count('<a href="index.html" rel="index">') == 2  # top and bottom
        assert text.count('rel="prev"') == 2 * (i > 0) and text.count('rel="next"') == 2 * (i + 1 < len(names))
        if i > 0:
            assert f'<a href="{names[i - 1]}" rel="prev">' in text
        if i + 1 < len(names):
            assert f'<a href="{names[i + 1]}" rel="next">' in text
    assert "$$\\mathcal{L}_D" in (site / "01_tiny.html").read_text(encoding="utf-8")  # left for KaTeX to typeset


@pytest.mark.slow
def test_size_is_printed_and_rebuild_replaces_the_site(smoke_site, tmp_path):
    site = smoke_site["site"]
    size = re.search(r"(\d+\.\d) MB", smoke_site["stdout"])
    assert size and float(size.group(1)) == round(folder_size(site) / 2**20, 1)
    assert float(size.group(1)) < 60
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    result = build_site(smoke_site["executed"][1:2], copy)
    assert sorted(p.name for p in copy.glob("*.html")) == ["01_tiny.html", "index.html"]
    assert result.bytes == folder_size(copy) and result.pages[0] == copy / "index.html"
    assert "lesson page(s)" in result.summary() and "MB" in result.summary()
    other = tmp_path / "not-a-site"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(SrlibError, match="not a course site"):
        build_site(smoke_site["executed"][1:2], other)
    assert (other / "keep.txt").read_text() == "mine"


def test_every_figure_gets_an_alt_text_from_its_section_and_the_text_above():
    import nbformat

    from srlib.site.alt_text import describe_figures, first_sentence

    nb = nbformat.v4.new_notebook()
    png = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})
    nb.cells = [nbformat.v4.new_markdown_cell("# 03 · A lesson"),
                nbformat.v4.new_markdown_cell("## 2 · The `REAL_MODEL` curve\n\nThe loss of **G** falls: $L_G$ here. More."),
                nbformat.v4.new_code_cell("plot()", outputs=[png]),
                nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", text="1")])]
    assert describe_figures(nb, "03 · A lesson") == 1
    alt = nb.cells[2].outputs[0].metadata["srlib_alt"]
    assert alt == "Figure 1, section “2 · The REAL_MODEL curve”: The loss of G falls: L_G here."
    assert "srlib_alt" not in nb.cells[3].outputs[0].get("metadata", {})
    assert first_sentence("see [the paper](http://x.org/p) now. Then") == "see the paper now."
