"""Shared fixtures: where the real data sets are, when they are there."""
import os
from pathlib import Path

import pytest
import torch

from srlib.data.root import REPO_ROOT


def find_datasets() -> Path | None:
    """The folder with the real data sets: $SRLIB_DATA_DIR if it holds Set5, else ../shared/datasets."""
    for cand in (os.environ.get("SRLIB_DATA_DIR"), REPO_ROOT.parent / "shared" / "datasets"):
        if cand and (Path(cand) / "Set5" / "x4" / "HR").is_dir():
            return Path(cand).resolve()
    return None


@pytest.fixture(scope="session")
def datasets() -> Path:
    path = find_datasets()
    if path is None:
        pytest.skip("real data sets not found (no $SRLIB_DATA_DIR with Set5, no ../shared/datasets)")
    return path


@pytest.fixture
def empty_root(tmp_path, monkeypatch) -> Path:
    """A data root with nothing in it."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("SRLIB_DATA_DIR", str(root))
    return root


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """The unit tests use tiny tensors, for which one thread is fastest (and immune to a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
