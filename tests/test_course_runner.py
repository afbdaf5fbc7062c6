"""`make course`'s runner on a tiny notebook: executed copy, one result line."""
import nbformat

from srlib.course import run_course


def make_nb(path, body: str):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('import os\nSMOKE = os.environ.get("SRLIB_SMOKE", "0") == "1"')
    params.metadata["tags"] = ["parameters"]
    result = nbformat.v4.new_code_cell(body)
    result.metadata["tags"] = ["result"]
    nb.cells = [nbformat.v4.new_markdown_cell("# 00 · Tiny"), params, result]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_runner_reports_results_and_failures(tmp_path, capsys):
    src = tmp_path / "nbs"
    src.mkdir()
    make_nb(src / "00_tiny.ipynb", 'print(f"RESULT: smoke={SMOKE}")')
    make_nb(src / "01_broken.ipynb", 'raise ValueError("on purpose")')
    ok = run_course(smoke=True, folder=src, out_dir=tmp_path / "build")
    out = capsys.readouterr().out
    assert not ok
    line0 = [ln for ln in out.splitlines() if ln.startswith("00_tiny")][0]
    line1 = [ln for ln in out.splitlines() if ln.startswith("01_broken")][0]
    assert " ok " in line0 and line0.endswith("smoke=True")
    assert "FAILED" in line1 and "ValueError: on purpose" in line1
    assert (tmp_path / "build" / "executed" / "00_tiny.ipynb").exists()
    assert "RESULT: smoke=True" in (tmp_path / "build" / "executed" / "00_tiny.ipynb").read_text()
    assert not (tmp_path / "build" / "html").exists()  # the HTML is the site's (srlib.site), not nbconvert's CDN page


def test_kernel_sees_the_mode_in_its_environment(tmp_path, capsys, monkeypatch):
    """Budgets a parameters cell derives from SRLIB_SMOKE follow `--smoke`, whatever the caller's environment."""
    src = tmp_path / "nbs"
    src.mkdir()
    make_nb(src / "00_env.ipynb", 'import os\nprint(f"RESULT: env={os.environ.get(\'SRLIB_SMOKE\')}")')
    for smoke, env in ((True, "0"), (False, "1")):
        monkeypatch.setenv("SRLIB_SMOKE", env)
        assert run_course(smoke=smoke, folder=src, out_dir=tmp_path / "build")
        line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("00_env")][0]
        assert line.endswith(f"env={'1' if smoke else '0'}"), line
        assert __import__("os").environ["SRLIB_SMOKE"] == env  # restored for the caller
