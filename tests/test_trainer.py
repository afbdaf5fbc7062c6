"""The trainer on tiny models: reproducible, resumable after SIGKILL, refuses wrong or unsafe checkpoints, stops on NaN."""
import os
import signal
import subprocess
import sys
import time
from importlib import resources

import numpy as np
import pytest
import torch

from srlib.data import PairedPatchDataset
from srlib.errors import SrlibError
from srlib.train import TrainConfig, Trainer, TrainingDiverged, load_checkpoint, load_recipe, recipe_names


@pytest.fixture(scope="module")
def patches():
    rng = np.random.default_rng(0)
    images = [rng.random((48, 56, 3), dtype=np.float32) for _ in range(3)]
    return PairedPatchDataset(images, scale=4, patch_size=32, length=10**9, seed=0)


def tiny(**kw) -> TrainConfig:
    base = dict(generator="srresnet-tiny", discriminator="srgan-tiny", steps=6, batch_size=4, patch_size=32,
                val_every=0, checkpoint_every=3, lr_g=1e-3, lr_d=1e-3, ema_decay=0.9, feature_matching_weight=0.1)
    return TrainConfig(**{**base, **kw})


def weights(trainer):
    return {**{f"G.{k}": v for k, v in trainer.G.state_dict().items()},
            **({f"D.{k}": v for k, v in trainer.D.state_dict().items()} if trainer.D is not None else {})}


def same(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("adversarial", ["nonsaturating", "relativistic", "wgan-gp", "hinge"])
def test_same_seed_same_weights_bit_for_bit(patches, adversarial):
    d = {"discriminator": "patch-sn-cpu"} if adversarial == "wgan-gp" else {}  # the penalty needs a D without BN
    runs = [Trainer(tiny(adversarial=adversarial, **d), patches=patches, progress=False) for _ in range(2)]
    for t in runs:
        t.fit()
    assert same(weights(runs[0]), weights(runs[1]))
    other = Trainer(tiny(adversarial=adversarial, seed=1, **d), patches=patches, progress=False)
    other.fit()
    assert not same(weights(runs[0]), weights(other))
    row = runs[0].history[-1]
    assert {"loss_d", "d_real", "d_fake", "loss_g", "loss_pixel", "loss_adversarial", "lr_g", "samples_per_s"} <= set(row)


def test_history_and_checkpoint_files(patches, tmp_path):
    t = Trainer(tiny(), tmp_path, patches=patches, progress=False)
    t.fit()
    assert (tmp_path / "history.csv").read_text().splitlines()[0].startswith("step,")
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["step"] == 6 and "ema" in state and "opt_d" in state and len(state["history"]) == 6
    assert not list(tmp_path.glob(".*.tmp"))


def test_resume_in_process_is_exact(patches, tmp_path):
    full = Trainer(tiny(checkpoint_every=0), patches=patches, progress=False)
    full.fit()
    half = Trainer(tiny(), tmp_path, patches=patches, progress=False)
    half.fit(3)
    resumed = Trainer.resume(tmp_path / "last.pt", patches=patches, progress=False)
    assert resumed.step == 3
    resumed.fit()
    assert same(weights(full), weights(resumed))
    assert same(full.ema.state_dict(), resumed.ema.state_dict())


RECIPE = """
scale = 4
[cpu]
generator = "srresnet-tiny"
discriminator = "srgan-tiny"
adversarial = "relativistic"
steps = {steps}
batch_size = 4
patch_size = 32
val_every = 0
checkpoint_every = 5
ema_decay = 0.9
lr_g = 1e-3
lr_d = 1e-3
train_sets = ["T91"]
"""


def run_cli(args, env, **kw):
    return subprocess.Popen([sys.executable, "-m", "srlib", "train", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_sigkill_mid_run_then_resume_equals_uninterrupted(tmp_path):
    steps = 150
    recipe = tmp_path / "tiny.toml"
    recipe.write_text(RECIPE.format(steps=steps))
    env = dict(os.environ, SRLIB_DATA_DIR=str(tmp_path / "empty"), OMP_NUM_THREADS="1")  # embedded samples; 1 thread: tiny nets
    full = run_cli([str(recipe), "--out", str(tmp_path / "full")], env)
    assert full.wait(timeout=600) == 0, full.stderr.read()

    victim = run_cli([str(recipe), "--out", str(tmp_path / "killed")], env)
    ckpt = tmp_path / "killed" / "last.pt"
    deadline = time.time() + 300
    while time.time() < deadline and victim.poll() is None:
        if ckpt.exists():
            try:
                if load_checkpoint(ckpt)["step"] >= 20:
                    break
            except SrlibError:
                pass
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=60) == -signal.SIGKILL, "the run ended before it could be killed"
    killed_at = load_checkpoint(ckpt)["step"]
    assert 0 < killed_at < steps

    resumed = run_cli(["--resume", str(ckpt)], env)
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    assert f"resuming tiny-cpu at step {killed_at}" in out
    a, b = load_checkpoint(tmp_path / "full" / "last.pt"), load_checkpoint(ckpt)
    assert a["step"] == b["step"] == steps
    for part in ("generator", "discriminator", "ema"):
        assert same(a[part], b[part]), part
    assert [r["loss_g"] for r in a["history"]] == [r["loss_g"] for r in b["history"]]


def test_wrong_architecture_checkpoint_is_refused(patches, tmp_path):
    Trainer(tiny(), tmp_path, patches=patches, progress=False).fit(3)
    other = Trainer(tiny(generator="srresnet-cpu"), patches=patches, progress=False)
    with pytest.raises(SrlibError, match="generator='srresnet-tiny'.*expects generator='srresnet-cpu'"):
        other.load(tmp_path / "last.pt")
    with pytest.raises(SrlibError, match="scale"):
        images = [t.permute(1, 2, 0).numpy() for t in patches.hr]
        Trainer(tiny(scale=2), patches=PairedPatchDataset(images, 2, 32), progress=False).load(tmp_path / "last.pt")


class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_checkpoint_that_carries_code_is_refused(tmp_path):
    torch.save({"config": {}, "generator": {}, "x": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(SrlibError, match="refusing to load"):
        load_checkpoint(tmp_path / "evil.pt")


class PoisonedPatches(PairedPatchDataset):
    """Gives NaN images from batch `bad_from` on."""

    bad_from = 4

    def batch(self, indices):
        lr, hr = super().batch(indices)
        if indices.start >= self.bad_from * 4:
            hr = hr * float("nan")
        return lr, hr


def test_nan_stops_cleanly_and_keeps_the_last_good_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    poisoned = PoisonedPatches([rng.random((48, 48, 3), dtype=np.float32)], 4, 32, length=10**9)
    t = Trainer(tiny(discriminator=None, feature_matching_weight=0, steps=10), tmp_path, patches=poisoned, progress=False)
    with pytest.raises(TrainingDiverged, match="the pixel loss became nan at step 4"):
        t.fit()
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 3
    assert (tmp_path / "history.json").exists()


def test_recipes_load_at_both_sizes():
    assert {"srresnet_x4", "srgan_x4", "esrgan_x4"} <= set(recipe_names())
    assert load_recipe("esrgan_x4", "paper").generator == "rrdbnet"
    assert load_recipe("esrgan_x4", "cpu").adversarial == "relativistic"
    assert load_recipe("srresnet_x4", "cpu", steps=7).steps == 7
    with pytest.raises(SrlibError, match="unknown recipe"):
        load_recipe("srgan_x8")
    with pytest.raises(SrlibError, match="not 'huge'"):
        load_recipe("srgan_x4", "huge")


def test_course_size_and_the_ablation_recipe_name_real_presets():
    """The model card's ablation rows are runs of srlib/recipes/ablation/psnr.toml; one of them is the cpu recipe."""
    from importlib import resources

    from srlib.models import GENERATORS

    course = load_recipe("srresnet_x4", "course")
    assert course.generator == "srresnet-course" and course.steps > load_recipe("srresnet_x4", "cpu").steps
    path = str(resources.files("srlib.recipes") / "ablation" / "psnr.toml")
    run_only = ("name", "val_every", "checkpoint_every")
    cpu = {k: v for k, v in load_recipe("srresnet_x4", "cpu").to_dict().items() if k not in run_only}
    changed = {"p64": {"patch_size"}, "p128": {"patch_size"}, "noaug": {"augment"},
               "constant": {"schedule", "lr_g"}, "cosine": {"schedule"}, "bf16": {"amp"}}  # one choice each
    sizes = ("hr32x6-1500", "lr32x6-1500", "lr32x6-4500", "lr64x16-1500", *(f"lr32x6-1500-{k}" for k in changed),
             "lr32x6-3000-p64", "lr32x6-9000-p64", "lr64x16-3000-p64",
             "lr64x16-24000-p64", "lr64x16-48000-p64", "lr64x16-48000", "lr32x6-2250-b32", "lr48x6-2700")
    changed = {**changed, "b32": {"batch_size"}}  # a choice on lr32x6-2250 only, not one of the 1500-step rows above
    for size in sizes:
        cfg = load_recipe(path, size)
        net, steps, *choice = size.split("-")
        assert cfg.generator in GENERATORS and cfg.steps == int(steps)
        differs = {k for k, v in cfg.to_dict().items() if k not in run_only and cpu[k] != v}
        expected = ({"generator"} if net != "lr32x6" else set()) | ({"steps"} if steps != "4500" else set())
        assert differs == expected | (changed[choice[0]] if choice else set()), (size, differs)  # 4500: the cpu recipe


@pytest.mark.parametrize("degradation", ["bicubic", "realesrgan"])
def test_augment_setting_reaches_the_training_patches(degradation, monkeypatch):
    """augment = false (the ablation's noaug row) must turn off the flips and rotations of the patches trained on."""
    import srlib.train.trainer as trainer_module

    rng = np.random.default_rng(1)
    images = [rng.random((64, 64, 3), dtype=np.float32) for _ in range(2)]
    monkeypatch.setattr(trainer_module, "load_training_images", lambda sets: (images, "two random images"))
    for augment in (True, False):
        t = Trainer(tiny(augment=augment, degradation=degradation, discriminator=None, feature_matching_weight=0.0),
                    progress=False)
        assert t.patches.augment is augment


def test_gan_course_size_is_the_cpu_recipe_on_the_course_psnr_model(tmp_path, monkeypatch):
    from srlib.models import count_parameters, load_course_model

    cpu, course = load_recipe("srgan_x4", "cpu").to_dict(), load_recipe("srgan_x4", "course")
    run_only = ("name", "val_every", "checkpoint_every")
    differs = {k for k, v in course.to_dict().items() if k not in run_only and cpu[k] != v}
    assert differs == {"generator", "init_from"} and course.init_from == "srresnet_x4-course"
    monkeypatch.setenv("SRLIB_CHECKPOINT_DIR", str(tmp_path))
    psnr_model, _ = load_course_model(course.init_from)
    assert course.generator == load_recipe("srresnet_x4", "course").generator
    assert count_parameters(psnr_model) > 1_000_000


def test_gan_recipe_starts_from_the_shipped_psnr_model_or_says_how_to_make_it(patches, tmp_path, monkeypatch):
    from srlib.models import load_course_model

    monkeypatch.setenv("SRLIB_CHECKPOINT_DIR", str(tmp_path))  # no run of one's own
    trainer = Trainer(load_recipe("srgan_x4", "cpu", val_every=0), patches=patches, progress=False)
    assert "shipped course checkpoint" in trainer.init_source
    shipped, _ = load_course_model("srresnet_x4-cpu")
    assert all(torch.equal(a, b) for a, b in zip(trainer.G.state_dict().values(), shipped.state_dict().values()))
    cfg = load_recipe("srgan_x4", "paper")  # nothing ships for the paper size
    with pytest.raises(SrlibError, match=r"python -m srlib train srresnet_x4 --size paper"):
        Trainer(cfg.replace(generator="srresnet-tiny", discriminator="srgan-tiny", val_every=0), patches=patches,
                progress=False)
    cfg = load_recipe(str(resources.files("srlib.recipes") / "ablation" / "gan.toml"), "g48")  # an ablation's PSNR run
    with pytest.raises(SrlibError, match=r"python -m srlib train \S+ablation/psnr.toml --size lr48x6-2700` writes it"):
        Trainer(cfg.replace(val_every=0), patches=patches, progress=False)
    with pytest.raises(SrlibError, match=r"which is not there: train a PSNR model first"):
        Trainer(cfg.replace(init_from="mine-1/generator.pt", val_every=0), patches=patches, progress=False)




@pytest.mark.parametrize("adversarial,matching,passes", [("nonsaturating", 0.1, 4), ("nonsaturating", 0.0, 3),
                                                          ("relativistic", 0.1, 4), ("relativistic", 0.0, 4)])
def test_a_gan_step_runs_the_discriminator_no_more_than_needed(patches, adversarial, matching, passes):
    """D step: real + fake; G step: the fake once for its logits and features, the real once if a term needs it."""
    t = Trainer(tiny(adversarial=adversarial, feature_matching_weight=matching), patches=patches, progress=False)
    calls = []
    t.D.body[0].register_forward_pre_hook(lambda m, inp: calls.append(inp[0].shape[0]))
    t.train_step()
    assert len(calls) == passes, calls


@pytest.mark.parametrize("preset", ["srgan-tiny", "patch-sn-cpu"])
def test_logits_and_features_is_forward_and_features_in_one_pass(preset):
    from srlib.models import build_discriminator

    torch.manual_seed(0)
    d = build_discriminator(preset, 32).eval()
    x = torch.rand(2, 3, 32, 32)
    logits, feats = d.logits_and_features(x)
    assert torch.equal(logits, d(x)) and all(torch.equal(a, b) for a, b in zip(feats, d.features(x)))


def test_compiled_training_follows_the_eager_run(patches):
    """compile = true computes the eager step's losses and gradients (to float rounding), through G, D and D's
    feature pass. (Weights are not compared: Adam's first update is lr * sign(g), and a bias before batch norm has a
    gradient of rounding size whose sign either run may flip.)"""
    runs = [Trainer(tiny(compile=c), patches=patches, progress=False) for c in (False, True)]
    rows = [t.train_step() for t in runs]
    for key in ("loss_g", "loss_d", "loss_feature_matching"):
        assert rows[1][key] == pytest.approx(rows[0][key], rel=1e-5), key
    for net in ("G", "D"):
        eager, compiled = ([p.grad for p in getattr(t, net).parameters()] for t in runs)
        scale = max(g.abs().max() for g in eager)  # a bias before batch norm: a gradient of rounding size
        for i, (a, b) in enumerate(zip(eager, compiled)):
            assert b is not None and (a - b).abs().max() <= 1e-4 * scale, (net, i)


def test_compile_with_a_gradient_penalty_is_refused_in_words(patches):
    with pytest.raises(SrlibError, match="double backward"):
        Trainer(tiny(adversarial="wgan-gp", discriminator="patch-sn-cpu", compile=True), patches=patches, progress=False)


def test_gan_ablation_rows_are_the_cpu_gan_recipe_with_only_the_generator_and_one_setting_changed():
    path = str(resources.files("srlib.recipes") / "ablation" / "gan.toml")
    run_only = ("name", "val_every", "checkpoint_every")
    cpu = load_recipe("srgan_x4", "cpu").to_dict()
    wider = {"generator", "init_from"}
    rows = {"g32": set(), "g48": wider, "g48-adv1e-2": wider | {"adv_weight"}, "g48-lrg5e-5": wider | {"lr_g"}}
    for size, changed in rows.items():
        row = load_recipe(path, size).to_dict()
        assert {k for k, v in row.items() if k not in run_only and cpu[k] != v} == changed, size
    assert load_recipe(path, "g48-adv1e-2").adv_weight == 2 * cpu["adv_weight"]
    assert load_recipe(path, "g48-lrg5e-5").lr_g == cpu["lr_g"] / 2


def test_init_from_a_steps_or_seed_run_folder_is_a_weights_file(patches, tmp_path, monkeypatch):
    """`train --steps 3` writes to srresnet_x4-cpu-steps3/: a changed recipe's run, not the course model, so its
    generator.pt is taken as a weights file and not checked against the recipe's own run."""
    from srlib.models import build_generator, save_generator

    monkeypatch.setenv("SRLIB_CHECKPOINT_DIR", str(tmp_path))
    path = tmp_path / "srresnet_x4-cpu-steps3" / "generator.pt"
    save_generator(build_generator("srresnet-tiny", 4), path, "srresnet-tiny", 4, step=3)
    trainer = Trainer(tiny(init_from="srresnet_x4-cpu-steps3/generator.pt"), patches=patches, progress=False)
    assert trainer.init_source == str(path)
