"""The data sets the course knows, and where each lives under the data root.

The layout is the one of `shared/datasets` (and of what `python -m srlib
download` writes): benchmark sets as `NAME/xS/{HR,LR}/img_NNN.png`, training sets
as `train/NAME/*.png|jpg`.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SrlibError
from .root import data_root

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str  # "benchmark": HR/LR pairs per scale; "train": HR images only
    folder: str  # relative to the data root
    scales: tuple[int, ...]
    count: int
    about: str

    def directory(self, root: Path | None = None) -> Path:
        return (root or data_root()) / self.folder


DATASETS: dict[str, DatasetSpec] = {
    s.name: s
    for s in [
        DatasetSpec("Set5", "benchmark", "Set5", (2, 3, 4), 5, "5 classic test images (Bevilacqua et al., BMVC 2012)"),
        DatasetSpec("Set14", "benchmark", "Set14", (2, 3, 4), 14, "14 test images (Zeyde et al., 2010)"),
        DatasetSpec("BSD100", "benchmark", "BSD100", (4,), 100, "BSDS300 test split, 100 natural photos (Martin et al., ICCV 2001)"),
        DatasetSpec("Urban100", "benchmark", "Urban100", (4,), 100,
                    "100 urban photos with regular structures (Huang et al., CVPR 2015)"),
        DatasetSpec("T91", "train", "train/T91", (), 91, "91 training images (Yang et al., TIP 2010)"),
        DatasetSpec("BSDS200", "train", "train/BSDS200", (), 200, "BSDS500 train split, 200 photos (Arbelaez et al., TPAMI 2011)"),
    ]
}


def get_spec(name: str) -> DatasetSpec:
    """Look a data set up by name (case-insensitive); unknown names get suggestions."""
    for key, spec in DATASETS.items():
        if key.lower() == str(name).lower():
            return spec
    close = difflib.get_close_matches(str(name), list(DATASETS), n=1, cutoff=0.4)
    hint = f" Did you mean {close[0]}?" if close else ""
    raise SrlibError(f"unknown data set {name!r}.{hint} Known: {', '.join(DATASETS)}.")


def check_scale(spec: DatasetSpec, scale) -> None:
    """Refuse a scale the set does not come at (before any fallback, so that no other data is scored instead)."""
    if spec.kind != "benchmark":
        raise SrlibError(f"{spec.name} is a training set of HR images; it has no x{scale} pairs. Use load_training_images.")
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale not in spec.scales:
        scales = ", ".join(f"x{s}" for s in spec.scales)
        raise SrlibError(f"{spec.name} comes at {scales} only, not x{scale}: choose one of those scales.")


def list_images(folder: Path) -> list[Path]:
    """The image files in `folder` (sorted); [] when it does not exist, SrlibError when it cannot be read."""
    try:
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []
    except PermissionError:
        raise SrlibError(
            f"cannot read the folder {folder}: permission denied. Give yourself access (chmod -R u+rX on it) "
            f"or point SRLIB_DATA_DIR at a copy you can read."
        ) from None


def benchmark_pairs(name: str, scale: int, root: Path | None = None) -> list[tuple[Path, Path]]:
    """(HR, LR) file pairs of a benchmark set; raises with what to do when absent."""
    spec = get_spec(name)
    check_scale(spec, scale)
    base = spec.directory(root) / f"x{scale}"
    hrs = list_images(base / "HR")
    if not hrs:
        raise SrlibError(
            f"{spec.name} x{scale} not found in {base}. Run `python -m srlib download {spec.name}` "
            f"or point SRLIB_DATA_DIR at a folder that has it."
        )
    pairs = []
    for hr in hrs:
        lr = base / "LR" / hr.name
        if not lr.is_file():
            raise SrlibError(f"{spec.name} x{scale}: {hr.name} has no LR partner in {lr.parent}. Re-download the set.")
        pairs.append((hr, lr))
    return pairs


def training_files(name: str, root: Path | None = None) -> list[Path]:
    spec = get_spec(name)
    if spec.kind != "train":
        raise SrlibError(f"{spec.name} is a benchmark set; train on T91 or BSDS200 so the test sets stay unseen.")
    files = list_images(spec.directory(root))
    if not files:
        raise SrlibError(f"{spec.name} not found in {spec.directory(root)}. Run `python -m srlib download {spec.name}`.")
    return files


def is_available(name: str, scale: int | None = None, root: Path | None = None) -> bool:
    """True when the data set (at that scale, for benchmarks) is in the data root."""
    spec = get_spec(name)
    if spec.kind == "train":
        return bool(list_images(spec.directory(root)))
    if scale is not None:
        check_scale(spec, scale)
    scales = [scale] if scale is not None else list(spec.scales)
    return all(list_images(spec.directory(root) / f"x{s}" / "HR") for s in scales)
