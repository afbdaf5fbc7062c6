"""Training and weights as a learner meets them: each test is one case, "a learner does X -> gets Y".

Nothing a learner trained is lost (a run is never replaced without being asked, Ctrl-C keeps a
checkpoint, every file is written atomically), a quick or unfinished run never stands in for a
course model, and every mistake is one line that says what to do, never a bare traceback.
"""
import errno
import os
import shlex
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import torch

import srlib.train.trainer as trainer_module
from srlib.cli import main
from srlib.data import PairedPatchDataset
from srlib.errors import Interrupted, SrlibError
from srlib.models import build_generator, load_course_model, load_generator, save_generator
from srlib.models.weights import load_weights_file
from srlib.train import TrainConfig, Trainer, load_checkpoint, load_recipe

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
checkpoint_every = {every}
ema_decay = 0.9
lr_g = 1e-3
lr_d = 1e-3
train_sets = ["T91"]
"""


@pytest.fixture
def recipe(tmp_path, monkeypatch):
    """A tiny recipe file; the data root is empty (embedded samples), checkpoints go to tmp_path."""
    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setenv("SRLIB_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    path = tmp_path / "tiny.toml"
    path.write_text(RECIPE.format(steps=4, every=2))
    return path


@pytest.fixture(scope="module")
def patches():
    rng = np.random.default_rng(0)
    images = [rng.random((48, 56, 3), dtype=np.float32) for _ in range(3)]
    return PairedPatchDataset(images, scale=4, patch_size=32, length=10**9, seed=0)


def tiny(**kw) -> TrainConfig:
    base = dict(generator="srresnet-tiny", discriminator="srgan-tiny", steps=6, batch_size=4, patch_size=32,
                val_every=0, checkpoint_every=3, lr_g=1e-3, lr_d=1e-3, ema_decay=0.9)
    return TrainConfig(**{**base, **kw})


def one_error_line(capsys, code, *needles) -> str:
    """The command failed with exit status 2 and exactly one `error:` line holding every needle."""
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def fitted(patches, out, steps=None, **kw) -> Trainer:
    t = Trainer(tiny(**kw), out, patches=patches, progress=False)
    t.fit(steps)
    return t


# ---- lost work -------------------------------------------------------------------------------------------


def test_train_again_into_a_folder_with_a_run_is_refused_naming_resume_and_overwrite(recipe, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(recipe), "--out", str(out)]) == 0
    before = (out / "last.pt").read_bytes()
    one_error_line(capsys, main(["train", str(recipe), "--out", str(out)]), "--resume", "--overwrite")
    assert (out / "last.pt").read_bytes() == before


def test_train_with_overwrite_keeps_the_old_run_in_a_dated_backup_folder(recipe, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(recipe), "--out", str(out)]) == 0
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    assert main(["train", str(recipe), "--out", str(out), "--overwrite"]) == 0
    (backup,) = tmp_path.glob("run.backup-*")
    assert {f.name: f.read_bytes() for f in backup.iterdir()} == before
    assert load_checkpoint(out / "last.pt")["step"] == 4
    assert str(backup) in capsys.readouterr().out


def test_a_quick_steps_run_goes_to_its_own_folder_not_the_course_models(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setenv("SRLIB_CHECKPOINT_DIR", str(tmp_path))
    assert main(["train", "srresnet_x4", "--steps", "1", "--device", "cpu"]) == 0
    assert (tmp_path / "srresnet_x4-cpu-steps1" / "generator.pt").is_file()
    assert not (tmp_path / "srresnet_x4-cpu").exists()
    assert load_course_model("srresnet_x4-cpu")[1]["source"] == "shipped course checkpoint"


def test_a_partial_run_in_the_course_models_folder_is_not_used_by_lessons_and_meta_says_why(patches, tmp_path,
                                                                                            monkeypatch):
    monkeypatch.setenv("SRLIB_CHECKPOINT_DIR", str(tmp_path))
    save_generator(build_generator("srresnet-cpu"), tmp_path / "srresnet_x4-cpu" / "generator.pt", "srresnet-cpu", 4,
                   step=2, recipe="srresnet_x4-cpu")  # what `train srresnet_x4 --steps 2` used to leave there
    _, meta = load_course_model("srresnet_x4-cpu")
    assert meta["source"] == "shipped course checkpoint"
    assert f"stopped at step 2 of the recipe's {load_recipe('srresnet_x4', 'cpu').steps}" in meta["why"]
    gan = Trainer(load_recipe("srgan_x4", "cpu", val_every=0), patches=patches, progress=False)
    assert "shipped course checkpoint" in gan.init_source and "step 2" in gan.init_source


def test_a_gan_recipe_whose_init_from_folder_holds_a_two_step_run_refuses_it_and_says_why(patches, tmp_path,
                                                                                          monkeypatch):
    monkeypatch.setenv("SRLIB_CHECKPOINT_DIR", str(tmp_path))
    save_generator(build_generator("srresnet"), tmp_path / "srresnet_x4-paper" / "generator.pt", "srresnet", 4,
                   step=2, recipe="srresnet_x4-paper")  # `train srresnet_x4 --size paper --steps 2` into that folder
    with pytest.raises(SrlibError, match="stopped at step 2 of the recipe's 1000000.*--resume"):
        Trainer(load_recipe("srgan_x4", "paper", val_every=0), patches=patches, progress=False)


def test_a_run_writes_generator_pt_only_when_it_has_finished(patches, tmp_path):
    t = fitted(patches, tmp_path, steps=3)
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 3 and not (tmp_path / "generator.pt").exists()
    t.fit()
    _, meta = load_generator(tmp_path / "generator.pt")
    assert meta["step"] == load_checkpoint(tmp_path / "last.pt")["step"] == 6 and meta["finished"]


def test_negative_steps_are_refused_with_one_line(recipe, tmp_path, capsys):
    one_error_line(capsys, main(["train", str(recipe), "--steps", "-5", "--out", str(tmp_path / "r")]), "--steps -5")
    assert not (tmp_path / "r").exists()


def test_zero_steps_in_a_recipe_are_one_line_not_a_zero_division(recipe, tmp_path, capsys):
    recipe.write_text(RECIPE.format(steps=0, every=2))
    one_error_line(capsys, main(["train", str(recipe), "--out", str(tmp_path / "r")]), "steps = 0", "at least 1")


# `python -m srlib` whose steps take at least 0.1 s, so that a Ctrl-C after 1.5 s lands mid-run on any machine
SLOW_CLI = ("import sys, time; import srlib.train.trainer as t; step = t.Trainer.train_step; "
            "t.Trainer.train_step = lambda self: (time.sleep(0.1), step(self))[1]; "
            "from srlib.cli import main; sys.exit(main(sys.argv[1:]))")


def ctrl_c_as_in_a_terminal():
    """Ctrl-C's default action, as in a terminal. A job started in the background (as CI may be) inherits SIGINT
    ignored, and a process that ignores SIGINT rightly does not react to it: these tests must not depend on that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_saves_a_checkpoint_and_prints_the_resume_command_that_finishes_the_run(tmp_path):
    recipe = tmp_path / "tiny.toml"
    recipe.write_text(RECIPE.format(steps=60, every=0))  # no periodic checkpoint: only Ctrl-C's
    env = dict(os.environ, SRLIB_DATA_DIR=str(tmp_path / "no-data"), OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    full = subprocess.run([sys.executable, "-m", "srlib", "train", str(recipe), "--out", str(tmp_path / "full")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert full.returncode == 0, full.stderr
    victim = subprocess.Popen([sys.executable, "-c", SLOW_CLI, "train", str(recipe), "--out", str(tmp_path / "cut")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=ctrl_c_as_in_a_terminal)
    assert victim.stdout.readline().startswith("training tiny-cpu")  # printed just before the loop starts
    time.sleep(1.5)  # a few steps in, and well before the 60th
    victim.send_signal(signal.SIGINT)
    _, err = victim.communicate(timeout=120)
    assert victim.returncode == 130, err
    (line,) = [ln for ln in err.splitlines() if ln.startswith("interrupted:")]
    stopped = load_checkpoint(tmp_path / "cut" / "last.pt")["step"]
    assert 0 < stopped < 60 and f"after step {stopped} of 60" in line
    command = line.split("Resume with: ")[1].split(" (in Python")[0]
    assert command == f"python -m srlib train --resume {shlex.quote(str(tmp_path / 'cut' / 'last.pt'))}"
    resumed = subprocess.run([sys.executable, *shlex.split(command)[1:]], env=env, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    a, b = load_checkpoint(tmp_path / "full" / "last.pt"), load_checkpoint(tmp_path / "cut" / "last.pt")
    assert all(torch.equal(a["generator"][k], b["generator"][k]) for k in a["generator"])  # stopped at a step boundary


def test_ctrl_c_in_a_notebook_stops_at_a_step_and_fit_goes_on_from_there(patches):
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a kernel's Ctrl-C, even if we ignore it

    class CtrlCAtStep2:
        def update(self, step, **values):
            if step == 1:
                os.kill(os.getpid(), signal.SIGINT)

        def close(self):
            pass

    t = Trainer(tiny(checkpoint_every=0), patches=patches, progress=False, live=CtrlCAtStep2())
    try:
        with pytest.raises(Interrupted, match="after step 2 of 6; nothing was saved"):
            t.fit()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert t.step == 2 and len(t.history) == 2


def test_a_run_killed_while_saving_leaves_no_temporary_files_after_the_next_start(patches, tmp_path):
    fitted(patches, tmp_path, steps=3)
    for name in (".last.pt.k1ll3d.tmp", ".history.csv.k1ll3d.tmp", ".generator.pt.abc.tmp"):
        (tmp_path / name).write_bytes(b"half a file")
    Trainer.resume(tmp_path / "last.pt", patches=patches, progress=False)
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_history_write_that_is_cut_off_keeps_the_previous_history_csv(patches, tmp_path, monkeypatch):
    t = fitted(patches, tmp_path, steps=3)
    before = (tmp_path / "history.csv").read_text()

    def killed(self, rows):
        raise KeyboardInterrupt  # the process dies while the rows are written

    monkeypatch.setattr(trainer_module.csv.DictWriter, "writerows", killed)
    with pytest.raises(KeyboardInterrupt):
        t.save_history()
    assert (tmp_path / "history.csv").read_text() == before and before.count("\n") == 4


def test_generator_pt_is_never_behind_last_pt_when_a_save_is_cut_off(patches, tmp_path, monkeypatch):
    calls = []
    real = trainer_module.save_generator

    def dies_on_the_second_save(*args, **kw):
        calls.append(kw.get("step"))
        if len(calls) == 2:
            raise KeyboardInterrupt  # SIGKILL between last.pt and generator.pt
        return real(*args, **kw)

    monkeypatch.setattr(trainer_module, "save_generator", dies_on_the_second_save)
    t = Trainer(tiny(steps=6, checkpoint_every=2), tmp_path, patches=patches, progress=False)
    with pytest.raises(KeyboardInterrupt):
        t.fit()
    gen = tmp_path / "generator.pt"
    assert not gen.exists() or load_generator(gen)[1]["step"] == load_checkpoint(tmp_path / "last.pt")["step"]


# ---- devices and resuming --------------------------------------------------------------------------------


def test_an_unknown_device_is_one_line_listing_the_valid_ones(recipe, tmp_path, capsys):
    one_error_line(capsys, main(["train", str(recipe), "--device", "tpu", "--out", str(tmp_path / "r")]),
                   "'tpu'", "auto, cpu, cuda")


def test_a_run_saved_on_a_gpu_resumes_on_the_cpu_with_device_cpu(recipe, tmp_path, capsys):
    out = tmp_path / "run"
    recipe.write_text(RECIPE.format(steps=4, every=2))
    assert main(["train", str(recipe), "--out", str(out), "--steps", "4"]) == 0
    state = load_checkpoint(out / "last.pt")
    state["step"], state["history"] = 2, state["history"][:2]
    state["config"]["device"], state["device_type"] = "cuda", "cuda"
    state["gp_rng"] = torch.zeros(16, dtype=torch.uint8)  # a CUDA generator's state (seed, offset)
    torch.save(state, out / "last.pt")
    capsys.readouterr()
    assert main(["train", "--resume", str(out / "last.pt"), "--device", "cpu"]) == 0, capsys.readouterr().err
    assert "on cpu (saved on cuda, continued on cpu" in capsys.readouterr().out
    assert load_checkpoint(out / "last.pt")["step"] == 4


def test_resume_with_seed_or_size_is_refused_and_says_what_a_resume_accepts(recipe, tmp_path, capsys):
    out = tmp_path / "run"
    recipe.write_text(RECIPE.format(steps=4, every=2))
    assert main(["train", str(recipe), "--out", str(out), "--steps", "2"]) == 0
    last = str(out / "last.pt")
    one_error_line(capsys, main(["train", "--resume", last, "--seed", "3"]), "--seed", "--device, --steps and --out")
    one_error_line(capsys, main(["train", "--resume", last, "--size", "paper"]), "--size")


def test_resume_naming_the_recipe_finds_a_size_with_dashes(recipe, tmp_path, capsys):
    """Runs are named RECIPE-SIZE, and ablation sizes hold dashes (lr48x6-2700): the size is all after the first."""
    recipe.write_text(RECIPE.format(steps=4, every=2).replace("[cpu]", "[tiny-4]")
                      + '[cpu]\ngenerator = "srresnet-cpu"\n')
    out = tmp_path / "run"
    assert main(["train", str(recipe), "--size", "tiny-4", "--out", str(out), "--steps", "2"]) == 0
    capsys.readouterr()
    assert main(["train", str(recipe), "--resume", str(out / "last.pt"), "--out", str(out)]) == 0, capsys.readouterr().err
    assert "resuming tiny-tiny-4 at step 2 of 2" in capsys.readouterr().out


def test_resuming_a_checkpoint_whose_config_names_another_preset_names_the_key_and_shapes(recipe, patches, tmp_path,
                                                                                          capsys):
    fitted(patches, tmp_path, steps=3)
    state = load_checkpoint(tmp_path / "last.pt")
    state["config"]["generator"] = "srresnet-cpu"
    torch.save(state, tmp_path / "last.pt")
    line = one_error_line(capsys, main(["train", "--resume", str(tmp_path / "last.pt")]), "srresnet-cpu", "shape")
    assert "head" in line or "weight" in line


def test_resuming_a_checkpoint_without_optimiser_state_is_one_line(recipe, patches, tmp_path, capsys):
    fitted(patches, tmp_path, steps=3)
    state = load_checkpoint(tmp_path / "last.pt")
    del state["opt_g"]
    torch.save(state, tmp_path / "last.pt")
    one_error_line(capsys, main(["train", "--resume", str(tmp_path / "last.pt")]), "lacks opt_g",
                   "not a complete training checkpoint")


def test_a_recipe_with_scale_four_in_words_is_one_line(recipe, tmp_path, capsys):
    recipe.write_text(RECIPE.format(steps=4, every=2).replace("scale = 4", 'scale = "four"'))
    one_error_line(capsys, main(["train", str(recipe), "--out", str(tmp_path / "r")]), "scale = 'four'", "whole number")


def test_weights_whose_scale_or_preset_has_the_wrong_type_are_one_line(tmp_path):
    model = build_generator("srresnet-tiny")
    state = {k: v for k, v in model.state_dict().items()}
    torch.save({"preset": "srresnet-tiny", "scale": "4", "state_dict": state, "meta": {}}, tmp_path / "a.pt")
    torch.save({"preset": 7, "scale": 4, "state_dict": state, "meta": {}}, tmp_path / "b.pt")
    for name in ("a.pt", "b.pt"):
        with pytest.raises(SrlibError, match="should be a preset name and a whole number"):
            load_generator(tmp_path / name)


# ---- damaged files, full disks ---------------------------------------------------------------------------


def test_a_full_disk_during_a_checkpoint_keeps_the_previous_last_pt_and_says_so(patches, tmp_path, monkeypatch):
    t = Trainer(tiny(steps=6, checkpoint_every=3), tmp_path, patches=patches, progress=False)
    t.fit(3)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(SrlibError, match=r"step 6.*disk is full.*previous last.pt there is kept.*step 3.*--resume"):
        t.fit()
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 3
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_truncated_checkpoint_is_reported_as_damaged_not_as_code(patches, tmp_path):
    fitted(patches, tmp_path, steps=3)
    data = (tmp_path / "last.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(SrlibError, match="damaged or incomplete") as e:
        load_checkpoint(tmp_path / "cut.pt")
    assert "run code" not in str(e.value)


def test_weights_of_the_wrong_shape_name_the_key_and_both_shapes(tmp_path):
    model = build_generator("srresnet-tiny")
    state = dict(model.state_dict())
    key = next(k for k, v in state.items() if v.dim() == 4)
    state[key] = torch.zeros(state[key].shape[0] + 1, *state[key].shape[1:])
    torch.save({"preset": "srresnet-tiny", "scale": 4, "state_dict": state, "meta": {}}, tmp_path / "w.pt")
    want = tuple(model.state_dict()[key].shape)
    with pytest.raises(SrlibError, match=rf"{key} has shape \({want[0] + 1}, .*in the file but \({want[0]}, "):
        load_generator(tmp_path / "w.pt")


def test_a_small_weights_file_that_unpacks_to_gigabytes_is_refused_before_loading(tmp_path):
    plain = tmp_path / "plain.pt"
    torch.save({"w": torch.zeros(32 * 2**20)}, plain)  # 128 MiB of zeros
    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    assert bomb.stat().st_size < 2**20
    with pytest.raises(SrlibError, match=r"unpack to 128 MiB.*at most 2x their size"):
        load_weights_file(bomb)


# ---- the losses a recipe names ---------------------------------------------------------------------------


def test_srgan_paper_recipe_uses_mse_on_vgg_features_and_esrgan_l1(patches, monkeypatch):
    made = []

    class FakeVGG(torch.nn.Module):
        def __init__(self, layer, before_activation, criterion="l1"):
            super().__init__()
            self.criterion = criterion
            made.append(criterion)

        def forward(self, sr, hr):
            return (sr - hr).pow(2).mean()

    monkeypatch.setattr(trainer_module, "PerceptualLoss", FakeVGG)
    small = dict(generator="srresnet-tiny", discriminator="srgan-tiny", init_from="", val_every=0, patch_size=32,
                 batch_size=4)
    for recipe in ("srgan_x4", "esrgan_x4"):
        Trainer(load_recipe(recipe, "paper", **small), patches=patches, progress=False)
    assert made == ["mse", "l1"]


def test_wgan_gp_with_a_batch_norm_critic_is_refused(patches):
    with pytest.raises(SrlibError, match="without batch norm.*srgan-tiny has BatchNorm"):
        Trainer(tiny(adversarial="wgan-gp"), patches=patches, progress=False)


def test_relativistic_run_logs_d_ra_probabilities_which_ignore_a_constant_shift_of_the_logits(patches):
    rows = []
    for shift in (0.0, 20.0):
        t = Trainer(tiny(adversarial="relativistic", steps=1), patches=patches, progress=False)
        with torch.no_grad():
            t.D.head[-1].bias += shift  # D_Ra(x, y) = sigmoid(C(x) - mean C(y)) does not see it; sigmoid(C(x)) does
        rows.append(t.train_step())
    assert rows[0]["d_real"] == pytest.approx(rows[1]["d_real"], abs=1e-4)
    assert rows[0]["d_fake"] == pytest.approx(rows[1]["d_fake"], abs=1e-4)
    assert rows[1]["d_real"] < 0.99


def test_amp_values_are_checked_and_fp16_on_a_cpu_is_refused_in_words(patches, tmp_path):
    with pytest.raises(SrlibError, match="unknown amp 'bf61'"):
        tiny(amp="bf61")
    with pytest.raises(SrlibError, match="fp16.*is for GPUs.*bf16"):
        Trainer(tiny(amp="fp16", device="cpu"), patches=patches, progress=False)
    gpu_run = fitted(patches, tmp_path / "run", steps=2, checkpoint_every=2)  # saved as if an fp16 GPU run
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    state["config"]["amp"] = "fp16"
    torch.save(state, tmp_path / "run" / "last.pt")
    for device in ("cpu", None):  # None: the saved device ("auto"), which is the CPU here
        resumed = Trainer.resume(tmp_path / "run" / "last.pt", device=device, out_dir=tmp_path / f"go-on-{device}",
                                 patches=patches, progress=False)
        assert resumed.cfg.amp == "auto" and resumed.amp_dtype is None and resumed.step == gpu_run.step


def test_train_amp_bf16_trains_under_bf16_autocast_and_a_resume_keeps_it(recipe, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(recipe), "--out", str(out), "--amp", "bf16"]) == 0
    assert load_checkpoint(out / "last.pt")["config"]["amp"] == "bf16"
    assert Trainer.resume(out / "last.pt", out_dir=tmp_path / "copy", progress=False).amp_dtype == torch.bfloat16
    one_error_line(capsys, main(["train", "--resume", str(out / "last.pt"), "--amp", "off"]), "--amp")


def test_train_amp_bf16_says_when_the_cpu_would_emulate_it(recipe, tmp_path, capsys, monkeypatch):
    import srlib.bench

    monkeypatch.setattr(srlib.bench, "bf16_supported", lambda: False)
    assert main(["train", str(recipe), "--out", str(tmp_path / "run"), "--amp", "bf16", "--device", "cpu"]) == 0
    assert "no native bf16" in capsys.readouterr().out


@pytest.mark.parametrize("setting, value", [("lr_g", float("nan")), ("adv_weight", float("inf")),
                                            ("betas", (0.9, float("nan"))), ("ema_decay", float("nan"))])
def test_a_setting_that_is_not_a_finite_number_is_refused_naming_it(setting, value):
    """NaN passes every `< 0` check: a NaN learning rate would train into NaN weights, not refuse."""
    from srlib.errors import SrlibError
    from srlib.train import load_recipe

    with pytest.raises(SrlibError, match=f"training setting {setting} = .* finite"):
        load_recipe("srgan_x4", "cpu", **{setting: value})
