"""Where the course looks for data: `SRLIB_DATA_DIR`, else `data/` in the repository."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "SRLIB_DATA_DIR"


def data_root() -> Path:
    """The data root: `$SRLIB_DATA_DIR` when set, else `<repository>/data`."""
    env = os.environ.get(ENV_VAR, "").strip()
    return Path(env).expanduser().resolve() if env else REPO_ROOT / "data"
