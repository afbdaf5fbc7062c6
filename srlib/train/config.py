"""Training configurations and the TOML recipes that name them.

A recipe (`srlib/recipes/NAME.toml`) holds shared settings at the top and one
table per size: `[cpu]` trains in minutes on a laptop, `[paper]` follows the paper.
"""
from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import SrlibError
from .device import MAX_SEED


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved inside every checkpoint."""

    name: str = "run"
    scale: int = 4
    generator: str = "srresnet-cpu"
    discriminator: str | None = None  # None: PSNR-oriented training, no GAN
    adversarial: str = "nonsaturating"
    pixel_loss: str = "l1"
    pixel_weight: float = 1.0
    adv_weight: float = 5e-3
    perceptual_weight: float = 0.0
    perceptual_layer: str = "conv5_4"
    perceptual_before_activation: bool = True
    perceptual_criterion: str = "l1"  # SRGAN: "mse" on VGG features; ESRGAN: "l1"
    feature_matching_weight: float = 0.0
    gp_weight: float = 10.0
    n_critic: int = 1
    steps: int = 1000
    batch_size: int = 16
    patch_size: int = 96
    augment: bool = True  # random flips and 90-degree rotations of each patch (the 8 dihedral transforms)
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.99)
    schedule: str = "cosine"  # cosine | constant | onecycle
    ema_decay: float = 0.0  # 0 disables the EMA of generator weights
    grad_clip: float = 0.0  # 0 disables gradient clipping
    val_every: int = 250
    val_dataset: str = "Set5"
    checkpoint_every: int = 250
    train_sets: tuple[str, ...] = ("T91", "BSDS200")
    degradation: str = "bicubic"  # how LR patches are made: bicubic (MATLAB) | realesrgan | bsrgan (on the fly)
    usm_target: bool = False  # Real-ESRGAN: train on unsharp-masked HR targets
    init_from: str = ""  # weights of a PSNR generator to start from
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"  # auto (bf16/fp16 on GPU, off on CPU) | off | bf16 | fp16
    compile: bool = False  # torch.compile G and D; on a CPU it does not pay (python -m srlib bench train --compile)
    notes: str = field(default="", compare=False)

    def __post_init__(self):
        if isinstance(self.train_sets, str):
            self.train_sets = (self.train_sets,)
        for key in ("betas", "train_sets"):
            if isinstance(getattr(self, key), list):
                setattr(self, key, tuple(getattr(self, key)))
        _check_settings(self)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["betas"], d["train_sets"] = list(self.betas), list(self.train_sets)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise SrlibError(f"unknown training setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
        return cls(**d)

    def replace(self, **changes) -> "TrainConfig":
        return TrainConfig.from_dict({**self.to_dict(), **changes})


_KINDS = {  # annotation -> (accepted types, in words)
    "str": (str, "a string"), "int": (int, "a whole number"), "float": ((int, float), "a number"),
    "bool": (bool, "true or false"), "str | None": ((str, type(None)), "a string"),
}
DEGRADATIONS = ("bicubic", "realesrgan", "bsrgan")
AMP_MODES = ("auto", "off", "bf16", "fp16")
_POSITIVE = ("scale", "steps", "batch_size", "patch_size", "n_critic")
_NON_NEGATIVE = ("pixel_weight", "adv_weight", "perceptual_weight", "feature_matching_weight", "gp_weight",
                 "lr_g", "lr_d", "ema_decay", "grad_clip", "val_every", "checkpoint_every")


def _check_settings(cfg: TrainConfig) -> None:
    """Refuse a setting of the wrong type or range with one line naming it (a recipe typo, a bad --steps)."""
    from ..losses.perceptual import CRITERIA

    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if f.type == "tuple[float, float]":
            ok, words = (isinstance(value, tuple) and len(value) == 2
                         and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)), "two numbers"
        elif f.type == "tuple[str, ...]":
            ok, words = isinstance(value, tuple) and all(isinstance(v, str) for v in value), "a list of data set names"
        else:
            types, words = _KINDS[f.type]
            ok = isinstance(value, types) and not (isinstance(value, bool) and f.type in ("int", "float"))
        if not ok:
            raise SrlibError(f"training setting {f.name} = {value!r} should be {words} "
                             f"(the default is {f.name} = {f.default!r}).")
        numbers = value if f.type == "tuple[float, float]" else (value,)
        if f.type in ("float", "tuple[float, float]") and not all(math.isfinite(v) for v in numbers):
            raise SrlibError(f"training setting {f.name} = {value!r} must be "
                             f"{'finite numbers' if len(numbers) > 1 else 'a finite number'} "
                             f"(the default is {f.name} = {f.default!r}).")
    for name in _POSITIVE:
        if getattr(cfg, name) < 1:
            raise SrlibError(f"training setting {name} = {getattr(cfg, name)} must be at least 1.")
    for name in _NON_NEGATIVE:
        if getattr(cfg, name) < 0:
            raise SrlibError(f"training setting {name} = {getattr(cfg, name)} must not be negative.")
    if not 0 <= cfg.seed <= MAX_SEED:
        raise SrlibError(f"training setting seed = {cfg.seed} must be from 0 to {MAX_SEED} (NumPy's seed range).")
    if cfg.ema_decay >= 1:
        raise SrlibError(f"ema_decay = {cfg.ema_decay} must be below 1 (0 disables the EMA; ESRGAN uses 0.999).")
    if cfg.amp not in AMP_MODES:
        raise SrlibError(f"unknown amp {cfg.amp!r}; use {', '.join(AMP_MODES)}.")
    if cfg.degradation not in DEGRADATIONS:
        raise SrlibError(f"unknown degradation {cfg.degradation!r}; use {', '.join(DEGRADATIONS)}.")
    if cfg.usm_target and cfg.degradation == "bicubic":
        raise SrlibError("usm_target sharpens the targets of the real-world degradations; set degradation = "
                         "\"realesrgan\" or \"bsrgan\" too, or leave usm_target false.")
    if cfg.perceptual_criterion not in CRITERIA:
        raise SrlibError(f"unknown perceptual_criterion {cfg.perceptual_criterion!r}; use {', '.join(CRITERIA)}.")


def recipe_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("srlib.recipes").iterdir() if p.name.endswith(".toml"))


def _recipe_tables(recipe: str) -> dict:
    """A recipe's TOML (by name, or a path to a .toml file), parsed."""
    path = Path(recipe)
    if path.suffix == ".toml" and path.is_file():
        text = path.read_text()
    elif recipe in recipe_names():
        text = (resources.files("srlib.recipes") / f"{recipe}.toml").read_text()
    else:
        raise SrlibError(f"unknown recipe {recipe!r}; recipes: {', '.join(recipe_names())} (or a path to a .toml file).")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SrlibError(f"recipe {recipe} is not valid TOML: {e}") from None


def load_recipe(recipe: str, size: str = "cpu", **overrides) -> TrainConfig:
    """The TrainConfig of a recipe (by name, or a path to a .toml file) at a size ("cpu" or "paper").

    Keyword overrides replace the recipe's settings (`name=` too, the run's name).
    """
    data = _recipe_tables(recipe)
    sizes = {k for k, v in data.items() if isinstance(v, dict)}
    if size not in sizes:
        raise SrlibError(f"recipe {recipe} has sizes {', '.join(sorted(sizes))}, not {size!r}.")
    base = {k: v for k, v in data.items() if not isinstance(v, dict)}
    cfg = {**base, **data[size], **{k: v for k, v in overrides.items() if v is not None}}
    cfg.setdefault("name", f"{Path(recipe).stem}-{size}")
    return TrainConfig.from_dict(cfg)


def run_size(name: str, recipe: str) -> str | None:
    """The size of `recipe` whose run `name` is (load_recipe names runs RECIPE-SIZE), or None (a run whose folder
    says --steps or --seed, a name of your own). Sizes may hold dashes: psnr-lr48x6-2700."""
    stem = Path(recipe).stem
    return next((k for k, v in _recipe_tables(recipe).items() if isinstance(v, dict) and name == f"{stem}-{k}"), None)


def recipe_run(name: str) -> tuple[str, str] | None:
    """(recipe, size) when `name` is a run of a shipped recipe (srresnet_x4-cpu) or of an ablation recipe
    (psnr-lr48x6-2700: the recipe is that file's path); None for any other name."""
    stem = name.partition("-")[0]  # recipe names hold no dash
    ablation = resources.files("srlib.recipes") / "ablation" / f"{stem}.toml"
    recipe = stem if stem in recipe_names() else str(ablation) if ablation.is_file() else None
    size = run_size(name, recipe) if recipe else None
    return (recipe, size) if size else None
