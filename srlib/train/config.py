"""Training configurations and the TOML recipes that name them.

A recipe (`srlib/recipes/NAME.toml`) holds shared settings at the top and one
table per size: `[cpu]` trains in minutes on a laptop, `[paper]` follows the paper.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import SrlibError


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
    feature_matching_weight: float = 0.0
    gp_weight: float = 10.0
    n_critic: int = 1
    steps: int = 1000
    batch_size: int = 16
    patch_size: int = 96
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
    init_from: str = ""  # weights of a PSNR generator to start from
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"  # auto (bf16/fp16 on GPU, off on CPU) | off | bf16 | fp16
    notes: str = field(default="", compare=False)

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
        d = dict(d)
        if "betas" in d:
            d["betas"] = tuple(d["betas"])
        if "train_sets" in d:
            d["train_sets"] = tuple(d["train_sets"])
        return cls(**d)

    def replace(self, **changes) -> "TrainConfig":
        return TrainConfig.from_dict({**self.to_dict(), **changes})


def recipe_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("srlib.recipes").iterdir() if p.name.endswith(".toml"))


def load_recipe(recipe: str, size: str = "cpu", **overrides) -> TrainConfig:
    """The TrainConfig of a recipe (by name, or a path to a .toml file) at a size ("cpu" or "paper").

    Keyword overrides replace the recipe's settings (`name=` too, the run's name).
    """
    path = Path(recipe)
    if path.suffix == ".toml" and path.is_file():
        text = path.read_text()
    elif recipe in recipe_names():
        text = (resources.files("srlib.recipes") / f"{recipe}.toml").read_text()
    else:
        raise SrlibError(f"unknown recipe {recipe!r}; recipes: {', '.join(recipe_names())} (or a path to a .toml file).")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SrlibError(f"recipe {recipe} is not valid TOML: {e}") from None
    sizes = {k for k, v in data.items() if isinstance(v, dict)}
    if size not in sizes:
        raise SrlibError(f"recipe {recipe} has sizes {', '.join(sorted(sizes))}, not {size!r}.")
    base = {k: v for k, v in data.items() if not isinstance(v, dict)}
    cfg = {**base, **data[size], **{k: v for k, v in overrides.items() if v is not None}}
    cfg.setdefault("name", f"{Path(recipe).stem}-{size}")
    return TrainConfig.from_dict(cfg)
