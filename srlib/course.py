"""`make course`: execute every notebook with papermill and save the executed copies (build/executed/).

The HTML is the course website, built from those copies by `python -m srlib site` (srlib.site), which serves
every script, font and widget front end from local files; nbconvert's default page would load them from CDNs.

Each notebook gets one report line: name, ok/FAILED, seconds, and the line its
`result`-tagged cell printed (or the error that stopped it).
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

from .data.root import REPO_ROOT
from .errors import SrlibError

NOTEBOOK_NAME = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")


def list_notebooks(folder: Path | None = None) -> list[Path]:
    folder = folder or REPO_ROOT / "notebooks"
    return sorted(p for p in folder.glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))


def result_line(nb) -> str:
    """The `RESULT:` line printed by the cell tagged `result`, if any."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "result" in cell.get("metadata", {}).get("tags", []):
            for out in cell.get("outputs", []):
                for line in str(out.get("text", "")).splitlines():
                    if line.startswith("RESULT:"):
                        return line[len("RESULT:"):].strip()
    return "(no result line)"


def run_notebook(path: Path, out_dir: Path, smoke: bool) -> tuple[bool, float, str]:
    import logging

    import nbformat
    import papermill as pm

    executed = out_dir / "executed" / path.name
    executed.parent.mkdir(parents=True, exist_ok=True)
    # papermill cannot parse `SMOKE = os.environ.get(...)` as a literal and warns; the injected value still wins
    logging.getLogger("papermill").setLevel(logging.ERROR)
    start = time.perf_counter()
    ok, message = True, ""
    saved = os.environ.get("SRLIB_SMOKE")
    os.environ["SRLIB_SMOKE"] = "1" if smoke else "0"  # the kernel inherits it: values derived from SMOKE agree
    try:
        pm.execute_notebook(str(path), str(executed), parameters={"SMOKE": smoke}, cwd=str(path.parent),
                            kernel_name="python3", progress_bar=False)
    except pm.PapermillExecutionError as e:
        ok, message = False, f"{e.ename}: {e.evalue}".splitlines()[0][:200]
    except Exception as e:  # the kernel did not start, a missing kernel spec, ...: report it, go on to the next
        ok, message = False, f"could not run it: {type(e).__name__}: {e}".splitlines()[0][:200]
    finally:
        os.environ.pop("SRLIB_SMOKE") if saved is None else os.environ.__setitem__("SRLIB_SMOKE", saved)
    seconds = time.perf_counter() - start
    if executed.exists():
        if ok:
            message = result_line(nbformat.read(executed, as_version=4))
    return ok, seconds, message


def run_course(smoke: bool = False, only=None, folder: Path | None = None, out_dir: Path | None = None) -> bool:
    """Run the notebooks in order; print one line each; True when all succeeded."""
    out_dir = out_dir or REPO_ROOT / "build"
    notebooks = list_notebooks(folder)
    if only:
        unmatched = [o for o in only if not any(p.name.startswith(o) for p in notebooks)]
        if unmatched:
            raise SrlibError(f"--only {' '.join(unmatched)}: no notebook's name starts with that; the notebooks: "
                             f"{', '.join(p.stem for p in notebooks)}.")
        notebooks = [p for p in notebooks if any(p.name.startswith(o) for o in only)]
    mode = "smoke" if smoke else "learner"
    print(f"running {len(notebooks)} notebook(s) in {mode} mode; executed copies go to {out_dir / 'executed'} "
          "(`python -m srlib site` makes them the course website)")
    all_ok = True
    for path in notebooks:
        ok, seconds, message = run_notebook(path, out_dir, smoke)
        all_ok &= ok
        print(f"{path.stem:<28} {'ok' if ok else 'FAILED':<7}{seconds:7.1f} s  {message}", flush=True)
    return all_ok
