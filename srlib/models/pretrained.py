"""Course checkpoints: small models trained with the course's own CPU recipes and shipped in `srlib/pretrained/`.

They stand in for runs that take longer than a lesson. Each one is reproducible:
`python -m srlib train RECIPE` writes the same kind of file into the checkpoint
folder. A learner's own run there is preferred over the shipped one only when it
is a finished run of the recipe as shipped (its steps, its settings): a quick
`--steps 2` try or an interrupted run is never picked up by a lesson.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from torch import nn

from ..errors import SrlibError
from .weights import checkpoint_dir, load_generator, load_weights_file

# course model name (= recipe-size) -> what it is
COURSE_MODELS = {
    "srresnet_x4-cpu": "SRResNet (srresnet-cpu preset), L1 pretraining: `python -m srlib train srresnet_x4`",
    "srresnet_x4-course": "SRResNet at the paper's size (srresnet-course preset), L1, trained for hours in sittings: "
                          "`python -m srlib train srresnet_x4 --size course`",
    "rrdbnet_x4-cpu": "RRDBNet (rrdbnet-cpu preset), L1 pretraining: `python -m srlib train rrdbnet_x4`",
    "srgan_x4-cpu": "SRGAN-style GAN fine-tuning of srresnet_x4-cpu: `python -m srlib train srgan_x4`",
    "srgan_x4-course": "SRGAN-style GAN fine-tuning of srresnet_x4-course: `python -m srlib train srgan_x4 --size course`",
    "esrgan_x4-cpu": "ESRGAN-style GAN fine-tuning of rrdbnet_x4-cpu (EMA weights): `python -m srlib train esrgan_x4`",
    "realesrnet_x4-cpu": "Real-ESRNet: L1 fine-tuning of rrdbnet_x4-cpu on real-world degradations (EMA weights): "
                         "`python -m srlib train realesrnet_x4`",
    "realesrgan_x4-cpu": "Real-ESRGAN: GAN fine-tuning of realesrnet_x4-cpu on real-world degradations, U-Net "
                         "discriminator (EMA weights): `python -m srlib train realesrgan_x4`",
}
# settings that do not change what a run of the recipe is
RUN_ONLY_SETTINGS = ("name", "device", "amp", "notes")


def shipped_path(name: str) -> Path:
    return Path(str(resources.files("srlib.pretrained") / f"{name}.pt"))


def own_run_problem(name: str, path: Path) -> str | None:
    """None if the weights at `path` are a finished run of `name` (RECIPE-SIZE, e.g. srresnet_x4-cpu); else why not."""
    from ..train.config import load_recipe, recipe_run

    run = recipe_run(name)
    if run is None:
        return f"{name} is not a recipe and size"
    want = load_recipe(*run)
    try:
        header = load_weights_file(path)
    except SrlibError as e:
        return f"it cannot be read ({e})"
    meta = header.get("meta") if isinstance(header, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    if header.get("preset") != want.generator or header.get("scale") != want.scale:
        return (f"it holds a {header.get('preset')} x{header.get('scale')} model, "
                f"not the recipe's {want.generator} x{want.scale}")
    if meta.get("step") != want.steps:
        return f"it stopped at step {meta.get('step', '?')} of the recipe's {want.steps} (a partial or --steps run)"
    config = meta.get("config")
    if isinstance(config, dict):
        changed = [k for k, v in want.to_dict().items() if k not in RUN_ONLY_SETTINGS and config.get(k, v) != v]
        if changed:
            return f"its settings differ from the recipe's ({', '.join(changed)})"
    return None


def course_model_path(name: str, prefer_own: bool = True) -> tuple[Path, str]:
    """(path, where) of a course model: the learner's own finished run if there is one, else the shipped checkpoint."""
    path, where, _ = choose_course_model(name, prefer_own)
    return path, where


def choose_course_model(name: str, prefer_own: bool = True) -> tuple[Path, str, str]:
    """(path, where, why) of a course model: `why` says in a sentence why that file was chosen."""
    if name not in COURSE_MODELS:
        raise SrlibError(f"unknown course model {name!r}; known: {', '.join(COURSE_MODELS)}.")
    own = checkpoint_dir() / name / "generator.pt"
    if not prefer_own:
        why = "prefer_own=False asks for the shipped course checkpoint"
    elif not own.is_file():
        why = f"there is no finished run of your own at {own}"
    else:
        problem = own_run_problem(name, own)
        if problem is None:
            return own, "your own run", f"your own finished run of the recipe ({own}) is preferred over the shipped one"
        why = f"your run at {own} is not used: {problem}"
    shipped = shipped_path(name)
    if shipped.is_file():
        return shipped, "shipped course checkpoint", why
    raise SrlibError(f"the course model {name} is neither in {own.parent} (as a finished run) nor shipped with srlib "
                     f"({why}); make it with {COURSE_MODELS[name].split(': ')[-1]}.")


def load_course_model(name: str, prefer_own: bool = True) -> tuple[nn.Module, dict]:
    """The generator of a course model in eval mode, and its metadata.

    The metadata adds `path`, `source` ("your own run" or "shipped course checkpoint")
    and `why`, a sentence saying why that file was chosen (notebooks print it).
    """
    path, where, why = choose_course_model(name, prefer_own)
    model, meta = load_generator(path)
    return model, {**meta, "path": str(path), "source": where, "why": why}


def export_course_model(name: str, datasets=("Set5",), metrics=("psnr", "ssim"), allow_unfinished: bool = False,
                        degraded=()) -> Path:
    """Maintainers: copy your own run of a course model into srlib/pretrained/, with its measured scores.

    Run the recipe first (`python -m srlib train RECIPE`), with the real data sets
    under the data root; the file keeps the run's metadata plus {set}_{metric} for
    every data set and metric (srlib.evaluate.evaluate_models' conventions; the GAN
    models are exported with Set5, Set14, BSD100 and psnr, ssim, niqe, swd).
    Only a finished run of the recipe as shipped is exported, unless `allow_unfinished`. `degraded`: sets
    also scored with the seeded Real-ESRGAN degradation (evaluate --degrade realesrgan, seed 0), stored as
    {set}-realesrgan_{metric} (the real-world models).
    """
    from ..evaluate import evaluate_models
    from .weights import save_generator

    own = checkpoint_dir() / name / "generator.pt"
    problem = None if allow_unfinished else own_run_problem(name, own)
    if problem:
        raise SrlibError(f"not exporting {own}: {problem}. Only a finished run of the recipe as shipped becomes a "
                         "course checkpoint (allow_unfinished=True overrides this).")
    model, meta = load_generator(own)
    header = load_weights_file(own)
    preset, scale = header["preset"], header["scale"]
    table = evaluate_models({name: model}, [datasets] if isinstance(datasets, str) else datasets, metrics, scale,
                            fallback=False, progress=False, reference=False)
    rows = list(table.sets)
    if degraded:
        rows += evaluate_models({name: model}, [degraded] if isinstance(degraded, str) else degraded, metrics, scale,
                                fallback=False, progress=False, reference=False, degrade="realesrgan").sets
    scores = {f"{row['dataset'].lower()}_{m}": round(row[m], 4) for row in rows for m in table.metrics}
    return save_generator(model, shipped_path(name), preset, scale, **{**meta, **scores})
