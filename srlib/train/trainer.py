"""One trainer for PSNR pretraining and adversarial training (SRGAN, ESRGAN).

Each iteration follows the seed blog's algorithm, done right: the discriminator
takes `n_critic` steps on detached fakes, then the generator takes one step on
pixel + perceptual + adversarial losses. Batches are drawn by index from the
in-memory patch set (no DataLoader), so a run is a pure function of its config
and seed, and a checkpoint (models, optimisers, schedules, EMA, RNG, batch
counter, history) resumes it exactly.

What a run leaves in its folder (every file written atomically): last.pt, the
checkpoint; history.json / history.csv; and generator.pt, the final weights,
written only once the run has reached its config's `steps`, so a folder's
generator.pt always belongs to a finished run and matches its last.pt. Ctrl-C
stops at the end of the current step, saves last.pt and says how to resume.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..data import PairedPatchDataset, load_benchmark, load_training_images
from ..errors import Interrupted, SrlibError
from ..losses import PerceptualLoss, feature_matching_loss, get_adversarial, gradient_penalty
from ..evaluate import mean_scores, score_benchmark
from ..models import COURSE_MODELS, build_discriminator, build_generator, checkpoint_dir, load_generator, save_generator
from ..models.pretrained import choose_course_model, own_run_problem
from ..models.weights import atomic_write_text, describe_mismatch, remove_stale_temporaries
from .allocator import keep_freed_memory
from .checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .config import TrainConfig, recipe_names, recipe_run
from .device import pick_device, seed_everything
from .ema import EMA
from .pixel import PIXEL_LOSSES
from .schedule import lr_lambda


LIVE_KEYS = ("d_real", "d_fake", "val_psnr")  # what a live plot receives besides the loss terms
RUN_FILES = ("last.pt", "generator.pt", "history.json", "history.csv")  # what a run writes into its folder
EXISTING = ("replace", "backup", "refuse")


class TrainingDiverged(SrlibError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


def _distributed() -> tuple[int, int]:
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def resume_command(checkpoint: Path) -> str:
    return f"python -m srlib train --resume {shlex.quote(str(checkpoint))}"


def _checkpoint_step(path: Path) -> str:
    try:
        return str(load_checkpoint(path)["step"])
    except (SrlibError, KeyError, TypeError):
        return "?"


def backup_run(out_dir: Path) -> Path:
    """Move the run files in out_dir into a dated sibling folder, NAME.backup-YYYYmmdd-HHMMSS; returns it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest, n = out_dir.parent / f"{out_dir.name}.backup-{stamp}", 1
    while dest.exists():
        dest, n = out_dir.parent / f"{out_dir.name}.backup-{stamp}-{n}", n + 1
    dest.mkdir(parents=True)
    for name in RUN_FILES:
        if (out_dir / name).exists():
            os.replace(out_dir / name, dest / name)
    return dest


class _StopOnCtrlC:
    """In fit: a first Ctrl-C asks to stop after the current step (a checkpoint is saved); a second stops at once."""

    def __init__(self):
        self.pressed, self.previous = False, None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not signal.SIG_IGN:
                self.previous = previous if previous is not None else signal.default_int_handler
                signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        if self.pressed:
            signal.signal(signal.SIGINT, self.previous)
            raise KeyboardInterrupt
        self.pressed = True
        tqdm.write("Ctrl-C: stopping after this step to save a checkpoint (Ctrl-C again stops at once, without one)",
                   file=sys.stderr)

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


class Trainer:
    """Train a generator (and a discriminator, when the config names one).

    out_dir receives last.pt (the checkpoint), history.csv / history.json and,
    when the run finishes, generator.pt (final weights). Pass `patches` / `val_set`
    to reuse data already in memory (notebooks do); otherwise they are loaded from the data root.

    existing: what happens to an earlier run's files in out_dir. "replace" (the
    default, for notebooks that re-run their lesson): this run's saves replace
    them. "backup": they are moved to a dated folder next to out_dir first
    (`python -m srlib train --overwrite`). "refuse": an SrlibError (the command
    line's default). `Trainer.resume` continues the run that is there instead.
    """

    def __init__(self, cfg: TrainConfig, out_dir: str | Path | None = None, patches: PairedPatchDataset | None = None,
                 val_set=None, progress: bool = True, live=None, perceptual: PerceptualLoss | None = None,
                 existing: str = "replace"):
        self.cfg, self.progress, self.live = cfg, progress, live
        self.out_dir = Path(out_dir) if out_dir else None
        if existing not in EXISTING + ("resume",):
            raise SrlibError(f"existing={existing!r}: use one of {', '.join(EXISTING)}.")
        if existing == "refuse" and self.out_dir is not None and any((self.out_dir / n).exists() for n in RUN_FILES):
            last = self.out_dir / "last.pt"
            raise SrlibError(
                f"{self.out_dir} already holds a run (last.pt at step {_checkpoint_step(last)}): continue it with "
                f"--resume {shlex.quote(str(last))}, or add --overwrite to start again (the old run is then kept in "
                f"a dated backup folder), or choose another --out.")
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
        if self.adv is not None and self.adv.penalty and any(
                isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in self.D.modules()):
            raise SrlibError(
                f"{cfg.adversarial} needs a discriminator without batch norm: its gradient penalty is a per-sample "
                f"gradient norm, which batch norm couples across the batch. {cfg.discriminator} has BatchNorm layers; "
                f"use patch-sn-cpu / patch-sn (spectral norm), or another adversarial loss.")
        self.perceptual = perceptual
        if cfg.perceptual_weight > 0 and perceptual is None:
            self.perceptual = PerceptualLoss(cfg.perceptual_layer, cfg.perceptual_before_activation,
                                             cfg.perceptual_criterion)
        if cfg.perceptual_weight > 0 and self.perceptual.criterion != cfg.perceptual_criterion:
            raise SrlibError(f"the PerceptualLoss passed in uses criterion {self.perceptual.criterion!r}, the config "
                             f"perceptual_criterion={cfg.perceptual_criterion!r}: make them agree.")
        if self.D is None and (cfg.feature_matching_weight > 0):
            raise SrlibError("feature matching needs a discriminator: set `discriminator` in the config.")

        on_gpu = self.device.type == "cuda"
        if self.device.type == "cpu":
            keep_freed_memory()
        self.channels_last = self.device.type in ("cuda", "cpu")  # measured faster on CPU too (bench train)
        for m in filter(None, (self.G, self.D, self.perceptual)):
            m.to(self.device)
            if self.channels_last:
                m.to(memory_format=torch.channels_last)
        amp = cfg.amp if cfg.amp != "auto" else ("bf16" if on_gpu and torch.cuda.is_bf16_supported() else "fp16" if on_gpu else "off")
        if amp == "fp16" and not on_gpu:
            raise SrlibError(f"amp = \"fp16\" is for GPUs (its loss scaler is CUDA's); on {self.device.type} it runs "
                             f"emulated, many times slower. Use amp = \"bf16\" (native on CPUs with AMX or "
                             f"AVX512-BF16) or \"off\".")
        self.amp_dtype = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp == "fp16")

        fused = True if self.device.type in ("cpu", "cuda") else None  # one kernel for all tensors, not a loop
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr_g, betas=cfg.betas, fused=fused)
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, lr_lambda(cfg.schedule, cfg.steps))
        if self.D is not None:
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d, betas=cfg.betas, fused=fused)
            self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, lr_lambda(cfg.schedule, cfg.steps))
        self.ema = EMA(self.G, cfg.ema_decay) if cfg.ema_decay > 0 else None
        self.G_train, self.D_train = self.G, self.D
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if on_gpu else None
            self.G_train = DDP(self.G, device_ids=ids)
            self.D_train = DDP(self.D, device_ids=ids) if self.D is not None else None
        self.d_logits_and_features = self.D.logits_and_features if self.D is not None else None
        if cfg.compile:
            if self.adv is not None and self.adv.penalty:
                raise SrlibError(f"compile = true cannot train {cfg.adversarial}: its gradient penalty needs a double "
                                 f"backward, which torch.compile does not run. Set compile = false.")
            self.G_train = torch.compile(self.G_train)
            if self.D is not None:
                self.D_train = torch.compile(self.D_train)
                self.d_logits_and_features = torch.compile(self.D.logits_and_features)

        self.gp_rng = torch.Generator(self.device).manual_seed(cfg.seed)  # the trainer's own: resumable
        self.step, self.batches_drawn = 0, 0
        self.history: list[dict] = []
        self.patches = patches if patches is not None else self._load_patches()
        self.val_set = val_set if val_set is not None or cfg.val_every <= 0 else load_benchmark(cfg.val_dataset, cfg.scale)
        self.backup_dir, self.resume_note = None, ""
        if self.out_dir is not None and self.rank == 0:
            remove_stale_temporaries(self.out_dir, RUN_FILES)  # left by a run that was killed while saving
            if existing == "backup" and any((self.out_dir / n).exists() for n in RUN_FILES):
                self.backup_dir = backup_run(self.out_dir)

    def _init_path(self, init_from: str) -> Path:
        """A course model name (srresnet_x4-cpu: your own run, else the shipped one) or a weights file.

        A file in a recipe's run folder (srresnet_x4-paper/generator.pt) must be a finished run of that recipe.
        """
        if init_from in COURSE_MODELS:
            path, where, why = choose_course_model(init_from)
            self.init_source = f"{init_from} ({where}, {path}; {why})"
            return path
        path = Path(init_from).expanduser()
        path = path if path.is_absolute() else checkpoint_dir() / path
        run = recipe_run(path.parent.name)
        if not path.is_file():
            how = f"`python -m srlib train {run[0]} --size {run[1]}` writes it" if run else "train a PSNR model first"
            raise SrlibError(f"{self.cfg.name} starts from the PSNR generator {path}, which is not there: {how} "
                             f"(or set init_from to a course model, {', '.join(COURSE_MODELS)}, or a weights file).")
        if run and run[0] in recipe_names() and path.name == "generator.pt":
            problem = own_run_problem(path.parent.name, path)
            if problem:
                raise SrlibError(f"{self.cfg.name} starts from {path}, a run of {run[0]} ({run[1]}), but {problem}. "
                                 f"Finish that run (python -m srlib train --resume {path.parent / 'last.pt'}) or set "
                                 f"init_from to the weights file you mean.")
        self.init_source = str(path)
        return path

    @staticmethod
    def _bad(what, name, known):
        raise SrlibError(f"unknown {what} {name!r}; known: {', '.join(known)}.")

    def _load_patches(self) -> PairedPatchDataset:
        cfg = self.cfg
        images, self.data_source = load_training_images(cfg.train_sets)
        if cfg.degradation == "bicubic":
            return PairedPatchDataset(images, cfg.scale, cfg.patch_size, length=2**62, augment=cfg.augment,
                                      seed=cfg.seed)
        from ..data.realworld_patches import RealWorldPatchDataset

        return RealWorldPatchDataset(images, cfg.scale, cfg.patch_size, length=2**62, seed=cfg.seed,
                                     order=cfg.degradation, usm_target=cfg.usm_target, augment=cfg.augment)

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
        """One iteration; returns its history row (losses, lr, samples/s).

        d_real / d_fake are batch means of D's probabilities on the last critic
        batch: sigmoid(D(x)) and sigmoid(D(G(z))); for the relativistic loss they
        are D_Ra's, sigmoid(C(x) - mean C(G(z))) and sigmoid(C(G(z)) - mean C(x)),
        the probabilities that loss trains. (Hinge and WGAN critics output scores:
        there the sigmoid is only a gauge.)
        """
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
            real, fake_logit = d_real.float().detach(), d_fake.float().detach()
            if self.adv.name == "relativistic":
                real, fake_logit = real - fake_logit.mean(), fake_logit - real.mean()
            row.update(loss_d=loss_d.item(), d_real=torch.sigmoid(real).mean().item(),
                       d_fake=torch.sigmoid(fake_logit).mean().item())
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
            if self.D is not None:  # D is frozen here: one pass of SR (and of HR, when needed) gives all terms
                matching = cfg.feature_matching_weight > 0
                g_fake, fake_feats = self.d_logits_and_features(sr) if matching else (self.D_train(sr), None)
                real_for_g = g_fake
                if matching or self.adv.name == "relativistic":
                    with torch.no_grad():
                        real, real_feats = self.d_logits_and_features(hr) if matching else (self.D_train(hr), None)
                    if self.adv.name == "relativistic":
                        real_for_g = real
                losses["adversarial"] = cfg.adv_weight * self.adv.g_loss(real_for_g.float(), g_fake.float())
                if matching:
                    losses["feature_matching"] = cfg.feature_matching_weight * feature_matching_loss(
                        fake_feats, real_feats)
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
                 "sched_g": self.sched_g.state_dict(), "rng": rng_state(), "gp_rng": self.gp_rng.get_state(),
                 "device_type": self.device.type, "history": self.history}
        if self.D is not None:
            state.update(discriminator=self.D.state_dict(), opt_d=self.opt_d.state_dict(),
                         sched_d=self.sched_d.state_dict())
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def load_state_dict(self, state: dict, source: str = "the checkpoint") -> None:
        """Take over a saved training state; one that is incomplete or made for other networks is refused in words.

        A state saved on another device type (a GPU run resumed on a CPU) goes on
        with the penalty's random stream reseeded: the same run, not bit for bit.
        """
        cfg, parts = self.cfg, {"generator": self.G, "discriminator": self.D,
                                "ema": self.ema.shadow if self.ema is not None else None}
        need = ["generator", "opt_g", "sched_g", "step", "batches_drawn", "history", "rng", "gp_rng"]
        need += ["discriminator", "opt_d", "sched_d"] if self.D is not None else []
        need += ["ema"] if self.ema is not None else []
        missing = [k for k in need if k not in state]
        if missing:
            raise SrlibError(f"{source} lacks {', '.join(missing)}: it is not a complete training checkpoint, so the "
                             f"run cannot go on where it stopped. Start a new run instead (init_from = a generator "
                             f"weights file starts G from its weights).")
        for part, module in parts.items():
            problem = module is not None and describe_mismatch(module, state[part])
            if problem:
                preset = cfg.discriminator if part == "discriminator" else cfg.generator
                raise SrlibError(f"{source} does not fit its config's {part} ({preset} x{cfg.scale}): {problem}. "
                                 f"The file was edited or made by another version; start a new run.")
        try:
            self.opt_g.load_state_dict(state["opt_g"])
            self.sched_g.load_state_dict(state["sched_g"])
            if self.D is not None:
                self.opt_d.load_state_dict(state["opt_d"])
                self.sched_d.load_state_dict(state["sched_d"])
            set_rng_state(state["rng"])
        except (KeyError, ValueError, TypeError, RuntimeError) as e:
            why = str(e).splitlines()[0] if str(e) else repr(e)
            raise SrlibError(f"{source} holds an optimiser, schedule or random state that does not fit this run "
                             f"({type(e).__name__}: {why}); start a new run.") from None
        for part, module in parts.items():
            if module is not None:
                module.load_state_dict(state[part])
        self.step, self.batches_drawn = state["step"], state["batches_drawn"]
        self.history = list(state["history"])
        saved_on = state.get("device_type", self.device.type)
        try:
            if saved_on != self.device.type:
                raise ValueError(saved_on)
            self.gp_rng.set_state(state["gp_rng"])
        except (RuntimeError, ValueError, TypeError):
            self.gp_rng.manual_seed(cfg.seed + self.step)
            self.resume_note = (f"saved on {saved_on}, continued on {self.device.type}: the same run, but not bit for "
                                f"bit what it would have been on {saved_on}")

    @property
    def finished(self) -> bool:
        """Whether the run has reached its config's steps."""
        return self.step >= self.cfg.steps

    def save(self) -> Path | None:
        """Write last.pt, the history and, once finished, generator.pt (rank 0 only); all atomically.

        generator.pt always matches last.pt: an unfinished save removes a generator.pt
        left from before (last.pt holds the generator anyway). A failed write (a full
        disk) stops training with an SrlibError that says which checkpoint was kept.
        """
        if self.out_dir is None or self.rank != 0:
            return None
        last, gen = self.out_dir / "last.pt", self.out_dir / "generator.pt"
        try:
            save_checkpoint(self.state_dict(), last)
            if self.finished:
                save_generator(self.eval_generator, gen, self.cfg.generator, self.cfg.scale, step=self.step,
                               recipe=self.cfg.name, steps=self.cfg.steps, finished=True, config=self.cfg.to_dict())
            elif gen.exists():
                gen.unlink()
            self.save_history()
        except SrlibError as e:
            kept = (f" The kept last.pt is step {_checkpoint_step(last)}; go on from it later with "
                    f"{resume_command(last)}" if last.exists() else "")
            raise SrlibError(f"training stopped at step {self.step}, its checkpoint not saved: {e}{kept}") from None
        return last

    def save_history(self) -> None:
        if self.out_dir is None or self.rank != 0:
            return
        atomic_write_text(json.dumps(self.history), self.out_dir / "history.json")
        keys = list(dict.fromkeys(k for row in self.history for k in row))
        text = io.StringIO(newline="")
        w = csv.DictWriter(text, fieldnames=keys)
        w.writeheader()
        w.writerows(self.history)
        atomic_write_text(text.getvalue(), self.out_dir / "history.csv")

    def load(self, path: str | Path) -> None:
        """Load a checkpoint into this trainer; one made for another network or scale is refused."""
        cfg = self.cfg
        self.load_state_dict(load_checkpoint(path, {"generator": cfg.generator, "discriminator": cfg.discriminator,
                                                    "scale": cfg.scale}))

    @classmethod
    def resume(cls, path: str | Path, out_dir: str | Path | None = None, device: str | None = None,
               existing: str = "replace", **kwargs) -> "Trainer":
        """Rebuild a trainer from its checkpoint; training goes on exactly where it stopped.

        device: run on this device instead of the saved one (tensors are moved).
        out_dir: write elsewhere than the checkpoint's folder (`existing` applies there).
        """
        state = load_checkpoint(path)
        try:
            cfg = TrainConfig.from_dict(state["config"])
        except (SrlibError, TypeError) as e:
            raise SrlibError(f"{path}: its config is not valid: {e}") from None
        if device is not None:
            cfg = cfg.replace(device=device)
        if cfg.amp == "fp16" and pick_device(cfg.device).type != "cuda":  # fp16 autocast is GPU-only: a GPU run
            cfg = cfg.replace(amp="auto")  # continued elsewhere takes that device's default (--amp cannot be given)
        out = Path(out_dir) if out_dir else Path(path).parent
        same = out.resolve() == Path(path).parent.resolve()
        trainer = cls(cfg, out, existing="resume" if same else existing, **kwargs)
        trainer.load_state_dict(state, source=str(path))
        return trainer

    def _stop_requested(self, pressed: bool) -> bool:
        """Ctrl-C on any process stops all of them at the same step."""
        if self.world == 1:
            return pressed
        flag = torch.tensor([float(pressed)], device=self.device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        return bool(flag.item())

    def _interrupted(self, total: int) -> Interrupted:
        where = f"stopped by Ctrl-C after step {self.step} of {total}"
        if self.out_dir is None:
            return Interrupted(f"{where}; nothing was saved (this Trainer has no out_dir), but it keeps its state: "
                               f"call fit() again to go on.")
        last = self.save() or self.out_dir / "last.pt"
        return Interrupted(f"{where}; checkpoint saved to {last}. Resume with: {resume_command(last)} "
                           f"(in Python: Trainer.resume({str(last)!r}).fit())")

    def fit(self, steps: int | None = None) -> list[dict]:
        """Train until `steps` (default: the config's) iterations in total; returns the history.

        Ctrl-C stops after the current step, saves a checkpoint and raises
        `srlib.errors.Interrupted`, whose message gives the resume command.
        """
        total = steps if steps is not None else self.cfg.steps
        if isinstance(total, bool) or not isinstance(total, int) or total < 1:
            raise SrlibError(f"fit(steps={total!r}): steps is the total number of iterations, at least 1.")
        cfg = self.cfg
        bar = tqdm(total=total, initial=self.step, desc=cfg.name, disable=not self.progress or self.rank != 0)
        try:
            with _StopOnCtrlC() as ctrl_c:
                while self.step < total:
                    row = self.train_step()
                    if cfg.val_every > 0 and self.step % cfg.val_every == 0 and self.rank == 0:
                        row.update(self.validate())
                    self.history.append(row)
                    if self.live is not None:
                        self.live.update(row["step"], **{k: v for k, v in row.items()
                                                         if k.startswith("loss_") or k in LIVE_KEYS})
                    bar.update(1)
                    bar.set_postfix({k: f"{row[k]:.4g}" for k in ("loss_g", "loss_d", "d_real", "d_fake", "val_psnr")
                                     if k in row})
                    if cfg.checkpoint_every > 0 and self.step % cfg.checkpoint_every == 0:
                        self.save()
                    if self._stop_requested(ctrl_c.pressed):
                        raise self._interrupted(total)
        except TrainingDiverged:
            self.save_history()
            raise
        finally:
            bar.close()
            if self.live is not None:
                self.live.close()
        self.save()
        return self.history
