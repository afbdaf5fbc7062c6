"""Loading whole data sets into memory, with the embedded samples as fallback."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..degrade import bicubic_downsample, crop_to_multiple
from .images import load_image
from .registry import benchmark_pairs, check_scale, get_spec, is_available, training_files
from .root import data_root
from .samples import EVAL_SAMPLES, TRAIN_SAMPLES, load_sample


@dataclass
class ImagePair:
    name: str
    hr: np.ndarray  # (H, W, 3) float32 in [0, 1], sides divisible by the scale
    lr: np.ndarray  # (H/s, W/s, 3)


@dataclass
class BenchmarkSet:
    """A test set in memory. `source` says in words where the images came from."""

    name: str
    scale: int
    source: str
    pairs: list[ImagePair] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self):
        return iter(self.pairs)

    def __getitem__(self, i) -> ImagePair:
        return self.pairs[i]


def _sample_pairs(names, scale: int) -> list[ImagePair]:
    pairs = []
    for n in names:
        hr = crop_to_multiple(load_sample(n), scale)
        pairs.append(ImagePair(n, hr, bicubic_downsample(hr, scale).astype(np.float32)))
    return pairs


def load_benchmark(name: str = "Set5", scale: int = 4, fallback: bool = True, root: Path | None = None) -> BenchmarkSet:
    """Load a benchmark set's HR images and MATLAB-made LR images.

    When the set is not in the data root and `fallback` is true, the embedded
    samples stand in (LR made by the course's MATLAB-exact bicubic) and
    `source` says so; with `fallback=False` a missing set is an error. A scale
    the set does not come at is always an error, checked before any fallback.
    """
    spec = get_spec(name)
    check_scale(spec, scale)
    if fallback and not is_available(spec.name, scale, root):
        where = root or data_root()
        src = f"embedded scikit-image samples ({spec.name} x{scale} is not in {where}; `python -m srlib download {spec.name}` gets it)"
        return BenchmarkSet("samples", scale, src, _sample_pairs(EVAL_SAMPLES, scale))
    pairs = [ImagePair(hr.stem, load_image(hr), load_image(lr)) for hr, lr in benchmark_pairs(spec.name, scale, root)]
    for p in pairs:
        if p.hr.shape[0] != p.lr.shape[0] * scale or p.hr.shape[1] != p.lr.shape[1] * scale:
            p.hr = crop_to_multiple(p.hr, scale)
    return BenchmarkSet(spec.name, scale, f"{spec.name} x{scale} from {spec.directory(root)}", pairs)


def load_training_images(
    names=("T91", "BSDS200"), fallback: bool = True, limit: int | None = None, root: Path | None = None
) -> tuple[list[np.ndarray], str]:
    """HR training images of the named sets, and a line saying which were used.

    Falls back to the embedded training samples when none of the sets is present.
    """
    names = [names] if isinstance(names, str) else list(names)
    found = [get_spec(n).name for n in names if is_available(n, root=root)]
    if not found:
        if not fallback:
            training_files(names[0], root)  # raises with what to do
        images = [load_sample(n) for n in TRAIN_SAMPLES][:limit]
        return images, f"{len(images)} embedded scikit-image samples ({', '.join(names)} not in {root or data_root()})"
    missing = [n for n in names if get_spec(n).name not in found]
    if missing:
        warnings.warn(f"{', '.join(missing)} not in the data root; training on {', '.join(found)} only.", stacklevel=2)
    files = [f for n in found for f in training_files(n, root)][:limit]
    return [load_image(f) for f in files], f"{len(files)} images of {' + '.join(found)}"
