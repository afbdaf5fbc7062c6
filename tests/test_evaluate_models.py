"""`python -m srlib evaluate` and `evaluate_models`: models x sets, the literature's conventions, one line per mistake.

Each test fixes its data root: `empty_root` (the embedded samples stand in) or `datasets` (the real sets),
so that the suite means the same whatever SRLIB_DATA_DIR the caller has.
"""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import torch

from srlib import cli, quality
from srlib.data import load_benchmark, load_image, save_image
from srlib.degrade import crop_to_multiple
from srlib.evaluate import REFERENCE, bicubic_upscale, evaluate_models, load_lr_folder, mean_scores, score_benchmark
from srlib.errors import SrlibError
from srlib.metrics import psnr
from srlib.models import build_generator, save_generator
from srlib.models.weights import atomic_save


@pytest.fixture(autouse=True)
def no_own_runs(tmp_path, monkeypatch):
    """Course models come from the shipped checkpoints, whatever runs the caller has of their own."""
    monkeypatch.setenv("SRLIB_CHECKPOINT_DIR", str(tmp_path / "no-runs"))


@pytest.fixture
def real_root(datasets, monkeypatch):
    monkeypatch.setenv("SRLIB_DATA_DIR", str(datasets))
    return datasets


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error(capsys, *argv) -> str:
    code, _, err = run_cli(capsys, *argv)
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def table_rows(out: str) -> dict[tuple[str, str], list[str]]:
    """(model, set) -> the printed row's other fields, from the summary table (the last table printed)."""
    lines = out.splitlines()
    start = max(i for i, ln in enumerate(lines) if ln.startswith("model ") and " images " in ln)
    rows = {}
    for ln in lines[start + 1:]:
        if not ln.strip() or ln.startswith(("csv:", "json:", "SR images:")):
            break
        model = REFERENCE if ln.startswith(REFERENCE) else ln.split()[0]
        fields = ln[len(model):].split()
        rows[(model, fields[0])] = fields[1:]
    return rows


def write_images(folder, images: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, img in images.items():
        save_image(folder / f"{name}.png", img)


def tiny_model(scale: int, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_generator("srresnet-tiny", scale).eval()


# ------------------------------------------------------------------------------------------ bad input

def test_an_unknown_model_lists_the_known_ones(capsys, empty_root):
    line = one_error(capsys, "evaluate", "--model", "srgan_x9")
    assert "unknown model 'srgan_x9'" in line and "bicubic" in line and "srresnet_x4-cpu" in line
    assert "there is no" in one_error(capsys, "evaluate", "--model", "runs/mine/generator.pt")


def test_a_x2_checkpoint_asked_for_x4_says_its_scale(capsys, empty_root, tmp_path):
    path = save_generator(tiny_model(2), tmp_path / "x2" / "generator.pt", "srresnet-tiny", 2)
    line = one_error(capsys, "evaluate", "--model", str(path), "--scale", "4")
    assert "x2 model" in line and "--scale 2" in line and "x4" in line


def test_a_file_that_is_no_model_is_refused(capsys, empty_root, tmp_path):
    atomic_save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    assert "neither a generator weights file" in one_error(capsys, "evaluate", "--model", str(tmp_path / "other.pt"))


def test_a_folder_with_no_images(capsys, empty_root, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "notes.txt").write_text("no images here")
    assert "no images in" in one_error(capsys, "evaluate", "--dataset", str(tmp_path / "photos"))
    assert "no images in" in one_error(capsys, "evaluate", "--lr-folder", str(tmp_path / "photos"), "--metrics", "niqe")


def test_a_missing_folder_or_set_name(capsys, empty_root, tmp_path):
    line = one_error(capsys, "evaluate", "--dataset", str(tmp_path / "nowhere"))
    assert "unknown data set" in line and "no folder" in line


def test_an_hr_lr_size_mismatch_names_the_image_and_sizes(capsys, empty_root, tmp_path):
    rng = np.random.default_rng(0)
    write_images(tmp_path / "pairs" / "HR", {"a": rng.random((64, 48, 3))})
    write_images(tmp_path / "pairs" / "LR", {"a": rng.random((32, 24, 3))})  # a x2 LR
    line = one_error(capsys, "evaluate", "--dataset", str(tmp_path / "pairs"), "--scale", "4")
    assert "a.png is 48x64 in HR/ but 24x32 in LR/" in line and "x4" in line
    code, out, _ = run_cli(capsys, "evaluate", "--dataset", str(tmp_path / "pairs"), "--scale", "2")
    assert code == 0 and ("bicubic", "pairs") in table_rows(out)


def test_an_hr_image_without_its_lr_partner(capsys, empty_root, tmp_path):
    rng = np.random.default_rng(0)
    write_images(tmp_path / "pairs" / "HR", {"a": rng.random((16, 16, 3)), "b": rng.random((16, 16, 3))})
    write_images(tmp_path / "pairs" / "LR", {"a": rng.random((4, 4, 3))})
    assert "b.png" in one_error(capsys, "evaluate", "--dataset", str(tmp_path / "pairs"))


def test_an_lr_folder_asked_for_psnr_ssim_swd(capsys, empty_root, tmp_path):
    write_images(tmp_path / "lr", {"a": np.random.default_rng(0).random((40, 40, 3))})
    line = one_error(capsys, "evaluate", "--lr-folder", str(tmp_path / "lr"), "--metrics", "psnr,ssim,swd")
    assert "only NIQE" in line and "psnr, ssim, swd" in line and "--metrics niqe" in line


def test_an_unknown_metric_lists_the_known_ones(capsys, empty_root):
    line = one_error(capsys, "evaluate", "--metrics", "psnr,fid")
    assert "unknown metric 'fid'" in line and "psnr, ssim, niqe, swd, hf, lpips" in line


def test_a_set_that_lacks_the_scale(capsys, empty_root):
    line = one_error(capsys, "evaluate", "--dataset", "Set5", "--dataset", "BSD100", "--scale", "3")
    assert "BSD100 comes at x4 only, not x3" in line


def test_a_scale_below_two(capsys, empty_root, tmp_path):
    write_images(tmp_path / "hr", {"a": np.random.default_rng(0).random((16, 16, 3))})
    assert "at least 2" in one_error(capsys, "evaluate", "--dataset", str(tmp_path / "hr"), "--scale", "1")


def test_existing_table_files_are_not_overwritten_unless_asked(capsys, empty_root, tmp_path):
    for flag in ("--csv", "--json"):
        kept = tmp_path / f"kept{flag[2:]}"
        kept.write_text("a learner's earlier table\n")
        assert "exists; nothing was overwritten" in one_error(capsys, "evaluate", flag, str(kept))
        assert kept.read_text() == "a learner's earlier table\n"
        code, _, _ = run_cli(capsys, "evaluate", flag, str(kept), "--overwrite")
        assert code == 0 and kept.read_text().startswith("model," if flag == "--csv" else "{")


def test_a_non_empty_image_folder_is_refused_before_any_work(capsys, empty_root, tmp_path):
    out = tmp_path / "sr"
    out.mkdir()
    (out / "mine.png").write_bytes(b"a learner's file")
    assert "not empty" in one_error(capsys, "evaluate", "--save-images", str(out))
    assert sorted(p.name for p in out.iterdir()) == ["mine.png"]


# ------------------------------------------------------------------------------------------ good paths

def test_a_course_model_on_the_embedded_samples(capsys, empty_root):
    code, out, _ = run_cli(capsys, "evaluate", "--model", "srresnet_x4-cpu", "--model", "bicubic")
    rows = table_rows(out)
    assert code == 0 and "embedded scikit-image samples" in out and "shipped course checkpoint" in out
    assert set(rows) == {("srresnet_x4-cpu", "samples"), ("bicubic", "samples")}
    bench = load_benchmark("Set5", 4)
    assert float(rows[("bicubic", "samples")][1]) == round(mean_scores(score_benchmark("bicubic", bench))[0], 2)
    assert float(rows[("srresnet_x4-cpu", "samples")][1]) > float(rows[("bicubic", "samples")][1]) + 0.5


def test_a_course_model_on_set5_matches_score_benchmark(capsys, real_root):
    from srlib.models import load_course_model

    code, out, _ = run_cli(capsys, "evaluate", "--model", "bicubic", "--model", "srresnet_x4-cpu", "--dataset", "Set5")
    rows = table_rows(out)
    assert code == 0 and rows[("bicubic", "Set5")] == ["5", "28.42", "0.8102"]  # the literature's bicubic row
    model, _ = load_course_model("srresnet_x4-cpu")
    p, s = mean_scores(score_benchmark(model, load_benchmark("Set5", 4, fallback=False)))
    assert rows[("srresnet_x4-cpu", "Set5")] == ["5", f"{p:.2f}", f"{s:.4f}"]


def test_missing_sets_fall_back_to_the_samples_once(empty_root):
    table = evaluate_models(["bicubic"], ["Set5", "Set14"], progress=False)
    assert [(r["model"], r["dataset"]) for r in table.sets] == [("bicubic", "samples")]
    assert any("Set14" in n and "scored once" in n for n in table.notes)


def two_hr_folders(tmp_path) -> list:
    """Two folders of HR images made from the embedded samples: one plain, one with HR/ and LR/ (bicubic-made)."""
    from srlib.data import EVAL_SAMPLES, load_sample
    from srlib.degrade import bicubic_downsample

    hrs = {n: crop_to_multiple(load_sample(n), 4) for n in EVAL_SAMPLES[:3]}
    write_images(tmp_path / "plain", hrs)
    write_images(tmp_path / "paired" / "HR", hrs)
    write_images(tmp_path / "paired" / "LR", {n: bicubic_downsample(h, 4) for n, h in hrs.items()})
    return [tmp_path / "plain", tmp_path / "paired"]


def test_two_models_on_two_sets_one_table_csv_and_json(capsys, empty_root, tmp_path):
    folders = two_hr_folders(tmp_path)
    weights = save_generator(tiny_model(4), tmp_path / "tiny.pt", "srresnet-tiny", 4)
    code, out, _ = run_cli(capsys, "evaluate", "--model", "bicubic", "--model", str(weights),
                           "--dataset", str(folders[0]), "--dataset", str(folders[1]), "--metrics", "psnr,ssim,hf",
                           "--per-image", "--csv", str(tmp_path / "t.csv"), "--json", str(tmp_path / "t.json"))
    assert code == 0
    rows = table_rows(out)
    assert set(rows) == {(m, s) for m in ("bicubic", str(weights)) for s in ("plain", "paired")}
    assert rows[("bicubic", "plain")] == rows[("bicubic", "paired")]  # the LR made from HR/ = the LR/ given
    assert "astronaut" in out  # --per-image
    saved = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text())))
    doc = json.loads((tmp_path / "t.json").read_text())
    assert len(saved) == 4 and len(doc["sets"]) == 4 and len(doc["images"]) == 12
    for line, row in zip(saved, doc["sets"]):
        assert (line["model"], line["dataset"], int(line["images"])) == (row["model"], row["dataset"], 3)
        assert float(line["psnr"]) == pytest.approx(row["psnr"], abs=1e-9)
        assert f"{row['psnr']:.2f}" == rows[(row["model"], row["dataset"])][1]
        per_image = [r["psnr"] for r in doc["images"] if (r["model"], r["dataset"]) == (row["model"], row["dataset"])]
        assert row["psnr"] == pytest.approx(np.mean(per_image))
    assert any("Y channel (rounded), border of 4 px" in c for c in doc["conventions"])


def test_saved_images_are_the_scored_outputs(capsys, empty_root, tmp_path):
    out_dir = tmp_path / "sr"
    code, out, _ = run_cli(capsys, "evaluate", "--save-images", str(out_dir))
    assert code == 0
    bench = load_benchmark("Set5", 4)
    files = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.png"))
    assert files == sorted(f"bicubic/samples/{p.name}.png" for p in bench)
    scores = [psnr(load_image(out_dir / "bicubic" / "samples" / f"{p.name}.png"), p.hr, 4) for p in bench]
    assert table_rows(out)[("bicubic", "samples")][1] == f"{np.mean(scores):.2f}"
    assert not list(out_dir.rglob(".*.tmp"))  # written atomically, nothing left over
    code, _, _ = run_cli(capsys, "evaluate", "--save-images", str(out_dir), "--overwrite")
    assert code == 0


def test_a_checkpoint_of_another_scale_evaluates_at_its_scale(capsys, real_root, tmp_path):
    model = tiny_model(2)
    path = save_generator(model, tmp_path / "x2.pt", "srresnet-tiny", 2)
    code, out, _ = run_cli(capsys, "evaluate", "--model", str(path), "--dataset", "Set5", "--scale", "2")
    expected = mean_scores(score_benchmark(model, load_benchmark("Set5", 2, fallback=False)))[0]
    assert code == 0 and table_rows(out)[(str(path), "Set5")][1] == f"{expected:.2f}"


def test_a_training_checkpoint_is_scored_with_its_ema_weights(empty_root, tmp_path):
    plain, ema = tiny_model(2, seed=1), tiny_model(2, seed=2)
    atomic_save({"config": {"generator": "srresnet-tiny", "scale": 2}, "step": 7, "generator": plain.state_dict(),
                 "ema": ema.state_dict()}, tmp_path / "last.pt")
    table = evaluate_models({"run": tmp_path / "last.pt", "folder": tmp_path, "ema": ema, "plain": plain}, ["Set5"],
                            scale=2, progress=False)
    psnrs = {r["model"]: r["psnr"] for r in table.sets}
    assert psnrs["run"] == psnrs["folder"] == psnrs["ema"] != psnrs["plain"]  # a run's folder without generator.pt
    assert any("training checkpoint, step 7, EMA weights" in n for n in table.notes)


def test_api_accepts_functions_and_modules_and_checks_output_size(empty_root):
    table = evaluate_models({"mine": bicubic_upscale, "net": tiny_model(4)}, ["Set5"], progress=False)
    assert [r["model"] for r in table.sets] == ["mine", "net"]
    with pytest.raises(SrlibError, match="half on samples x4, astronaut: the output is"):
        evaluate_models({"half": lambda lr, s: bicubic_upscale(lr, s)[::2]}, ["Set5"], progress=False)
    with pytest.raises(SrlibError, match="upscales x2, not x4"):
        evaluate_models({"net": tiny_model(2)}, ["Set5"], progress=False)
    with pytest.raises(SrlibError, match="no data set given"):
        evaluate_models(["bicubic"], [], progress=False)


def test_niqe_follows_the_conventions_and_has_a_reference_row(empty_root):
    from srlib.data import to_uint8

    table = evaluate_models(["bicubic"], ["Set5"], metrics="psnr,niqe", progress=False)
    bench = load_benchmark("Set5", 4)
    ref = [r for r in table.images if r["model"] == REFERENCE]
    assert [r["niqe"] for r in ref] == pytest.approx([quality.niqe(p.hr, crop=4) for p in bench])
    first = next(r for r in table.images if r["model"] == "bicubic")
    sr = to_uint8(bicubic_upscale(bench[0].lr, 4))
    assert first["niqe"] == pytest.approx(quality.niqe(sr, crop=4)) and first["niqe"] != pytest.approx(quality.niqe(sr))
    assert [r["model"] for r in table.sets] == [REFERENCE, "bicubic"] and "psnr" not in table.sets[0]


def test_an_lr_folder_is_scored_by_niqe(capsys, empty_root, tmp_path):
    from srlib.data import EVAL_SAMPLES, load_sample

    write_images(tmp_path / "phone", {n: load_sample(n)[:120, :160] for n in EVAL_SAMPLES[:2]})
    code, out, _ = run_cli(capsys, "evaluate", "--lr-folder", str(tmp_path / "phone"), "--metrics", "niqe")
    assert code == 0 and "no HR: NIQE only" in out
    assert list(table_rows(out)) == [("bicubic", "phone")]  # no reference row: there is no HR
    table = evaluate_models(["bicubic"], [load_lr_folder(tmp_path / "phone")], metrics="niqe", progress=False)
    assert float(table_rows(out)[("bicubic", "phone")][1]) == round(table.sets[0]["niqe"], 3)


def test_swd_is_one_number_per_set(empty_root):
    table = evaluate_models(["bicubic"], ["Set5"], metrics="psnr,swd", progress=False)
    bench = load_benchmark("Set5", 4)
    from srlib.data import to_uint8

    outputs = [to_uint8(bicubic_upscale(p.lr, 4)) for p in bench]
    assert table.sets[0]["swd"] == pytest.approx(quality.swd(outputs, [p.hr for p in bench], seed=0).mean)
    assert all("swd" not in r for r in table.images)
    assert "swd" in table.to_csv() and "swd" not in table.to_csv(per_image=True)


def test_lpips_without_its_weights_is_one_note_and_the_rest_is_computed(capsys, empty_root, monkeypatch):
    monkeypatch.setattr(quality, "lpips_status", lambda: "pip install lpips (and its AlexNet weights)")
    code, out, _ = run_cli(capsys, "evaluate", "--metrics", "psnr,lpips")
    header = [ln for ln in out.splitlines() if ln.startswith("model ")][-1]
    assert code == 0 and "pip install lpips (and its AlexNet weights) LPIPS left out" in out and "LPIPS" not in header
    assert len(table_rows(out)[("bicubic", "samples")]) == 2  # images, PSNR
    assert "LPIPS cannot be computed here" in one_error(capsys, "evaluate", "--metrics", "lpips")


def test_lpips_when_usable_is_a_column(empty_root, monkeypatch):
    monkeypatch.setattr(quality, "lpips_status", lambda: None)
    crops = []
    monkeypatch.setattr(quality, "lpips", lambda sr, hr, crop=0: crops.append(crop) or 0.25)
    table = evaluate_models(["bicubic"], ["Set5"], metrics="lpips", progress=False)
    assert table.sets[0]["lpips"] == 0.25 and "LPIPS" in table.format() and crops == [4] * 5


def test_bench_evaluate_times_each_part(capsys, empty_root):
    code, out, _ = run_cli(capsys, "bench", "evaluate", "--dataset", "Set5")
    times = {ln[:34].strip(): float(ln[34:43]) for ln in out.splitlines()[3:] if ln[34:43].strip()[:1].isdigit()}
    parts = ["loading images and model", "inference (srresnet_x4-cpu)", "psnr", "ssim", "niqe", "swd",
             "niqe of HR (reference row)", "total"]
    assert code == 0 and list(times) == parts and "5 images" in out and "embedded scikit-image samples" in out
    assert all(t >= 0 for t in times.values()) and times["inference (srresnet_x4-cpu)"] > 0
    assert times["total"] == pytest.approx(sum(t for p, t in times.items() if p != "total"), abs=0.05 * len(parts))  # 0.1 s print


def test_lpips_as_this_machine_has_it(capsys, empty_root):
    """With the weights: a column; without (as on the course's CI): the status line, and PSNR still computed."""
    status = quality.lpips_status()
    code, out, _ = run_cli(capsys, "evaluate", "--metrics", "psnr,lpips")
    header = [ln for ln in out.splitlines() if ln.startswith("model ")][-1]
    assert code == 0 and "PSNR" in header
    assert ("LPIPS" in header) if status is None else (f"{status} LPIPS left out" in out and "LPIPS" not in header)


def test_an_image_too_small_for_niqe_is_named(capsys, empty_root, tmp_path):
    write_images(tmp_path / "small", {"tiny": np.random.default_rng(0).random((64, 64, 3))})
    line = one_error(capsys, "evaluate", "--dataset", str(tmp_path / "small"), "--metrics", "niqe")
    assert "small" in line and "tiny" in line


def test_a_model_of_another_scale_is_refused_by_its_scale_not_as_a_size_mismatch():
    from srlib.data import load_benchmark
    from srlib.errors import SrlibError
    from srlib.evaluate import score_benchmark
    from srlib.models import build_generator

    bench = load_benchmark("Set5", 4)
    with pytest.raises(SrlibError, match="upscales x2, but x4"):
        score_benchmark(build_generator("srresnet-tiny", 2), bench)
