"""Benchmarks that print figures (never timed unit tests): `python -m srlib bench models`."""
from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F

from .errors import SrlibError
from .models import GENERATORS, build_generator, count_macs, count_parameters, gflops_per_lr_pixel
from .train.allocator import keep_freed_memory


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


def bf16_supported() -> bool:
    """Whether this CPU has native bf16 dot products (oneDNN says; AVX512-BF16 or AMX), so bf16 can pay."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


# largest |output - eager fp32 output| accepted, in 8-bit grey levels; bf16 keeps 8 bits of mantissa
TOLERANCE_LEVELS = {"eager fp32": 0.0, "eager bf16": 4.0, "compiled fp32": 0.05, "compiled bf16": 4.0}


def _inference_variants(model, compile_: bool, bf16: bool) -> dict:
    """name -> callable(x) for each way of running the model that this CPU supports."""
    def autocast(fn):
        def run(x):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return fn(x).float()
        return run

    variants = {"eager fp32": model}
    if bf16:
        variants["eager bf16"] = autocast(model)
    if compile_:
        compiled = torch.compile(model)
        variants["compiled fp32"] = compiled
        if bf16:
            variants["compiled bf16"] = autocast(torch.compile(model))
    return variants


def _bench_weights(name: str, scale: int):
    """A preset's trained weights where srlib ships a PSNR course model of it (real outputs for bf16), else random."""
    from .models.pretrained import load_course_model, shipped_path
    from .models.weights import load_weights_file

    for course in ("srresnet_x4-cpu", "srresnet_x4-course", "rrdbnet_x4-cpu"):
        path = shipped_path(course)
        if scale == 4 and path.is_file() and load_weights_file(path).get("preset") == name:
            return load_course_model(course, prefer_own=False)[0], course
    return build_generator(name, scale), "random"


def bench_models(scale: int = 4, size: int = 32, batch: int = 2, seconds: float = 1.0, presets=None,
                 compile_: bool = True, bf16: bool | None = None, rounds: int = 3) -> list[dict]:
    """Per preset: parameters, GFLOPs per LR pixel, training throughput, and inference output MP/s
    eager vs torch.compile, fp32 vs bf16 (where the CPU has bf16), each checked against eager fp32.

    Inference variants are timed in `rounds` interleaved rounds (the median is kept), so a
    minute of a busy machine does not favour one of them. A preset runs with the course
    weights srlib ships for it, others with random weights (seed 0): this measures speed and
    agreement, not quality.
    """
    bf16 = bf16_supported() if bf16 is None else bf16
    rows = []
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 3, size, size, generator=gen).contiguous(memory_format=torch.channels_last)
    for name in presets or GENERATORS:
        torch.manual_seed(0)
        model, weights = _bench_weights(name, scale)
        model = model.to(memory_format=torch.channels_last)
        gflops = gflops_per_lr_pixel(model)
        model.train()

        def step():
            model.zero_grad(set_to_none=True)
            model(x).mean().backward()

        train = _throughput(step, seconds) * batch * size * size
        model.eval()
        out_px = batch * size * size * scale * scale
        row = {"preset": name, "weights": weights, "params": count_parameters(model), "gflops_per_px": gflops,
               "train_kpx_s": train / 1e3, "train_gflop_s": train * gflops * 3, "mp_s": {}, "diff_levels": {},
               "compile_s": None}
        torch._dynamo.reset()  # a fresh compile per preset: no recompile limit reached, honest compile times
        with torch.inference_mode():
            variants = _inference_variants(model, compile_, bf16)
            reference = model(x)
            span = max(1.0, (reference.max() - reference.min()).item())  # random weights can leave [0, 1]
            for label, fn in variants.items():
                start = time.perf_counter()
                out = fn(x)  # compiles here, for the compiled variants
                if label == "compiled fp32":
                    row["compile_s"] = time.perf_counter() - start
                row["diff_levels"][label] = 255 * (out.float() - reference).abs().max().item() / span
            rates = {label: [] for label in variants}
            for _ in range(rounds):
                for label, fn in variants.items():
                    rates[label].append(_throughput(lambda: fn(x), seconds / 2) * out_px / 1e6)
        row["mp_s"] = {label: statistics.median(r) for label, r in rates.items()}
        row["agree"] = all(row["diff_levels"][k] <= TOLERANCE_LEVELS[k] for k in variants)
        rows.append(row)
    return rows


def print_models(rows: list[dict], scale: int, size: int, batch: int) -> None:
    labels = [k for k in TOLERANCE_LEVELS if any(k in r["mp_s"] for r in rows)]
    print(f"generators at x{scale}; CPU threads: {torch.get_num_threads()}; input {batch}x3x{size}x{size} (LR pixels, "
          f"uniform noise); bf16 on this CPU: {'yes' if bf16_supported() else 'no (not timed)'}")
    print(f"{'preset':<16}{'weights':<16}{'params':>11}{'GFLOP/LRpx':>11}{'train kpx/s':>12}  "
          + "".join(f"{k + ' MP/s':>19}" for k in labels) + f"{'compile s':>10}{'bf16 diff':>10}  agree")
    for r in rows:
        cells = "".join(f"{r['mp_s'][k]:>19.3f}" if k in r["mp_s"] else f"{'-':>19}" for k in labels)
        comp = f"{r['compile_s']:>10.1f}" if r["compile_s"] is not None else f"{'-':>10}"
        diff = r["diff_levels"].get("eager bf16")
        diff = f"{diff:>10.2f}" if diff is not None else f"{'-':>10}"
        print(f"{r['preset']:<16}{r['weights']:<16}{r['params']:>11,}{r['gflops_per_px']:>11.4f}{r['train_kpx_s']:>12.1f}"
              f"  {cells}{comp}{diff}  {'yes' if r['agree'] else 'NO'}")
    print("MP/s: output megapixels per second of inference (median of interleaved rounds); train: forward+backward, "
          "eager fp32, a backward counted as twice the forward.")
    worst = {k: max(r["diff_levels"][k] for r in rows if k in r["diff_levels"]) for k in labels}
    print("weights: a shipped course checkpoint where one has the preset, else random (seed 0); differences are in "
          "8-bit grey levels of the output's range (at least [0, 1])")
    print("largest |difference| from eager fp32 (tolerance): "
          + ", ".join(f"{k} {v:.3g} ({TOLERANCE_LEVELS[k]:g})" for k, v in worst.items()))
    bad = [r["preset"] for r in rows if not r["agree"]]
    if bad:
        print(f"DISAGREE beyond the tolerance: {', '.join(bad)}")


def cpu_description() -> str:
    """The CPU's model name and widest vector units (from /proc/cpuinfo where there is one).

    The share of the conv peak a recipe reaches depends on the CPU: wide units (AVX-512,
    AMX) speed up large convolutions far more than small ones and the element-wise ops.
    """
    import platform

    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    vector = next((label for flag, label in (("avx512f", "AVX-512"), ("avx2", "AVX2")) if flag in flags), None)
    units = [label for label in ("AMX" if "amx_tile" in flags else None, vector) if label]
    return name + (f" ({', '.join(units)})" if units else "")


def conv_peak(seconds: float = 1.0, bf16: bool = False) -> tuple[float, str]:
    """This CPU's dense-convolution peak: the best forward GFLOP/s over a few 3x3 conv shapes (bf16: under autocast)."""
    best, where = 0.0, ""
    for ch, side in ((64, 96), (128, 48), (32, 192)):
        conv = torch.nn.Conv2d(ch, ch, 3, padding=1).to(memory_format=torch.channels_last)
        x = torch.rand(4, ch, side, side).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            rate = _throughput(lambda: conv(x), seconds) * 2 * 9 * ch * ch * side * side * 4 / 1e9
        if rate > best:
            best, where = rate, f"{ch}->{ch} ch, 4x{side}x{side}"
    return best, where


def _train_flops_per_sample(trainer) -> float:
    """FLOPs of one training sample: a forward, and a backward as twice its forward where weights learn.

    G: forward + backward (3 forwards' worth). D (GAN recipes): real and fake in the D step
    (3 each); in the G step D is frozen, so the fake costs a forward and an input-gradient
    backward (2), and the real one a forward (1) when feature matching or the relativistic
    loss needs it: 9 in all for the course's GAN recipes, 8 without.
    """
    p = trainer.cfg.patch_size
    lr_side = p // trainer.cfg.scale
    flops = 3 * 2 * count_macs(trainer.G, (1, 3, lr_side, lr_side))
    if trainer.D is not None:
        cfg = trainer.cfg
        passes = 6 + 2 + (1 if cfg.feature_matching_weight > 0 or cfg.adversarial == "relativistic" else 0)
        flops += passes * 2 * count_macs(trainer.D, (1, 3, p, p))
    return float(flops)


def _conv_calls(trainer) -> list[tuple[torch.nn.Conv2d, tuple]]:
    """Run one training step; every learned conv call in it, as (layer, input shape), read by forward hooks."""
    calls = []
    nets = [net for net in (trainer.G, trainer.D) if net is not None]
    hooks = [m.register_forward_hook(lambda m, inp, out: calls.append((m, tuple(inp[0].shape))))
             for net in nets for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    try:
        trainer.train_step()
    finally:
        for h in hooks:
            h.remove()
    return calls


def _conv_alone_rate(layer: torch.nn.Conv2d, shape: tuple, seconds: float, bf16: bool) -> tuple[float, float]:
    """(FLOPs, GFLOP/s) of one conv layer's forward + backward (input and weight gradients), timed alone."""
    conv = torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                           layer.dilation, layer.groups, bias=layer.bias is not None)
    conv = conv.to(memory_format=torch.channels_last)
    x = torch.rand(shape).contiguous(memory_format=torch.channels_last).requires_grad_()
    with torch.no_grad():
        grad = torch.ones_like(conv(x))
    flops = 3 * 2.0 * count_macs(conv, shape)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            y = conv(x)
        torch.autograd.grad(y, (x, *conv.parameters()), grad)

    return flops, _throughput(step, seconds) * flops / 1e9


def convs_alone(calls, seconds: float = 0.5, bf16: bool = False) -> float:
    """GFLOP/s a step would reach if its convs ran as fast as each does alone and nothing else took time.

    This is the ceiling the recipe's own layer shapes set: small-channel convs do not reach
    the conv peak (measured on 32-128 channels) even alone, on every CPU by a different amount.
    """
    rates, flops, seconds_total = {}, 0.0, 0.0
    for layer, shape in calls:
        key = (layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
               layer.dilation, layer.groups, layer.bias is not None, shape)
        if key not in rates:
            rates[key] = _conv_alone_rate(layer, shape, seconds, bf16)
        f, rate = rates[key]
        flops += f
        seconds_total += f / (rate * 1e9)
    return flops / seconds_total / 1e9 if seconds_total else 0.0


def _seconds_per_step(trainer, steps: int) -> float:
    """Mean wall-clock seconds of `steps` training steps."""
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    return (time.perf_counter() - start) / steps


def _bench_trainer(name: str, images, **overrides):
    """A CPU Trainer of recipe NAME or NAME:SIZE on `images`: no starting weights, validation or checkpoints."""
    from .data import PairedPatchDataset
    from .train import Trainer, load_recipe

    cfg = load_recipe(*_recipe_size(name), init_from="", val_every=0, checkpoint_every=0, device="cpu", **overrides)
    patches = PairedPatchDataset(images, cfg.scale, cfg.patch_size, length=2**40, seed=0)
    return Trainer(cfg, patches=patches, progress=False)


def _recipe_size(name: str) -> tuple[str, str]:
    """'srresnet_x4:course' -> ('srresnet_x4', 'course'); a bare name is its cpu size."""
    recipe, _, size = name.partition(":")
    return recipe, size or "cpu"


TRAIN_RECIPES = ("srresnet_x4", "srresnet_x4:course", "srgan_x4", "esrgan_x4")


def bench_train(recipes=TRAIN_RECIPES, steps: int = 8, seconds: float = 1.0,
                rounds: int = 3, profile: bool = False, amp: str = "off") -> dict:
    """samples/s and GFLOP/s of the cpu recipes' training steps, against the measured conv peak.

    amp="bf16" trains under bfloat16 autocast and measures the peak in bf16 too; only on CPUs
    with native bf16 (AVX512-BF16, AMX), where it pays.

    A shared or throttled CPU changes speed from minute to minute, so the peak
    and every recipe are measured in `rounds` interleaved rounds: each round's
    ratio divides the recipe's rate by that round's peak (like with like), and
    the median and the spread (min-max) of those ratios are reported next to
    the best rate against the best peak. A recipe is NAME (its cpu size) or NAME:SIZE.
    """
    from .data import load_training_images

    if amp not in ("off", "bf16"):
        raise SrlibError(f"bench train --amp {amp}: use off (fp32) or bf16.")
    if amp == "bf16" and not bf16_supported():
        raise SrlibError("this CPU has no native bf16 (AVX512-BF16 or AMX): bf16 autocast would be emulated, slower "
                         "than fp32. Run bench train without --amp.")
    images, source = load_training_images(limit=40)
    parsed = {name: _recipe_size(name) for name in recipes}
    trainers = {name: _bench_trainer(name, images, amp=amp) for name in recipes}
    calls = {name: _conv_calls(trainer) for name, trainer in trainers.items()}  # also the warm-up step
    peaks, shapes, rates = [], [], {name: [] for name in recipes}
    alone = {name: [] for name in recipes}
    for _ in range(rounds):
        p, shape = conv_peak(seconds, bf16=amp == "bf16")
        peaks.append(p)
        shapes.append(shape)
        for name, trainer in trainers.items():
            alone[name].append(convs_alone(calls[name], seconds / 4, bf16=amp == "bf16"))
            rates[name].append(trainer.cfg.batch_size / _seconds_per_step(trainer, steps))
    peak = max(peaks)
    peak_shape = shapes[peaks.index(peak)]
    rows = []
    for name, trainer in trainers.items():
        flops = _train_flops_per_sample(trainer)
        ratios = [r * flops / 1e9 / p for r, p in zip(rates[name], peaks)]
        best = max(rates[name])
        label = "{} ({}{})".format(*parsed[name], ", bf16" if amp == "bf16" else "")
        rows.append({"recipe": label, "samples_per_s": best, "gflop_s": best * flops / 1e9,
                     "of_peak": best * flops / 1e9 / peak, "median_of_peak": statistics.median(ratios),
                     "min_of_peak": min(ratios), "max_of_peak": max(ratios),
                     "convs_alone_of_peak": statistics.median(a / p for a, p in zip(alone[name], peaks)),
                     "of_convs_alone": statistics.median(r * flops / 1e9 / a for r, a in zip(rates[name], alone[name]))})
    profiles = {" ".join(parsed[name]): profile_train_step(t) for name, t in trainers.items()} if profile else {}
    return {"peak": peak, "peak_shape": peak_shape, "cpu": cpu_description(), "rows": rows, "source": source,
            "rounds": rounds, "amp": amp, "keeps_freed_memory": keep_freed_memory(), "bf16_supported": bf16_supported(),
            "seed_loop": bench_seed_loop(images, steps), "profiles": profiles}


def bench_train_compile(recipes=TRAIN_RECIPES, steps: int = 8, rounds: int = 3) -> dict:
    """torch.compile against eager for the recipes' training steps (the setting `compile = true`).

    Each recipe gets an eager and a compiled trainer; the compiled one's first step
    includes the compile (torch caches that work on disk, so a second run compiles
    faster). Then the two are timed in `rounds` interleaved rounds: medians, and the
    speed-up with the number of steps after which the compile has paid for itself.
    """
    from .data import load_training_images

    images, source = load_training_images(limit=40)
    trainers, first = {}, {}
    for name in recipes:
        for compiled in (False, True):
            trainer = _bench_trainer(name, images, amp="off", compile=compiled)
            first[name, compiled] = _seconds_per_step(trainer, 1)
            trainers[name, compiled] = trainer
    times = {key: [] for key in trainers}
    for _ in range(rounds):
        for key, trainer in trainers.items():
            times[key].append(_seconds_per_step(trainer, steps))
    rows = []
    for name in recipes:
        eager, compiled = (statistics.median(times[name, c]) for c in (False, True))
        compile_s = first[name, True] - compiled
        saved = eager - compiled
        rows.append({"recipe": "{} ({})".format(*_recipe_size(name)), "eager_ms": 1e3 * eager,
                     "compiled_ms": 1e3 * compiled, "speedup": eager / compiled, "compile_s": compile_s,
                     "pays_after": compile_s / saved if saved > 0 else None})
    return {"cpu": cpu_description(), "rows": rows, "rounds": rounds, "steps": steps, "source": source}


def print_train_compile(result: dict) -> None:
    print(f"CPU: {result['cpu']}; threads: {torch.get_num_threads()}; {result['rounds']} interleaved rounds of "
          f"{result['steps']} steps, medians; training data: {result['source']}")
    print("compile s: the compiled trainer's first step less a compiled step (faster on a second run, which reads "
          "torch's compile cache); pays after: the steps whose saved time repays it")
    w = max([22] + [len(r["recipe"]) + 1 for r in result["rows"]])
    print(f"{'recipe':<{w}}{'eager ms':>10}{'compiled ms':>13}{'speed-up':>10}{'compile s':>11}{'pays after':>12}")
    for r in result["rows"]:
        pays = f"{r['pays_after']:>12.0f}" if r["pays_after"] is not None else f"{'never':>12}"
        print(f"{r['recipe']:<{w}}{r['eager_ms']:>10.1f}{r['compiled_ms']:>13.1f}{r['speedup']:>9.3f}x"
              f"{r['compile_s']:>11.1f}{pays}")


def _conv_geometry(op: str, shapes: list, out_sides: dict | None = None):
    """(input shape, weight shape, output side, stride, padding, groups) of a profiled conv call; None for other
    operators.

    The profiler records no stride or padding, so a forward conv takes its output side from
    `out_sides` (input and weight shapes -> output side, read off the backward rows; without a
    match it assumes stride 1, same padding), and stride and padding are the smallest that give
    that side.
    """
    try:
        if op == "aten::convolution_backward":
            (_, _, ho, wo), inp, weight = shapes[0], shapes[1], shapes[2]
        elif op == "aten::mkldnn_convolution":
            inp, weight = shapes[0], shapes[1]
            ho, wo = (out_sides or {}).get((tuple(inp[1:]), tuple(weight)), (inp[2], inp[3]))
        else:
            return None
        (_, _, h, w), (_, _, kh, kw) = inp, weight
        stride = (max(1, round(h / ho)), max(1, round(w / wo)))
        padding = tuple(max(0, -(-((o - 1) * st + k - i) // 2))
                        for o, st, k, i in ((ho, stride[0], kh, h), (wo, stride[1], kw, w)))
        groups = inp[1] // weight[1]
    except (ValueError, TypeError, IndexError, ZeroDivisionError):
        return None
    return tuple(inp), tuple(weight), (ho, wo), stride, padding, groups


def _conv_flops(op: str, shapes: list, out_sides: dict | None = None, grads=(True, True)) -> float:
    """FLOPs of one conv call from the profiler's input shapes; a backward counts a forward's worth for each of
    `grads` (input gradient, weight gradient) it computes."""
    geometry = _conv_geometry(op, shapes, out_sides)
    if geometry is None:
        return 0.0
    (n, _, _, _), (cout, cin_per_group, kh, kw), (ho, wo), _, _, _ = geometry
    passes = sum(map(bool, grads[:2])) if op == "aten::convolution_backward" else 1
    return passes * 2.0 * n * cout * ho * wo * cin_per_group * kh * kw


def _backward_grads(event) -> tuple[bool, bool]:
    """(input gradient?, weight gradient?) of one profiled convolution_backward: its output_mask argument.

    The first conv of a generator needs no input gradient, a frozen discriminator no weight
    gradient; the profiler records the mask (as a concrete input), else both are assumed.
    """
    concrete = getattr(event, "concrete_inputs", None) or []
    mask = concrete[10] if len(concrete) > 10 else None
    return (bool(mask[0]), bool(mask[1])) if isinstance(mask, (list, tuple)) and len(mask) >= 2 else (True, True)


def _conv_alone_seconds(op: str, shapes: list, out_sides: dict | None, seconds: float,
                        grads=(True, True)) -> float | None:
    """Seconds of one profiled conv call (a forward, or a backward computing `grads`) timed by itself.

    channels_last tensors of the recorded shapes, as the trainer uses on a CPU; the same tensors
    every call, so they stay in cache. None when the shapes do not give back the recorded output.
    """
    geometry = _conv_geometry(op, shapes, out_sides)
    if geometry is None:
        return None
    inp, weight, out_side, stride, padding, groups = geometry
    cl = torch.channels_last
    x, w = torch.rand(inp).contiguous(memory_format=cl), torch.rand(weight).contiguous(memory_format=cl)
    with torch.no_grad():
        out = F.conv2d(x, w, None, stride, padding, 1, groups)
    if tuple(out.shape[-2:]) != out_side:
        return None
    if op == "aten::mkldnn_convolution":
        def call():
            with torch.no_grad():
                F.conv2d(x, w, None, stride, padding, 1, groups)
    else:
        grad = torch.rand(out.shape).contiguous(memory_format=cl)
        mask = (bool(grads[0]), bool(grads[1]), False)

        def call():
            torch.ops.aten.convolution_backward(grad, x, w, None, stride, padding, (1, 1), False, (0, 0), groups, mask)
    return 1.0 / _throughput(call, seconds)


def _output_sides(events) -> dict:
    """(input shape without batch, weight shape) -> output side, from the conv backward rows."""
    sides = {}
    for e in events:
        if e.key == "aten::convolution_backward":
            try:
                grad_out, inp, weight = e.input_shapes[:3]
                sides[(tuple(inp[1:]), tuple(weight))] = (grad_out[2], grad_out[3])
            except (ValueError, TypeError, IndexError):
                continue
    return sides


def _describe(op: str, shapes: list) -> str:
    try:
        if op == "aten::convolution_backward":
            (_, cout, h, w), (_, cin, _, _) = shapes[0], shapes[1]
            return f"conv {cin}->{cout} @ {h}x{w} (backward)"
        if op == "aten::mkldnn_convolution":
            (_, cin, h, w), (cout, _, kh, _) = shapes[0], shapes[1]
            return f"conv {kh}x{kh} {cin}->{cout} @ {h}x{w}"
        return f"{op.removeprefix('aten::')} {'x'.join(map(str, shapes[0]))}"
    except (ValueError, TypeError, IndexError):
        return op.removeprefix("aten::")


def profile_train_step(trainer, steps: int = 3, top: int = 12, alone_seconds: float = 0.2) -> dict:
    """Where one training step's time goes: the most expensive operators by layer shape (torch.profiler).

    Each row is one operator on one tensor shape (a conv layer, its backward, a pixel
    shuffle...), with its milliseconds per step, share of the step, and for convolutions the
    GFLOP/s it ran at, to compare with the conv peak, and the GFLOP/s the same call reaches
    timed by itself (`alone`, `alone_seconds` each): a layer far below its alone rate is slowed
    by the rest of the step, not by its shape. Also returned: the step's time
    without and with the profiler, whose shape recording doubled a srgan_x4 cpu step
    (124 against 312 ms, measured): the profile says where time goes, not how long a step takes.
    """
    from torch.profiler import ProfilerActivity, profile

    trainer.train_step()
    plain = _seconds_per_step(trainer, steps)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        profiled = _seconds_per_step(trainer, steps)
    events = [e for e in prof.key_averages(group_by_input_shape=True) if e.key.startswith("aten::")]
    total = sum(e.self_cpu_time_total for e in events) / steps  # microseconds per step
    sides = _output_sides(events)
    grads = {}  # a backward row's calls, by their input shapes: which gradients each computed
    for ev in prof.events():
        if ev.name == "aten::convolution_backward":
            grads.setdefault(str(ev.input_shapes), []).append(_backward_grads(ev))
    rows = []
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:top]:
        ms = e.self_cpu_time_total / steps / 1e3
        calls = grads.get(str(e.input_shapes)) if e.key == "aten::convolution_backward" else None
        calls = calls or [(True, True)] * e.count
        flops = sum(_conv_flops(e.key, e.input_shapes, sides, g) for g in calls) / steps
        alone = None
        if flops:
            times = {g: _conv_alone_seconds(e.key, e.input_shapes, sides, alone_seconds, g) for g in set(calls)}
            if None not in times.values():
                alone = flops * steps / sum(times[g] for g in calls) / 1e9
        rows.append({"what": _describe(e.key, e.input_shapes), "calls": e.count / steps, "ms": ms,
                     "share": ms * 1e3 / total if total else 0.0, "gflop_s": flops / ms / 1e6 if flops else None,
                     "alone_gflop_s": alone})
    return {"rows": rows, "step_ms": plain * 1e3, "profiled_step_ms": profiled * 1e3}


def print_profile(name: str, prof: dict) -> None:
    print(f"\nprofile of one {name} step: operators by self time (torch.profiler), grouped by tensor shape")
    print(f"a profiled step took {prof['profiled_step_ms']:.0f} ms, an unprofiled one {prof['step_ms']:.0f} ms: the "
          f"profiler's own cost (recording every operator's shapes) is in these times, most on the short operators")
    print("alone: the GFLOP/s of the same conv call timed by itself, on tensors of its shapes that stay in cache")
    print(f"{'operator and shape':<52}{'calls':>6}{'ms/step':>9}{'share':>7}{'GFLOP/s':>9}{'alone':>8}")
    for r in prof["rows"]:
        g = f"{r['gflop_s']:>9.1f}" if r["gflop_s"] else f"{'':>9}"
        a = f"{r['alone_gflop_s']:>8.1f}" if r.get("alone_gflop_s") else ""
        print(f"{r['what'][:51]:<52}{r['calls']:>6.0f}{r['ms']:>9.1f}{r['share']:>7.1%}{g}{a}")


def bench_seed_loop(images, steps: int = 8) -> dict:
    """The seed blog's loop structure (`next(iter(train_loader))` every step) against srlib's, same model and step."""
    from .data import PairedPatchDataset
    from .train import Trainer, load_recipe

    cfg = load_recipe("srresnet_x4", "cpu", val_every=0, checkpoint_every=0, device="cpu")
    patches = PairedPatchDataset(images, cfg.scale, cfg.patch_size, length=64 * cfg.batch_size, seed=0)
    trainer = Trainer(cfg, patches=patches, progress=False)
    loader = torch.utils.data.DataLoader(patches, batch_size=cfg.batch_size, shuffle=True)

    def seed_step():
        lr, hr = next(iter(loader))  # a new iterator (and shuffle) every step, as in the seed
        trainer.opt_g.zero_grad(set_to_none=True)
        trainer.pixel(trainer.G(lr.contiguous(memory_format=torch.channels_last)), hr).backward()
        trainer.opt_g.step()

    seed_step()
    start = time.perf_counter()
    for _ in range(steps):
        seed_step()
    seed_sps = steps * cfg.batch_size / (time.perf_counter() - start)
    ours_sps = cfg.batch_size / _seconds_per_step(trainer, steps)
    return {"seed_samples_per_s": seed_sps, "srlib_samples_per_s": ours_sps}


def print_train(result: dict) -> None:
    bf16 = result.get("amp") == "bf16"
    print(f"CPU: {result['cpu']}; threads: {torch.get_num_threads()}; conv peak{' in bf16' if bf16 else ''} "
          f"{result['peak']:.1f} GFLOP/s ({result['peak_shape']}); {result['rounds']} interleaved rounds")
    print(f"training data: {result['source']}")
    print("allocator: " + ("glibc, freed memory kept for reuse (srlib.train.allocator)" if result["keeps_freed_memory"]
                           else "left as the environment sets it (srlib.train.allocator did not apply)"))
    print("best: the fastest round against the highest peak; median and spread: each round against its own peak")
    w = max([22] + [len(r["recipe"]) + 1 for r in result["rows"]])
    print("convs alone: the median share of the peak the step would reach if its convs ran as fast as each does "
          "alone (forward + backward) and nothing else took time; of that: the step against this ceiling")
    print(f"{'recipe':<{w}}{'samples/s':>11}{'GFLOP/s':>10}{'best':>7}{'median':>8}{'spread':>12}"
          f"{'convs alone':>13}{'of that':>9}")
    for r in result["rows"]:
        spread = f"{r['min_of_peak']:.0%}-{r['max_of_peak']:.0%}"
        print(f"{r['recipe']:<{w}}{r['samples_per_s']:>11.1f}{r['gflop_s']:>10.1f}{r['of_peak']:>7.0%}"
              f"{r['median_of_peak']:>8.0%}{spread:>12}{r['convs_alone_of_peak']:>13.0%}{r['of_convs_alone']:>9.0%}")
    s = result["seed_loop"]
    print(f"seed's loop (next(iter(loader)) each step): {s['seed_samples_per_s']:.1f} samples/s; "
          f"srlib's in-memory batches: {s['srlib_samples_per_s']:.1f} samples/s (srresnet_x4 cpu, fp32)")
    if result.get("bf16_supported") and not bf16:
        print("this CPU has native bf16: --amp bf16 times the recipes under bfloat16 autocast (the model card's "
              "lr32x6-1500-bf16 row: what it does to the scores)")
    for name, prof in result.get("profiles", {}).items():
        print_profile(name, prof)


def bench_evaluate(model: str = "srresnet_x4-cpu", datasets=("Set5", "Set14", "BSD100"), scale: int = 4,
                   metrics=("psnr", "ssim", "niqe", "swd")) -> dict:
    """Seconds that `evaluate` spends on each part for one model: loading, inference, each measure, NIQE of HR.

    The parts are timed one after another over all sets, so each figure is that
    measure's own cost (evaluate itself interleaves them image by image).
    """
    from tqdm.auto import tqdm

    from .data import to_uint8
    from .evaluate import PER_SET, load_model, load_sets, parse_metrics, score_image, score_set

    metrics, notes, times = parse_metrics(metrics), [], {}
    start = time.perf_counter()
    sets = load_sets(datasets, scale, notes=notes)
    upscale, about = load_model(model, scale)
    times["loading images and model"] = time.perf_counter() - start
    pairs = [(i, p) for i, b in enumerate(sets) for p in b.pairs]
    part = f"inference ({model})"
    start = time.perf_counter()
    outputs = [to_uint8(upscale(p.lr, scale)) for _, p in tqdm(pairs, desc=part, leave=False)]
    times[part] = time.perf_counter() - start
    for m in metrics:
        start = time.perf_counter()
        if m in PER_SET:
            for i, b in enumerate(tqdm(sets, desc=m, leave=False)):
                score_set(m, [o for o, (j, _) in zip(outputs, pairs) if j == i], [p.hr for p in b.pairs])
        else:
            for o, (_, p) in zip(tqdm(outputs, desc=m, leave=False), pairs):
                score_image(m, o, p.hr, scale)
        times[m] = time.perf_counter() - start
    if "niqe" in metrics:
        start = time.perf_counter()
        for _, p in tqdm(pairs, desc="niqe of HR", leave=False):
            score_image("niqe", p.hr, None, scale)
        times["niqe of HR (reference row)"] = time.perf_counter() - start
    return {"model": f"{model}: {about}", "notes": notes, "images": len(pairs), "times": times,
            "threads": torch.get_num_threads()}


def print_evaluate(result: dict) -> None:
    print(f"model {result['model']}")
    print("\n".join(result["notes"]))
    print(f"{result['images']} images; CPU threads: {result['threads']}")
    print(f"{'part':<34}{'seconds':>9}{'ms/image':>10}")
    for part, seconds in result["times"].items():
        print(f"{part:<34}{seconds:>9.1f}{1000 * seconds / result['images']:>10.0f}")
    print(f"{'total':<34}{sum(result['times'].values()):>9.1f}")


def bench_degrade(batch: int = 16, patch: int = 96, scale: int = 4, rounds: int = 5,
                  generator: str = "rrdbnet-cpu", discriminator: str = "patch-sn-cpu") -> dict:
    """ms per batch of on-the-fly Real-ESRGAN / BSRGAN degradation against one G + D training step.

    The degradation is RealWorldPatchDataset.batch (crop, augment, degrade; with and without USM
    targets); the step is a forward + backward of the generator on the LR batch and of the
    discriminator on the SR and HR batches. Median of `rounds` interleaved rounds.
    """

    from .data import load_training_images
    from .data.realworld_patches import RealWorldPatchDataset
    from .models import build_discriminator

    images, source = load_training_images(limit=40)
    sets = {"realesrgan": RealWorldPatchDataset(images, scale, patch, length=2**40, seed=0),
            "realesrgan + USM target": RealWorldPatchDataset(images, scale, patch, length=2**40, seed=0, usm_target=True),
            "bsrgan": RealWorldPatchDataset(images, scale, patch, length=2**40, seed=0, order="bsrgan")}
    torch.manual_seed(0)
    G, D = build_generator(generator, scale), build_discriminator(discriminator, patch)
    lr, hr = sets["realesrgan"].batch(range(batch))

    def step():
        G.zero_grad(set_to_none=True)
        D.zero_grad(set_to_none=True)
        (D(G(lr)).mean() + D(hr).mean()).backward()

    step()
    times = {name: [] for name in sets} | {"training step (G + D fwd+bwd)": []}
    for r in range(rounds):
        for name, ds in sets.items():
            start = time.perf_counter()
            ds.batch(range((r + 1) * batch, (r + 2) * batch))
            times[name].append(time.perf_counter() - start)
        start = time.perf_counter()
        step()
        times["training step (G + D fwd+bwd)"].append(time.perf_counter() - start)
    return {"ms": {k: 1000 * statistics.median(v) for k, v in times.items()}, "source": source, "batch": batch,
            "patch": patch, "scale": scale, "rounds": rounds, "threads": torch.get_num_threads(),
            "models": f"{generator} + {discriminator}"}


def print_degrade(result: dict) -> None:
    r = result
    print(f"batch {r['batch']} of {r['patch']}x{r['patch']} HR -> {r['patch'] // r['scale']}px LR; CPU threads: {r['threads']}; "
          f"median of {r['rounds']} interleaved rounds; models {r['models']}")
    print(f"training data: {r['source']}")
    step = r["ms"]["training step (G + D fwd+bwd)"]
    print(f"{'':<32}{'ms/batch':>10}{'of a step':>11}")
    for name, ms in r["ms"].items():
        print(f"{name:<32}{ms:>10.1f}{ms / step:>11.1%}")


def realesrganer_upscale(model, img: "np.ndarray", scale: int, tile: int, tile_pad: int = 10,
                         pre_pad: int = 10, as_uint8: bool = True):
    """The baseline: Real-ESRGAN's `RealESRGANer.enhance` + `tile_process` loop for an RGB uint8 image, re-implemented.

    As in realesrgan/utils.py: float32 copy / 255, NCHW tensor, `pre_pad` reflect
    padding (bottom/right), a float32 zero output, then one tile at a time
    (cores of `tile` px from the top-left, `tile_pad` px of context, no
    batching, `torch.no_grad`), then crop, clamp, the channel reorder (their
    BGR -> RGB copy; an identity order here, the input is RGB), *255, round,
    uint8. Their per-tile print is left out. as_uint8=False: the float output.
    """
    import math

    import numpy as np
    import torch.nn.functional as F

    t = torch.from_numpy(np.transpose(img.astype(np.float32) / 255.0, (2, 0, 1))).float().unsqueeze(0)
    if pre_pad:
        t = F.pad(t, (0, pre_pad, 0, pre_pad), "reflect")
    _, _, height, width = t.shape
    output = t.new_zeros((1, 3, height * scale, width * scale))
    for y in range(math.ceil(height / tile)):
        for x in range(math.ceil(width / tile)):
            x0, y0 = x * tile, y * tile
            x1, y1 = min(x0 + tile, width), min(y0 + tile, height)
            px0, py0 = max(x0 - tile_pad, 0), max(y0 - tile_pad, 0)
            px1, py1 = min(x1 + tile_pad, width), min(y1 + tile_pad, height)
            with torch.no_grad():
                out_tile = model(t[:, :, py0:py1, px0:px1])
            oy, ox = (y0 - py0) * scale, (x0 - px0) * scale
            output[:, :, y0 * scale:y1 * scale, x0 * scale:x1 * scale] = \
                out_tile[:, :, oy:oy + (y1 - y0) * scale, ox:ox + (x1 - x0) * scale]
    _, _, h, w = output.shape
    output = output[:, :, 0:h - pre_pad * scale, 0:w - pre_pad * scale]
    if not as_uint8:
        return output
    out = output.data.squeeze().float().cpu().clamp_(0, 1).numpy()
    out = np.transpose(out[[0, 1, 2], :, :], (1, 2, 0))
    return (out * 255.0).round().astype(np.uint8)


def srlib_upscale(model, img: "np.ndarray", scale: int, tile: int, batch: int):
    """srlib.infer on an RGB uint8 image, written straight into a uint8 (H*s, W*s, 3) array."""
    import numpy as np

    from .infer import upscale_tensor

    h, w, _ = img.shape
    res = np.empty((h * scale, w * scale, 3), np.uint8)
    upscale_tensor(model, torch.from_numpy(img).permute(2, 0, 1)[None], scale=scale, tile=tile, batch=batch,
                   out=torch.from_numpy(res).permute(2, 0, 1)[None], progress=False)
    return res


def _bench_model(name: str):
    """A course model by name, or `PRESET@random` (a preset with seed-0 random weights); eval mode."""
    from .models import build_generator, load_course_model

    if name.endswith("@random"):
        torch.manual_seed(0)
        return build_generator(name[:-len("@random")], 4).eval()
    return load_course_model(name)[0].eval()


def _bench_image(w: int, h: int, seed: int = 0):
    """A smooth-plus-noise uint8 RGB test image (the content does not change the speed of a conv net)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.5 + 0.25 * np.sin(xx / 37.0)[..., None] * np.cos(yy / 23.0)[..., None] * np.array([1, 0.6, -0.8])
    return np.clip((base + 0.1 * rng.standard_normal((h, w, 3))) * 255, 0, 255).astype(np.uint8)


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise OSError(field)


def upscale_worker(spec: dict) -> dict:
    """One configuration, run in a fresh process: seconds and peak RSS above the loaded baseline.

    The baseline is the RSS after the model and the input image are loaded,
    one tile has warmed up the kernels and the peak counter (VmHWM) has been
    reset (/proc/self/clear_refs), so the figure is what the upscale itself adds:
    output buffers, tiles, activations and temporaries.
    """
    import gc
    import os

    model = _bench_model(spec["model"])
    img = _bench_image(*spec["size"])
    with torch.inference_mode():
        model(torch.rand(1, 3, 32, 32))
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    base = _rss_mb("VmRSS")  # read after the reset: the peak counter starts at or above it
    start = time.perf_counter()
    if spec["method"] == "baseline":
        out = realesrganer_upscale(model, img, 4, spec["tile"], spec.get("tile_pad", 10))
    else:
        out = srlib_upscale(model, img, 4, spec["tile"], spec["batch"])
    seconds = time.perf_counter() - start
    peak = _rss_mb("VmHWM")
    return {"seconds": seconds, "peak_mb": peak - base if reset else None, "base_mb": base,
            "out_mb": out.nbytes / 2**20, "out_mp": out.shape[0] * out.shape[1] / 1e6,
            "threads": torch.get_num_threads(), "pid": os.getpid()}


def _run_worker(spec: dict) -> dict:
    import json
    import subprocess
    import sys

    code = ("import json, sys; from srlib.bench import upscale_worker; "
            "print(json.dumps(upscale_worker(json.loads(sys.argv[1]))))")
    res = subprocess.run([sys.executable, "-c", code, json.dumps(spec)], capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(f"bench worker {spec} failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _seam_errors(model_name: str, tile: int, side: int, batch: int) -> dict:
    """max |tiled - whole-image output| (float, before 8-bit rounding) on a side x side crop, for both loops."""
    from .infer import receptive_radius, upscale_tensor

    model = _bench_model(model_name)
    img = _bench_image(side, side, seed=1)
    lr = torch.from_numpy(img).permute(2, 0, 1)[None]
    whole = upscale_tensor(model, lr, scale=4, tile=None, progress=False)
    ours = upscale_tensor(model, lr, scale=4, tile=tile, batch=batch, progress=False)
    base = realesrganer_upscale(model, img, 4, tile, as_uint8=False)
    whole_padded = realesrganer_upscale(model, img, 4, 10**6, as_uint8=False)  # their pre_pad, no tiling
    return {"radius": receptive_radius(model, 4), "ours": float((ours - whole).abs().max()),
            "baseline": float((base - whole_padded).abs().max()),
            "baseline_vs_whole": float((base - whole).abs().max())}


def bench_upscale(model: str = "srresnet_x4-cpu", size=(2000, 1500), tiles=(256,), rounds: int = 1,
                  batch: int | None = None, scaling_model: str = "srresnet-tiny@random",
                  scaling_sizes=((1000, 750), (4000, 3000)), scaling_tile: int = 128) -> dict:
    """Output megapixels/s and peak RSS of srlib.infer against a RealESRGANer-style loop, same model, same run.

    Every configuration runs in a fresh process (a clean peak-RSS counter), the
    two loops alternate tile by tile within each round, and the median over
    rounds is kept. batch None: 4 tiles per forward below 256 px, else 1 (on a
    CPU batching adds little speed and multiplies the activations' memory).
    """
    import sys

    start = time.perf_counter()
    rows = []
    for r in range(rounds):
        for tile in tiles:
            b = batch or (4 if tile < 256 else 1)
            for method in ("baseline", "srlib"):
                spec = {"model": model, "size": list(size), "tile": tile, "method": method, "batch": b}
                rows.append({**spec, "round": r, **_run_worker(spec)})
                print(f"  round {r + 1}/{rounds}, {method} loop, tile {tile}: {rows[-1]['seconds']:.1f} s",
                      file=sys.stderr, flush=True)
    scaling = [{"size": s, **_run_worker({"model": scaling_model, "size": list(s), "tile": scaling_tile,
                                          "method": "srlib", "batch": batch or 4})} for s in scaling_sizes]
    seams = _seam_errors(model, min(tiles), min(3 * min(tiles) - 7, 400), batch or 4)
    return {"model": model, "size": size, "rows": rows, "rounds": rounds, "scaling": scaling,
            "seconds": time.perf_counter() - start,
            "scaling_model": scaling_model, "scaling_tile": scaling_tile, "seams": seams, "seam_tile": min(tiles)}


LOOPS = {"baseline": "RealESRGANer-style (tile_pad 10)", "srlib": "srlib.infer (overlap = radius)"}


def print_upscale(res: dict) -> None:

    w, h = res["size"]
    rows = res["rows"]
    print(f"model {res['model']}; LR input {w}x{h} uint8 -> x4 uint8 output; CPU threads: {rows[0]['threads']}; "
          f"median of {res['rounds']} interleaved round(s), each configuration in a fresh process")
    print("peak = peak RSS above the baseline (model and input loaded, kernels warm): "
          "output buffer + tiles + temporaries")
    print(f"{'loop':<34}{'tile':>6}{'batch':>6}{'seconds':>9}{'MP/s':>7}{'peak MB':>9}{'speed-up':>10}{'memory':>8}")
    summary = {}
    for tile in dict.fromkeys(r["tile"] for r in rows):
        for method in ("baseline", "srlib"):
            sel = [r for r in rows if r["tile"] == tile and r["method"] == method]
            sec = statistics.median(r["seconds"] for r in sel)
            peak = statistics.median(r["peak_mb"] for r in sel) if sel[0]["peak_mb"] is not None else float("nan")
            summary[tile, method] = (sec, peak, sel[0]["out_mp"], sel[0]["batch"] if method == "srlib" else 1)
        bsec, bpeak, _, _ = summary[tile, "baseline"]
        for method, label in LOOPS.items():
            sec, peak, mp, b = summary[tile, method]
            extra = f"{bsec / sec:>9.2f}x{peak / bpeak:>8.2f}" if method == "srlib" else ""
            print(f"{label:<34}{tile:>6}{b:>6}{sec:>9.1f}{mp / sec:>7.2f}{peak:>9.0f}{extra}")
    s = res["seams"]
    print(f"seams (crop, tile {res['seam_tile']}; receptive radius {s['radius']} LR px): max |tiled - whole-image| "
          f"srlib {s['ours']:.1e}, RealESRGANer-style {s['baseline']:.1e} ({255 * s['baseline']:.3f} of one 8-bit "
          "level; against its own untiled output with the same pre_pad)")
    print(f"peak memory against image size ({res['scaling_model']}, srlib, tile {res['scaling_tile']}):")
    for r in res["scaling"]:
        print(f"  LR {r['size'][0]}x{r['size'][1]}: peak {r['peak_mb']:.0f} MB = uint8 output {r['out_mb']:.0f} MB "
              f"+ {r['peak_mb'] - r['out_mb']:.0f} MB tiles and activations ({r['seconds']:.1f} s)")
    print(f"bench time {res['seconds']:.0f} s; more tile sizes: --tiles 128,256,512 (each adds a run of both loops)")
