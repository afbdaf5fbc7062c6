"""The command line as a new user meets it: one clear line per mistake, never a traceback."""
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image


def run(*args, env_root=None, monkeypatch=None):
    import os

    env = dict(os.environ)
    if env_root is not None:
        env["SRLIB_DATA_DIR"] = str(env_root)
    return subprocess.run([sys.executable, "-m", "srlib", *args], capture_output=True, text=True, env=env, timeout=300)


def assert_one_clear_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_unknown_dataset(tmp_path):
    assert_one_clear_error(run("evaluate", "--dataset", "Set7", env_root=tmp_path), "unknown data set", "Set5")


def test_missing_data_root_in_strict_mode(tmp_path):
    assert_one_clear_error(run("evaluate", "--dataset", "Set14", "--strict", env_root=tmp_path / "nowhere"),
                           "not found", "download Set14")


def test_corrupt_and_fake_pngs_in_a_data_set(tmp_path):
    base = tmp_path / "Set5" / "x4"
    (base / "HR").mkdir(parents=True)
    (base / "LR").mkdir(parents=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(base / "HR" / "img_001.png")
    (base / "LR" / "img_001.png").write_text("I am a text file, not a PNG\n")
    assert_one_clear_error(run("evaluate", "--dataset", "Set5", env_root=tmp_path), "img_001.png", "not a valid image")
    (base / "LR" / "img_001.png").write_bytes((base / "HR" / "img_001.png").read_bytes()[:60])
    assert_one_clear_error(run("evaluate", "--dataset", "Set5", env_root=tmp_path), "img_001.png")


def test_one_pixel_image(tmp_path):
    base = tmp_path / "Set5" / "x4"
    for d in ("HR", "LR"):
        (base / d).mkdir(parents=True)
        Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(base / d / "img_001.png")
    assert_one_clear_error(run("evaluate", "--dataset", "Set5", env_root=tmp_path), "1x1")


def test_unknown_download_name(tmp_path):
    assert_one_clear_error(run("download", "Manga109", env_root=tmp_path), "unknown data set")


def test_evaluate_prints_the_table(datasets):
    proc = run("evaluate", "--method", "bicubic", "--dataset", "Set5", "--scale", "4", env_root=datasets)
    assert proc.returncode == 0, proc.stderr
    row = [ln for ln in proc.stdout.splitlines() if ln.startswith("bicubic ")][0].split()
    assert row[1:] == ["Set5", "5", "28.42", "0.8102"]


def test_evaluate_on_samples_says_which_data(tmp_path):
    proc = run("evaluate", env_root=tmp_path)
    assert proc.returncode == 0 and "embedded scikit-image samples" in proc.stdout


def test_info_lists_the_sets(datasets):
    proc = run("info", env_root=datasets)
    assert proc.returncode == 0
    assert all(f"{n}" in proc.stdout for n in ("Set5", "Set14", "BSD100", "T91", "BSDS200"))
    assert "missing" not in proc.stdout.replace("Urban100 missing", "")  # Urban100 is download only (test_urban100.py)


def test_bench_models_prints_each_preset(tmp_path):
    proc = run("bench", "models", "--preset", "srresnet-cpu", "srresnet", "--size", "8", "--batch", "1", "--seconds",
               "0.01", "--rounds", "1", "--no-compile")
    assert proc.returncode == 0, proc.stderr
    rows = {ln.split()[0]: ln.split() for ln in proc.stdout.splitlines() if ln.startswith("srresnet")}
    assert rows["srresnet"][1:3] == ["random", "1,549,462"]
    assert rows["srresnet-cpu"][1] == "srresnet_x4-cpu"  # the shipped course weights of that preset
    assert float(rows["srresnet-cpu"][3]) > 0 and float(rows["srresnet-cpu"][4]) > 0
    assert "compiled" not in proc.stdout.split("\n")[1]  # --no-compile: no compiled columns
    assert all(r[-1] == "yes" for r in rows.values())


def test_bench_models_compiled_and_bf16_agree_with_eager(tmp_path):
    """The compiled (and, where the CPU has bf16, the bf16) outputs are checked against eager fp32 and timed."""
    from srlib import bench

    rows = bench.bench_models(size=8, batch=1, seconds=0.01, presets=["srresnet-tiny"], rounds=1)
    r = rows[0]
    assert {"eager fp32", "compiled fp32"} <= set(r["mp_s"]) and all(v > 0 for v in r["mp_s"].values())
    assert ("eager bf16" in r["mp_s"]) == bench.bf16_supported()
    assert r["diff_levels"]["compiled fp32"] <= bench.TOLERANCE_LEVELS["compiled fp32"] and r["agree"]
    assert r["compile_s"] > 0


def test_bench_models_flags_a_variant_that_disagrees(monkeypatch):
    from srlib import bench

    real = bench._inference_variants

    def broken(model, compile_, bf16):
        variants = real(model, False, False)
        variants["compiled fp32"] = lambda x: model(x) + 0.01  # 2.55 grey levels off
        return variants

    monkeypatch.setattr(bench, "_inference_variants", broken)
    row = bench.bench_models(size=8, batch=1, seconds=0.01, presets=["srresnet-tiny"], rounds=1)[0]
    assert not row["agree"] and row["diff_levels"]["compiled fp32"] > 10 * bench.TOLERANCE_LEVELS["compiled fp32"]


def test_bench_train_prints_samples_gflops_and_share_of_peak(tmp_path):
    proc = run("bench", "train", "--recipe", "srresnet_x4", "srresnet_x4:course", "--steps", "1", "--rounds", "1",
               "--seconds", "0.05", env_root=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert any(ln.startswith("srresnet_x4 (course)") for ln in proc.stdout.splitlines())
    assert "conv peak" in proc.stdout and "embedded scikit-image samples" in proc.stdout
    from srlib.bench import cpu_description
    assert proc.stdout.startswith(f"CPU: {cpu_description()}; threads: ")  # the ratios depend on the CPU
    row = [ln.split() for ln in proc.stdout.splitlines() if ln.startswith("srresnet_x4 (cpu)")][0]
    samples, gflops, share, median = float(row[2]), float(row[3]), float(row[4].rstrip("%")), float(row[5].rstrip("%"))
    low, high = (float(v) for v in row[6].rstrip("%").split("%-"))
    assert samples > 0 and gflops > 0 and 0 < share < 100 and 0 < median < 100
    assert low <= median <= high  # one round: all three are that round's ratio
    alone, of_alone = float(row[7].rstrip("%")), float(row[8].rstrip("%"))
    assert 0 < alone < 100 and of_alone > 0
    assert of_alone == pytest.approx(100 * median / alone, rel=0.1, abs=2)  # one round: the same round's figures
    assert "seed's loop" in proc.stdout
    assert "profile of one" not in proc.stdout


def test_bench_train_compile_prints_speedup_and_compile_time(tmp_path):
    proc = run("bench", "train", "--compile", "--recipe", "srresnet_x4", "--steps", "1", "--rounds", "1",
               env_root=tmp_path)
    assert proc.returncode == 0, proc.stderr
    row = [ln.split() for ln in proc.stdout.splitlines() if ln.startswith("srresnet_x4 (cpu)")][0]
    eager, compiled, speedup, compile_s = float(row[2]), float(row[3]), float(row[4].rstrip("x")), float(row[5])
    assert eager > 0 and compiled > 0 and compile_s > 0
    assert speedup == pytest.approx(eager / compiled, rel=0.01)
    refused = run("bench", "train", "--compile", "--amp", "bf16", "--recipe", "srresnet_x4", env_root=tmp_path)
    assert refused.returncode != 0 and "--compile is for bench train alone" in refused.stderr


def test_bench_train_compile_says_when_the_compile_pays(monkeypatch, empty_root):
    from srlib import bench

    steps = iter([0.5, 2.0] + [0.030, 0.020] * 3)  # the first steps (eager, compiled), then the rounds
    monkeypatch.setattr(bench, "_seconds_per_step", lambda trainer, n: next(steps))
    res = bench.bench_train_compile(["srresnet_x4"], steps=1, rounds=3)
    (row,) = res["rows"]
    assert row["speedup"] == pytest.approx(1.5) and row["compile_s"] == pytest.approx(1.98)
    assert row["pays_after"] == pytest.approx(1.98 / 0.010)
    steps = iter([0.5, 2.0] + [0.020, 0.030] * 3)  # compiled slower: it never pays
    res = bench.bench_train_compile(["srresnet_x4"], steps=1, rounds=3)
    assert res["rows"][0]["speedup"] == pytest.approx(2 / 3) and res["rows"][0]["pays_after"] is None


def test_bench_train_bf16_runs_where_the_cpu_has_it_and_is_refused_in_words_elsewhere(tmp_path):
    from srlib.bench import bf16_supported

    proc = run("bench", "train", "--recipe", "srresnet_x4", "--steps", "1", "--rounds", "1", "--seconds", "0.05",
               "--amp", "bf16", env_root=tmp_path)
    if not bf16_supported():
        assert proc.returncode == 1 and "no native bf16" in proc.stderr and "Traceback" not in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    assert "conv peak in bf16" in proc.stdout.splitlines()[0]
    row = [ln.split() for ln in proc.stdout.splitlines() if ln.startswith("srresnet_x4 (cpu, bf16)")][0]
    assert float(row[3]) > 0 and 0 < float(row[5].rstrip("%")) < 100


def test_bench_train_refuses_bf16_without_native_bf16(monkeypatch):
    from srlib import bench
    from srlib.errors import SrlibError

    monkeypatch.setattr(bench, "bf16_supported", lambda: False)
    with pytest.raises(SrlibError, match="no native bf16"):
        bench.bench_train(["srresnet_x4"], amp="bf16")


def test_bench_train_profile_names_the_layers(tmp_path):
    proc = run("bench", "train", "--recipe", "srresnet_x4", "--steps", "1", "--rounds", "1", "--seconds", "0.05",
               "--profile", env_root=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = proc.stdout.split("profile of one srresnet_x4 cpu step")[1].splitlines()[4:]
    timing = re.search(r"a profiled step took (\d+) ms, an unprofiled one (\d+) ms", proc.stdout)
    assert timing and all(int(v) > 0 for v in timing.groups())
    rows = [ln for ln in table if ln.strip()]
    assert any(ln.startswith("conv 32->32 @ 24x24 (backward)") for ln in rows)
    assert not any("@ 96x96" in ln for ln in rows)  # srresnet-cpu runs no conv at HR size
    shares = [float(next(tok for tok in ln.split() if tok.endswith("%")).rstrip("%")) for ln in rows]
    assert 0 < sum(shares) <= 100.5 and shares == sorted(shares, reverse=True)
    convs = [ln.split() for ln in rows if ln.startswith("conv ")]
    assert convs and all(float(t[-1]) > 0 and float(t[-2]) > 0 for t in convs)  # GFLOP/s in the step and alone


def test_convs_alone_times_every_conv_of_the_step_the_ratio_counts():
    """The ceiling column weighs exactly the conv FLOPs the training ratio counts (PSNR step: 3 forwards)."""
    from srlib import bench
    from srlib.data import PairedPatchDataset
    from srlib.train import Trainer, load_recipe

    cfg = load_recipe("srresnet_x4", "cpu", val_every=0, checkpoint_every=0, device="cpu", batch_size=2,
                      patch_size=32)
    rng = np.random.default_rng(0)
    patches = PairedPatchDataset([rng.random((40, 40, 3), dtype=np.float32)], 4, 32, length=64, seed=0)
    trainer = Trainer(cfg, patches=patches, progress=False)
    calls = bench._conv_calls(trainer)
    assert len(calls) == sum(isinstance(m, torch.nn.Conv2d) for m in trainer.G.modules())  # one forward each
    flops = sum(bench._conv_alone_rate(layer, shape, 0.01, False)[0] for layer, shape in calls)
    assert flops == pytest.approx(bench._train_flops_per_sample(trainer) * cfg.batch_size)
    assert 0 < bench.convs_alone(calls, 0.01) < 1e5


def test_profile_counts_a_strided_conv_by_its_output_size():
    import torch
    from torch.profiler import ProfilerActivity, profile

    from srlib import bench

    conv = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1).to(memory_format=torch.channels_last)
    x = torch.rand(2, 8, 20, 20).contiguous(memory_format=torch.channels_last)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        conv(x).sum().backward()
    events = prof.key_averages(group_by_input_shape=True)
    forward = [e for e in events if e.key == "aten::mkldnn_convolution"]
    if not forward:
        pytest.skip("this build runs CPU convs through another aten op")
    expected = 2.0 * 2 * 16 * 10 * 10 * 8 * 3 * 3  # output 10x10, not the input's 20x20
    assert bench._conv_flops(forward[0].key, forward[0].input_shapes, bench._output_sides(events)) == expected
    assert bench._conv_flops(forward[0].key, forward[0].input_shapes) == 4 * expected  # no backward row to read
    _, _, side, stride, padding, groups = bench._conv_geometry(forward[0].key, forward[0].input_shapes,
                                                               bench._output_sides(events))
    assert (side, stride, padding, groups) == ((10, 10), (2, 2), (1, 1), 1)
    # x needs no gradient: the backward computes the weight gradient only, one forward's worth of FLOPs
    backward = [e for e in prof.events() if e.name == "aten::convolution_backward"]
    assert [bench._backward_grads(e) for e in backward] == [(False, True)]
    assert bench._conv_flops(backward[0].name, backward[0].input_shapes, grads=(False, True)) == expected
    assert bench._conv_flops(backward[0].name, backward[0].input_shapes) == 2 * expected


def test_profile_rows_time_a_grouped_conv_alone_with_its_groups():
    """The bicubic image skip is a grouped conv (weight 48x1x5x5 on 3 channels): FLOPs per group's inputs."""
    from srlib import bench

    shapes = [[2, 3, 28, 28], [48, 1, 5, 5], []]
    sides = {((3, 28, 28), (48, 1, 5, 5)): (24, 24)}
    assert bench._conv_geometry("aten::mkldnn_convolution", shapes, sides)[2:] == ((24, 24), (1, 1), (0, 0), 3)
    assert bench._conv_flops("aten::mkldnn_convolution", shapes, sides) == 2.0 * 2 * 48 * 24 * 24 * 1 * 5 * 5
    assert bench._conv_alone_seconds("aten::mkldnn_convolution", shapes, sides, 0.01) > 0
    assert bench._conv_alone_seconds("aten::relu", shapes, sides, 0.01) is None


@pytest.mark.parametrize("argv, needle", [
    (("train", "--steps", "0"), "--steps 0"),
    (("train", "--rounds", "0"), "--rounds 0"),
    (("train", "--seconds", "-1"), "--seconds -1.0"),
    (("train", "--seconds", "nan"), "--seconds nan"),
    (("models", "--size", "0"), "--size 0"),
    (("models", "--batch", "0"), "--batch 0"),
    (("upscale", "--size", "0x10"), "--size 0x10"),
    (("upscale", "--upscale-rounds", "0"), "--upscale-rounds 0"),
    (("degrade", "--scale", "0"), "--scale 0"),
])
def test_bench_refuses_zero_and_negative_counts_in_one_line(argv, needle):
    assert_one_clear_error(run("bench", *argv), needle)


def test_bench_unknown_preset():
    assert_one_clear_error(run("bench", "models", "--preset", "srgan9000"), "unknown generator preset")


def test_course_only_a_name_no_notebook_has_is_refused_not_a_run_of_nothing():
    assert_one_clear_error(run("course", "--only", "42", "05"), "--only 42", "05_srgan_training")


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_train_seed_outside_numpys_range_is_refused_in_one_line(tmp_path, seed):
    assert_one_clear_error(run("train", "srresnet_x4", "--seed", seed, "--steps", "1", "--out", str(tmp_path / "run")),
                           f"seed = {seed}", "4294967295")
    assert not (tmp_path / "run").exists()


def test_upscale_scale_below_one_is_refused_before_any_image(tmp_path):
    from srlib.data import save_image

    save_image(tmp_path / "in.png", np.zeros((8, 8, 3), np.float32))
    assert_one_clear_error(run("upscale", str(tmp_path / "in.png"), "--model", "bicubic", "--scale", "0"), "--scale 0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


def test_seed_everything_refuses_what_numpy_cannot_seed():
    from srlib.errors import SrlibError
    from srlib.train import seed_everything

    for bad in (-1, 2**32, 1.5, True):
        with pytest.raises(SrlibError, match="seed"):
            seed_everything(bad)
    seed_everything(2**32 - 1)
