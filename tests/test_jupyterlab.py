"""A real JupyterLab 4 server: it starts, serves the notebooks, and has the ipywidgets extension."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from srlib.data.root import REPO_ROOT

TOKEN = "srlib-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str):
    req = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    port = free_port()
    jupyter = Path(sys.executable).with_name("jupyter")
    home = tmp_path_factory.mktemp("home")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(home / "runtime"), HOME=str(home))
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={REPO_ROOT}", "--ServerApp.open_browser=False"] + (["--allow-root"] if os.geteuid() == 0 else []),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            get(f"{base}/api/status")
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("jupyter lab did not answer within 60 s")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def test_lab_serves_the_notebooks(lab):
    listing = get(f"{lab}/api/contents/notebooks")
    names = {item["name"] for item in listing["content"]}
    assert "00_welcome.ipynb" in names and "01_sr_problem.ipynb" in names
    nb = get(f"{lab}/api/contents/notebooks/00_welcome.ipynb")
    assert nb["type"] == "notebook" and nb["content"]["cells"]


def test_lab_is_version_4_with_the_widgets_extension(lab):
    import jupyterlab

    assert jupyterlab.__version__.startswith("4.")
    extensions = {e["name"]: e for e in get(f"{lab}/lab/api/extensions")}
    widgets = extensions.get("jupyter-widgets-jupyterlab-manager") or extensions.get("@jupyter-widgets/jupyterlab-manager")
    assert widgets is not None, sorted(extensions)
    assert widgets["enabled"] and widgets["installed"]
