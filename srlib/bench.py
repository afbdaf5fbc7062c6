"""Benchmarks that print figures (never timed unit tests): `python -m srlib bench models`."""
from __future__ import annotations

import time

import torch

from .models import GENERATORS, build_generator, count_parameters, gflops_per_lr_pixel


def _throughput(fn, min_seconds: float = 1.0, warmup: int = 1) -> float:
    """Calls per second of fn, timed for at least min_seconds after warm-up."""
    for _ in range(warmup):
        fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return n / elapsed


def bench_models(scale: int = 4, size: int = 32, batch: int = 2, seconds: float = 1.0, presets=None) -> list[dict]:
    """Parameters, GFLOPs per LR pixel and CPU forward / forward+backward throughput of each preset."""
    rows = []
    x = torch.rand(batch, 3, size, size).contiguous(memory_format=torch.channels_last)
    for name in presets or GENERATORS:
        torch.manual_seed(0)
        model = build_generator(name, scale).to(memory_format=torch.channels_last)
        gflops = gflops_per_lr_pixel(model)
        model.eval()
        with torch.inference_mode():
            fwd = _throughput(lambda: model(x), seconds) * batch * size * size
        model.train()

        def step():
            model.zero_grad(set_to_none=True)
            model(x).mean().backward()

        train = _throughput(step, seconds) * batch * size * size
        rows.append({"preset": name, "params": count_parameters(model), "gflops_per_px": gflops,
                     "fwd_kpx_s": fwd / 1e3, "train_kpx_s": train / 1e3,
                     "fwd_gflop_s": fwd * gflops, "train_gflop_s": train * gflops * 3})
    return rows


def print_models(rows: list[dict], scale: int, size: int, batch: int) -> None:
    print(f"generators at x{scale}; CPU threads: {torch.get_num_threads()}; input {batch}x3x{size}x{size} (LR pixels)")
    print(f"{'preset':<15}{'params':>12}{'GFLOP/LRpx':>12}{'fwd kpx/s':>11}{'fwd GFLOP/s':>13}"
          f"{'fwd+bwd kpx/s':>15}{'~GFLOP/s':>10}")
    for r in rows:
        print(f"{r['preset']:<15}{r['params']:>12,}{r['gflops_per_px']:>12.4f}{r['fwd_kpx_s']:>11.1f}"
              f"{r['fwd_gflop_s']:>13.1f}{r['train_kpx_s']:>15.1f}{r['train_gflop_s']:>10.1f}")
    print("fwd+bwd GFLOP/s counts a backward pass as twice the forward.")
