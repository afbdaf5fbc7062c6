"""One trainer for PSNR pretraining and adversarial training (SRGAN, ESRGAN).

Each iteration follows the seed blog's algorithm, done right: the discriminator
takes `n_critic` steps on detached fakes, then the generator takes one step on
pixel + perceptual + adversarial losses. Batches are drawn by index from the
in-memory patch set (no DataLoader), so a run is a pure function of its config
and seed, and a checkpoint (models, optimisers, schedules, EMA, RNG, batch
counter, history) resumes it exactly.
"""
from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..data import PairedPatchDataset, load_benchmark, load_training_images
from ..errors import SrlibError
from ..losses import PerceptualLoss, feature_matching_loss, get_adversarial, gradient_penalty
from ..evaluate import mean_scores, score_benchmark
from ..models import (COURSE_MODELS, build_discriminator, build_generator, checkpoint_dir, course_model_path,
                      load_generator, save_generator)
from .checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .config import TrainConfig
from .device import pick_device, seed_everything
from .ema import EMA
from .pixel import PIXEL_LOSSES
from .schedule import lr_lambda


LIVE_KEYS = ("d_real", "d_fake", "val_psnr")  # what a live plot receives besides the loss terms


class TrainingDiverged(SrlibError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


def _distributed() -> tuple[int, int]:
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


class Trainer:
    """Train a generator (and a discriminator, when the config names one).

    out_dir receives last.pt (the checkpoint), history.csv / history.json and
    generator.pt (final weights). Pass `patches` / `val_set` to reuse data
    already in memory (notebooks do); otherwise they are loaded from the data root.
    """

    def __init__(self, cfg: TrainConfig, out_dir: str | Path | None = None, patches: PairedPatchDataset | None = None,
                 val_set=None, progress: bool = True, live=None, perceptual: PerceptualLoss | None = None):
        self.cfg, self.progress, self.live = cfg, progress, live
        self.out_dir = Path(out_dir) if out_dir else None
        self.rank, self.world = _distributed()
        if cfg.batch_size % self.world:
            raise SrlibError(f"batch_size {cfg.batch_size} must divide evenly over {self.world} processes.")
        seed_everything(cfg.seed)
        self.device = pick_device(cfg.device)
        if self.world > 1 and not torch.distributed.is_initialized():  # started by torchrun
            torch.distributed.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        if self.world > 1:
            self.device = torch.device("cuda", self.rank % torch.cuda.device_count()) if self.device.type == "cuda" else self.device
        self.G = build_generator(cfg.generator, cfg.scale)
        self.init_source = ""
        if cfg.init_from:
            init_path = self._init_path(cfg.init_from)
            init, _ = load_generator(init_path, preset=cfg.generator, scale=cfg.scale)
            self.G.load_state_dict(init.state_dict())
        self.D = build_discriminator(cfg.discriminator, cfg.patch_size) if cfg.discriminator else None
        self.pixel = PIXEL_LOSSES.get(cfg.pixel_loss) or self._bad("pixel loss", cfg.pixel_loss, PIXEL_LOSSES)
        self.adv = get_adversarial(cfg.adversarial) if self.D is not None else None
        self.perceptual = perceptual
        if cfg.perceptual_weight > 0 and perceptual is None:
            self.perceptual = PerceptualLoss(cfg.perceptual_layer, cfg.perceptual_before_activation)
        if self.D is None and (cfg.feature_matching_weight > 0):
            raise SrlibError("feature matching needs a discriminator: set `discriminator` in the config.")

        on_gpu = self.device.type == "cuda"
        self.channels_last = self.device.type in ("cuda", "cpu")  # measured faster on CPU too (bench train)
        for m in filter(None, (self.G, self.D, self.perceptual)):
            m.to(self.device)
            if self.channels_last:
                m.to(memory_format=torch.channels_last)
        amp = cfg.amp if cfg.amp != "auto" else ("bf16" if on_gpu and torch.cuda.is_bf16_supported() else "fp16" if on_gpu else "off")
        self.amp_dtype = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp == "fp16")

        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, lr_lambda(cfg.schedule, cfg.steps))
        if self.D is not None:
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
            self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, lr_lambda(cfg.schedule, cfg.steps))
        self.ema = EMA(self.G, cfg.ema_decay) if cfg.ema_decay > 0 else None
        self.G_train, self.D_train = self.G, self.D
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if on_gpu else None
            self.G_train = DDP(self.G, device_ids=ids)
            self.D_train = DDP(self.D, device_ids=ids) if self.D is not None else None

        self.gp_rng = torch.Generator(self.device).manual_seed(cfg.seed)  # the trainer's own: resumable
        self.step, self.batches_drawn = 0, 0
        self.history: list[dict] = []
        self.patches = patches if patches is not None else self._load_patches()
        self.val_set = val_set if val_set is not None or cfg.val_every <= 0 else load_benchmark(cfg.val_dataset, cfg.scale)

    def _init_path(self, init_from: str) -> Path:
        """A course model name (srresnet_x4-cpu: your own run, else the shipped one) or a weights file."""
        if init_from in COURSE_MODELS:
            path, where = course_model_path(init_from)
            self.init_source = f"{init_from} ({where}, {path})"
            return path
        path = Path(init_from).expanduser()
        path = path if path.is_absolute() else checkpoint_dir() / path
        if not path.is_file():
            recipe, _, size = path.parent.name.rpartition("-")
            how = f"`python -m srlib train {recipe} --size {size}` writes it" if recipe else "train a PSNR model first"
            raise SrlibError(f"{self.cfg.name} starts from the PSNR generator {path}, which is not there: {how} "
                             f"(or set init_from to a course model, {', '.join(COURSE_MODELS)}, or a weights file).")
        self.init_source = str(path)
        return path

    @staticmethod
    def _bad(what, name, known):
        raise SrlibError(f"unknown {what} {name!r}; known: {', '.join(known)}.")

    def _load_patches(self) -> PairedPatchDataset:
        images, self.data_source = load_training_images(self.cfg.train_sets)
        return PairedPatchDataset(images, self.cfg.scale, self.cfg.patch_size, length=2**62, seed=self.cfg.seed)

    # ---- one iteration --------------------------------------------------------------------------

    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """This process's share of the next global batch (identical data to a single-process run)."""
        b = self.cfg.batch_size
        start = self.batches_drawn * b
        self.batches_drawn += 1
        lr, hr = self.patches.batch(range(start + self.rank, start + b, self.world))
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        return lr.to(self.device).contiguous(memory_format=fmt), hr.to(self.device).contiguous(memory_format=fmt)

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def _check(self, losses: dict[str, torch.Tensor]) -> None:
        for name, value in losses.items():
            if not torch.isfinite(value).all():
                raise TrainingDiverged(
                    f"the {name} loss became {value.item()} at step {self.step}; training stopped. The last good "
                    f"checkpoint is kept{f' in {self.out_dir}' if self.out_dir else ''}. Lower lr_g/lr_d "
                    f"(now {self.cfg.lr_g}/{self.cfg.lr_d}) or the adversarial weight, or enable grad_clip."
                )

    def _step_optimizer(self, loss, opt, params) -> None:
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.cfg.grad_clip > 0:
            self.scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)
        self.scaler.step(opt)
        self.scaler.update()

    def train_step(self) -> dict:
        cfg, row = self.cfg, {"step": self.step}
        t0 = time.perf_counter()
        self.G.train()
        if self.D is not None:
            self.D.train()
            for i in range(cfg.n_critic):  # the seed's algorithm: D first, n_critic times
                lr, hr = self._next_batch()
                if i < cfg.n_critic - 1:
                    with torch.no_grad(), self._autocast():
                        fake = self.G_train(lr)
                else:
                    with self._autocast():
                        sr = self.G_train(lr)  # kept with its graph for the G step below
                    fake = sr.detach()
                with self._autocast():
                    d_real, d_fake = self.D_train(hr), self.D_train(fake)
                    loss_d = self.adv.d_loss(d_real.float(), d_fake.float())
                    if self.adv.penalty:
                        loss_d = loss_d + gradient_penalty(self.D_train, hr, fake, cfg.gp_weight, generator=self.gp_rng)
                self._check({"discriminator": loss_d})
                self._step_optimizer(loss_d, self.opt_d, self.D.parameters())
            row.update(loss_d=loss_d.item(), d_real=torch.sigmoid(d_real.float()).mean().item(),
                       d_fake=torch.sigmoid(d_fake.float()).mean().item())
            for p in self.D.parameters():
                p.requires_grad_(False)
        else:
            lr, hr = self._next_batch()
            with self._autocast():
                sr = self.G_train(lr)
        with self._autocast():
            losses = {"pixel": cfg.pixel_weight * self.pixel(sr.float(), hr)}
            if self.perceptual is not None and cfg.perceptual_weight > 0:
                losses["perceptual"] = cfg.perceptual_weight * self.perceptual(sr.float(), hr)
            if self.D is not None:
                g_fake = self.D_train(sr)
                real_for_g = self.D_train(hr).detach() if self.adv.name == "relativistic" else g_fake
                losses["adversarial"] = cfg.adv_weight * self.adv.g_loss(real_for_g.float(), g_fake.float())
                if cfg.feature_matching_weight > 0:
                    losses["feature_matching"] = cfg.feature_matching_weight * feature_matching_loss(
                        self.D.features(sr), [f.detach() for f in self.D.features(hr)])
            loss_g = sum(losses.values())
        self._check(losses)
        self._step_optimizer(loss_g, self.opt_g, self.G.parameters())
        if self.D is not None:
            for p in self.D.parameters():
                p.requires_grad_(True)
            self.sched_d.step()
        if self.ema is not None:
            self.ema.update(self.G)
        row.update({f"loss_{k}": v.item() for k, v in losses.items()}, loss_g=loss_g.item(),
                   lr_g=self.opt_g.param_groups[0]["lr"])
        self.sched_g.step()
        row["samples_per_s"] = cfg.batch_size * (cfg.n_critic if self.D is not None else 1) / (time.perf_counter() - t0)
        self.step += 1
        return row

    # ---- validation, checkpoints, the loop ---------------------------------------------------------

    @property
    def eval_generator(self) -> torch.nn.Module:
        """The weights to use: the EMA copy when there is one."""
        return self.ema.shadow if self.ema is not None else self.G

    @torch.no_grad()
    def validate(self) -> dict:
        scores = score_benchmark(self.eval_generator.eval(), self.val_set)
        p, q = mean_scores(scores)
        return {"val_psnr": p, "val_ssim": q}

    def state_dict(self) -> dict:
        state = {"config": self.cfg.to_dict(), "step": self.step, "batches_drawn": self.batches_drawn,
                 "generator": self.G.state_dict(), "opt_g": self.opt_g.state_dict(),
                 "sched_g": self.sched_g.state_dict(), "rng": rng_state(), "gp_rng": self.gp_rng.get_state(), "history": self.history}
        if self.D is not None:
            state.update(discriminator=self.D.state_dict(), opt_d=self.opt_d.state_dict(),
                         sched_d=self.sched_d.state_dict())
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["generator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.sched_g.load_state_dict(state["sched_g"])
        if self.D is not None:
            self.D.load_state_dict(state["discriminator"])
            self.opt_d.load_state_dict(state["opt_d"])
            self.sched_d.load_state_dict(state["sched_d"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
        self.step, self.batches_drawn = state["step"], state["batches_drawn"]
        self.history = list(state["history"])
        set_rng_state(state["rng"])
        self.gp_rng.set_state(state["gp_rng"])

    def save(self) -> Path | None:
        """Write last.pt and the history (rank 0 only)."""
        if self.out_dir is None or self.rank != 0:
            return None
        path = save_checkpoint(self.state_dict(), self.out_dir / "last.pt")
        save_generator(self.eval_generator, self.out_dir / "generator.pt", self.cfg.generator, self.cfg.scale,
                       step=self.step, recipe=self.cfg.name)
        self.save_history()
        return path

    def save_history(self) -> None:
        if self.out_dir is None or self.rank != 0:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / "history.json").write_text(json.dumps(self.history))
        keys = list(dict.fromkeys(k for row in self.history for k in row))
        with open(self.out_dir / "history.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(self.history)

    def load(self, path: str | Path) -> None:
        """Load a checkpoint into this trainer; one made for another network or scale is refused."""
        cfg = self.cfg
        self.load_state_dict(load_checkpoint(path, {"generator": cfg.generator, "discriminator": cfg.discriminator,
                                                    "scale": cfg.scale}))

    @classmethod
    def resume(cls, path: str | Path, out_dir: str | Path | None = None, **kwargs) -> "Trainer":
        """Rebuild a trainer from its checkpoint; training goes on exactly where it stopped."""
        state = load_checkpoint(path)
        trainer = cls(TrainConfig.from_dict(state["config"]), out_dir or Path(path).parent, **kwargs)
        trainer.load_state_dict(state)
        return trainer

    def fit(self, steps: int | None = None) -> list[dict]:
        """Train until `steps` (default: the config's) iterations in total; returns the history."""
        total = steps if steps is not None else self.cfg.steps
        cfg = self.cfg
        bar = tqdm(total=total, initial=self.step, desc=cfg.name, disable=not self.progress or self.rank != 0)
        try:
            while self.step < total:
                row = self.train_step()
                if cfg.val_every > 0 and self.step % cfg.val_every == 0 and self.rank == 0:
                    row.update(self.validate())
                self.history.append(row)
                if self.live is not None:
                    self.live.update(row["step"], **{k: v for k, v in row.items() if k.startswith("loss_") or k in LIVE_KEYS})
                bar.update(1)
                bar.set_postfix({k: f"{row[k]:.4g}" for k in ("loss_g", "loss_d", "d_real", "d_fake", "val_psnr") if k in row})
                if cfg.checkpoint_every > 0 and self.step % cfg.checkpoint_every == 0:
                    self.save()
        except TrainingDiverged:
            self.save_history()
            raise
        finally:
            bar.close()
            if self.live is not None:
                self.live.close()
        self.save()
        return self.history
