"""Every notebook follows the template in notebooks/README.md."""
import re

import nbformat
import pytest

from srlib.course import NOTEBOOK_NAME, list_notebooks
from srlib.data.root import REPO_ROOT

NOTEBOOKS = list_notebooks()


def test_notebooks_are_numbered_without_gaps():
    names = sorted(p.name for p in (REPO_ROOT / "notebooks").glob("*.ipynb"))
    assert names, "no notebooks"
    assert all(NOTEBOOK_NAME.match(n) for n in names), names
    assert [int(n[:2]) for n in names] == list(range(len(names)))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_template(path):
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    first = cells[0]
    assert first.cell_type == "markdown"
    assert re.match(rf"# {path.name[:2]} · \S", first.source), "title must be '# NN · Title'"
    for needle in ("## Learning objectives", "**Prerequisites:**", "**Time:**"):
        assert needle in first.source, f"first cell lacks {needle}"
    time_line = re.search(r"\*\*Time:\*\* about (\d+) min reading, (\d+) min compute in learner mode on 2 CPU cores",
                          first.source)
    assert time_line, "time line must read '**Time:** about N min reading, M min compute in learner mode on 2 CPU cores'"
    assert int(time_line.group(2)) <= 10, "learner mode must fit in 10 minutes"
    tagged = lambda tag: [c for c in cells if tag in c.get("metadata", {}).get("tags", [])]  # noqa: E731
    params = tagged("parameters")
    assert len(params) == 1 and params[0].cell_type == "code"
    assert re.search(r'SMOKE\s*=\s*os\.environ\.get\("SRLIB_SMOKE"', params[0].source)
    assert re.search(r"^DEVICE\s*=", params[0].source, re.M), "the parameters cell sets DEVICE (the template's device)"
    markdown = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    for heading in ("## Check your understanding", "## Summary", "## Further reading"):
        assert heading in markdown, f"missing section {heading}"
    assert "<details>" in markdown, "exercise solutions belong in a <details> block"
    assert "srlib.exercises" in "\n".join(c.source for c in cells if c.cell_type == "code"), "exercises need checkers"
    result = tagged("result")
    assert len(result) == 1 and result[0] is [c for c in cells if c.cell_type == "code"][-1]
    assert "RESULT:" in result[0].source
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_committed_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            assert not c.outputs and c.execution_count is None, "strip outputs before committing"
