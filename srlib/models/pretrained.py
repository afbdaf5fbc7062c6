"""Course checkpoints: small models trained with the course's own CPU recipes and shipped in `srlib/pretrained/`.

They stand in for runs that take longer than a lesson. Each one is reproducible:
`python -m srlib train RECIPE` writes the same kind of file into the checkpoint
folder, and a learner's own run there is preferred over the shipped one.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from torch import nn

from ..errors import SrlibError
from .weights import checkpoint_dir, load_generator

# course model name (= recipe-size) -> what it is
COURSE_MODELS = {
    "srresnet_x4-cpu": "SRResNet (srresnet-cpu preset), L1 pretraining: `python -m srlib train srresnet_x4`",
    "rrdbnet_x4-cpu": "RRDBNet (rrdbnet-cpu preset), L1 pretraining: `python -m srlib train rrdbnet_x4`",
}


def shipped_path(name: str) -> Path:
    return Path(str(resources.files("srlib.pretrained") / f"{name}.pt"))


def course_model_path(name: str, prefer_own: bool = True) -> tuple[Path, str]:
    """(path, where) of a course model: the learner's own run if there is one, else the shipped checkpoint."""
    if name not in COURSE_MODELS:
        raise SrlibError(f"unknown course model {name!r}; known: {', '.join(COURSE_MODELS)}.")
    own = checkpoint_dir() / name / "generator.pt"
    if prefer_own and own.is_file():
        return own, "your own run"
    shipped = shipped_path(name)
    if shipped.is_file():
        return shipped, "shipped course checkpoint"
    raise SrlibError(f"the course model {name} is neither in {own.parent} nor shipped with srlib; "
                     f"make it with {COURSE_MODELS[name].split(': ')[-1]}.")


def load_course_model(name: str, prefer_own: bool = True) -> tuple[nn.Module, dict]:
    """The generator of a course model in eval mode, and its metadata (incl. `path` and `source`)."""
    path, where = course_model_path(name, prefer_own)
    model, meta = load_generator(path)
    return model, {**meta, "path": str(path), "source": where}


def export_course_model(name: str, dataset: str = "Set5") -> Path:
    """Maintainers: copy your own run of a course model into srlib/pretrained/, with its measured scores.

    Run the recipe first (`python -m srlib train RECIPE`), with the real data sets
    under the data root; the file keeps the run's metadata plus {dataset}_psnr/_ssim.
    """
    from ..data import load_benchmark
    from ..evaluate import mean_scores, score_benchmark
    from .weights import load_weights_file, save_generator

    own = checkpoint_dir() / name / "generator.pt"
    model, meta = load_generator(own)
    header = load_weights_file(own)
    preset, scale = header["preset"], header["scale"]
    p, s = mean_scores(score_benchmark(model, load_benchmark(dataset, scale, fallback=False)))
    key = dataset.lower()
    meta = {**meta, f"{key}_psnr": round(p, 4), f"{key}_ssim": round(s, 4)}
    return save_generator(model, shipped_path(name), preset, scale, **meta)
