"""What the browser tests share: Debian's chromium under Playwright, a JupyterLab server, pixel checks.

Playwright cannot download its own browsers here, so it drives the system's
chromium (`executable_path`); CI runs as root, hence `--no-sandbox`.
"""
from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDGET_KINDS = ("before_after", "zoom_viewer", "model_toggle", "interpolation_slider", "grid_explorer")


def chromium_path() -> str | None:
    """The system's chromium binary, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Recorder:
    """Console errors, page errors and failed requests of one page, as lines for an assertion message."""

    def __init__(self, page, ignore=()):
        self.errors: list[str] = []
        self.ignored: list[str] = []
        self.failed: list[str] = []
        self.ignore = ignore
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("requestfailed", lambda req: self.failed.append(f"{req.url} ({req.failure})"))

    def _console(self, msg):
        if msg.type != "error":
            return
        line = f"console.error: {msg.text} [{msg.location.get('url', '')}]"
        (self.ignored if any(rule(msg.text) for rule in self.ignore) else self.errors).append(line)


def pixels(locator) -> np.ndarray:
    """The element as rendered on screen, an (H, W, 3) uint8 array."""
    return np.asarray(Image.open(io.BytesIO(locator.screenshot(animations="disabled"))).convert("RGB"))


# The shown images' boxes inside a widget, relative to it, each clipped to its parent (a zoom panel clips its image).
IMAGE_BOXES_JS = """root => {
  const r = root.getBoundingClientRect();
  return [...root.querySelectorAll('img')].filter(i => i.checkVisibility()).map(i => {
    const a = i.getBoundingClientRect(), p = i.parentElement.getBoundingClientRect();
    return [Math.max(a.left, p.left) - r.left, Math.max(a.top, p.top) - r.top,
            Math.min(a.right, p.right) - r.left, Math.min(a.bottom, p.bottom) - r.top];
  }).filter(b => b[2] > b[0] && b[3] > b[1]);
}"""


def image_mask(locator, shape) -> np.ndarray:
    """True where the element's screenshot shows one of its visible <img> elements."""
    mask = np.zeros(shape[:2], bool)
    for x0, y0, x1, y1 in locator.evaluate(IMAGE_BOXES_JS):
        mask[max(int(y0), 0):max(int(np.ceil(y1)), 0), max(int(x0), 0):max(int(np.ceil(x1)), 0)] = True
    return mask


def changed_fraction(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Share of the pixels under `mask` that differ, over the part both screenshots cover (a widget may resize)."""
    h, w = min(a.shape[0], b.shape[0], mask.shape[0]), min(a.shape[1], b.shape[1], mask.shape[1])
    m = mask[:h, :w]
    diff = np.any(a[:h, :w] != b[:h, :w], axis=2) & m
    return float(diff.sum() / max(m.sum(), 1))


def wait_for_change(locator, before: np.ndarray, before_mask: np.ndarray, timeout: float = 15.0) -> float:
    """Poll until the pixels of the element's images (shown before or now) differ from `before`.

    Returns the changed share of those pixels, 0.0 at the timeout. Only image
    pixels count: a caption or a readout that changes is not enough.
    """
    deadline = time.monotonic() + timeout
    while True:
        after = pixels(locator)
        now = image_mask(locator, after.shape)
        h, w = min(now.shape[0], before_mask.shape[0]), min(now.shape[1], before_mask.shape[1])
        frac = changed_fraction(before, after, before_mask[:h, :w] | now[:h, :w])
        if frac > 0 or time.monotonic() > deadline:
            return frac
        time.sleep(0.2)


def drag(page, locator, start=(0.5, 0.5), end=(0.2, 0.5), steps: int = 8):
    """Press the mouse at `start` and release at `end`, both as fractions of the element's box."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    x0, y0 = box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1]
    x1, y1 = box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=steps)
    page.mouse.up()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_lab_settings(settings_dir: Path):
    """User settings for the test server: every cell in the DOM, widget state saved with the notebook
    (the static site needs it) and saved only when the test says, no news or update checks (no internet)."""
    files = {
        "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    }
    for rel, value in files.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")


@contextmanager
def jupyter_lab(root_dir: Path, work_dir: Path, env_extra: dict[str, str], timeout: float = 90.0):
    """A JupyterLab server on 127.0.0.1 serving `root_dir`; yields (base_url, token); always shut down after."""
    port, token = free_port(), secrets.token_hex(16)
    write_lab_settings(work_dir / "settings")
    env = dict(os.environ, **env_extra,
               JUPYTER_RUNTIME_DIR=str(work_dir / "runtime"), JUPYTER_CONFIG_DIR=str(work_dir / "config"),
               JUPYTERLAB_SETTINGS_DIR=str(work_dir / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(work_dir / "workspaces"))
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
           "--LabApp.news_url=None", "--LabServerApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = (work_dir / "jupyter.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root_dir)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                req = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"})
                urllib.request.urlopen(req, timeout=5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not start: {lab_log(work_dir)}")
                time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def lab_log(work_dir: Path, chars: int = 3000) -> str:
    path = work_dir / "jupyter.log"
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


# JavaScript run in the notebook page: the state of every code cell and of the kernel.
CELL_STATE_JS = """() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map((c, i) => ({
    index: i,
    prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || '',
    empty: ((c.querySelector('.cm-content') || {}).textContent || '').trim() === '',
  }));
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return {cells, status: ind ? ind.getAttribute('data-status') : null};
}"""


def open_notebook(page, base: str, token: str, name: str, code_cells: int, timeout: float = 90.0):
    """Open a notebook alone in JupyterLab (`reset`: no tab restored); return once its cells show, kernel idle."""
    page.goto(f"{base}/lab/tree/{name}?reset&token={token}")
    deadline = time.monotonic() + timeout
    while True:
        state = page.evaluate(CELL_STATE_JS)
        if state["status"] == "idle" and len(state["cells"]) == code_cells:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}: kernel {state['status']}, {len(state['cells'])}/{code_cells} code cells shown")
        time.sleep(0.5)


def menu(page, top: str, command: str):
    """Choose a menu bar item: the menu `top`, then the entry that runs `command` (JupyterLab's command id)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').click()


def save_and_wait(page, path: Path, timeout: float = 30.0) -> dict:
    """Save the open notebook from the File menu; return it as written: every code cell run, widget state in."""
    before = path.stat().st_mtime_ns
    menu(page, "File", "docmanager:save")
    deadline = time.monotonic() + timeout
    while True:
        try:
            if path.stat().st_mtime_ns != before:
                nb = json.loads(path.read_text(encoding="utf-8"))
                code = [c for c in nb["cells"] if c["cell_type"] == "code"]
                if nb["metadata"].get("widgets") and all(c.get("execution_count") for c in code):
                    return nb
        except (OSError, ValueError, KeyError):
            pass  # not written yet, or half written
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name}: not saved, run and with widget state, within {timeout:.0f} s")
        time.sleep(0.5)


def run_all_and_wait(page, timeout: float = 480.0) -> dict:
    """Run all cells from the Run menu; return the cell state once the kernel is idle and no cell is queued.

    Stops waiting early when the run halted (kernel idle, nothing queued, but
    some cell never ran: an error stops "Run All").
    """
    for _ in range(3):  # a click while the page is still settling can be lost: retry until cells are queued
        menu(page, "Run", "runmenu:run-all")
        started = time.monotonic()
        while time.monotonic() - started < 10:
            if any(c["prompt"] != "[ ]:" for c in page.evaluate(CELL_STATE_JS)["cells"]):
                break
            time.sleep(0.3)
        else:
            continue
        break
    deadline = time.monotonic() + timeout
    settled_since = None
    while True:
        state = page.evaluate(CELL_STATE_JS)
        busy = state["status"] != "idle" or any("*" in c["prompt"] for c in state["cells"])
        if not busy:
            settled_since = settled_since or time.monotonic()
            if time.monotonic() - settled_since > 2.0:
                return state
        else:
            settled_since = None
        if time.monotonic() > deadline:
            return state
        time.sleep(0.5)
