"""Degraded test sets: one seeded real-world draw per HR image, reproducible, and scored by `evaluate --degrade`."""
from pathlib import Path

import numpy as np
import pytest

from srlib.data import load_benchmark
from srlib.data.degraded import degrade_benchmark, image_seed
from srlib.errors import SrlibError


@pytest.fixture(scope="module")
def samples():
    return load_benchmark("Set5", 4, root=Path("/nonexistent"))  # the embedded samples: the same on every machine


def test_same_seed_same_lr_and_another_seed_differs(samples):
    a, b, c = degrade_benchmark(samples, seed=0), degrade_benchmark(samples, seed=0), degrade_benchmark(samples, seed=1)
    assert a.name == f"{samples.name}-realesrgan" and "seed 0" in a.source
    for pa, pb, pc, p in zip(a, b, c, samples):
        assert np.array_equal(pa.lr, pb.lr) and not np.array_equal(pa.lr, pc.lr)
        assert pa.lr.shape == p.lr.shape and pa.hr is p.hr
        assert np.array_equal(np.round(pa.lr * 255), pa.lr * 255)  # on the 8-bit grid, as a saved photo


def test_image_i_gets_its_own_stream_whatever_the_set(samples):
    from srlib.data.sets import BenchmarkSet

    first_two = BenchmarkSet("two", 4, "", samples.pairs[:2])
    assert np.array_equal(degrade_benchmark(first_two)[1].lr, degrade_benchmark(samples)[1].lr)
    assert image_seed(0, 1) != image_seed(1, 0)


def test_the_damage_is_not_bicubic(samples):
    d = degrade_benchmark(samples, seed=0)
    assert np.mean([np.abs(p.lr - q.lr).mean() for p, q in zip(d, samples)]) > 0.01
    assert not np.array_equal(degrade_benchmark(samples, "bsrgan")[0].lr, d[0].lr)


def test_bad_order_or_seed_is_refused(samples):
    with pytest.raises(SrlibError, match="unknown degradation 'jpeg'"):
        degrade_benchmark(samples, "jpeg")
    with pytest.raises(SrlibError, match="whole number"):
        degrade_benchmark(samples, seed=0.5)


def test_evaluate_degrade_scores_the_damaged_lr(capsys, tmp_path, monkeypatch):
    import json

    from srlib.cli import main

    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path))  # the embedded samples
    main(["evaluate", "--dataset", "Set5", "--degrade", "realesrgan", "--json", str(tmp_path / "damaged.json")])
    out = capsys.readouterr().out
    main(["evaluate", "--dataset", "Set5", "--json", str(tmp_path / "clean.json")])
    assert "realesrgan degradation of each HR image (seed 0)" in out and "samples-realesrgan" in out

    def psnr(name):
        rows = json.loads((tmp_path / name).read_text())["sets"]
        return next(r["psnr"] for r in rows if r["model"] == "bicubic")

    assert psnr("damaged.json") < psnr("clean.json") - 1.0  # the damage costs bicubic more than a dB
