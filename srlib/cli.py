"""The course's command line: `python -m srlib COMMAND`.

Every user mistake ends in one line, `error: ...`, that says what to do; the
exit status is 2. Other exceptions are real bugs and keep their traceback.
"""
from __future__ import annotations

import argparse
import math
import sys

from .errors import Interrupted, SrlibError


def cmd_info(args) -> None:
    from .data import DATASETS, data_root, is_available

    root = data_root()
    print(f"data root: {root}  (set SRLIB_DATA_DIR to change it)")
    problems = []
    for name, spec in DATASETS.items():
        try:
            state = "found" if is_available(name) else "missing"
        except SrlibError as e:  # e.g. a folder without read permission: report it, list the others
            state, problems = "unreadable", problems + [str(e)]
        get = f"  (python -m srlib download {name})" if state == "missing" else ""
        print(f"  {name:<8} {state:<10} {spec.about}{get}")
    for p in problems:
        print(f"  note: {p}")


def cmd_download(args) -> None:
    from .data import get_spec
    from .data.download import download

    names = list(dict.fromkeys(get_spec(n).name for n in args.names))  # every name checked before any download
    for name in names:
        files = download(name, force=args.force)
        print(f"{name}: {len(files)} files ready")


def cmd_evaluate(args) -> None:
    from .evaluate import check_new_path, evaluate_models, load_lr_folder
    from .models.weights import atomic_write_text

    outputs = {fmt: check_new_path(path, args.overwrite) for fmt, path in (("csv", args.csv), ("json", args.json)) if path}
    if len(set(outputs.values())) < len(outputs):
        raise SrlibError("--csv and --json name the same file: give each its own.")
    datasets = list(args.dataset or ([] if args.lr_folder else ["Set5"]))
    datasets += [load_lr_folder(d, args.scale) for d in args.lr_folder or []]
    table = evaluate_models(args.models or ["bicubic"], datasets, args.metrics, args.scale, fallback=not args.strict,
                            save_images=args.save_images, overwrite=args.overwrite, y_channel=not args.rgb,
                            round_y=not args.no_round, degrade=args.degrade, degrade_seed=args.degrade_seed)
    print("\n".join([*table.notes, f"x{args.scale}; " + table.conventions[0], *table.conventions[1:]]))
    if args.per_image:
        print(table.format(per_image=True) + "\n")
    print(table.format())
    for fmt, path in outputs.items():
        check_new_path(path, args.overwrite)  # a file that appeared during the run is not replaced either
        atomic_write_text(table.to_csv() if fmt == "csv" else table.to_json(), path)
        print(f"{fmt}: {path}")
    if args.save_images:
        print(f"SR images: {args.save_images}/MODEL/SET/IMAGE.png")


def cmd_train(args) -> None:
    import torch

    from .bench import bf16_supported
    from .models import checkpoint_dir
    from .train import Trainer, load_recipe

    if args.steps is not None and args.steps < 1:
        raise SrlibError(f"--steps {args.steps}: give the number of training steps, at least 1.")
    if args.resume:
        trainer = _resume(args)
        cfg = trainer.cfg
        print(f"resuming {cfg.name} at step {trainer.step} of {cfg.steps} from {args.resume} on {trainer.device}"
              + (f" ({trainer.resume_note})" if trainer.resume_note else ""))
    else:
        cfg = load_recipe(args.recipe, args.size or "cpu", steps=args.steps, seed=args.seed, device=args.device,
                          amp=args.amp)
        changed = [f"{k}{v}" for k, v in (("steps", args.steps), ("seed", args.seed)) if v is not None]
        out = args.out or checkpoint_dir() / "-".join([cfg.name, *changed])  # a changed recipe is not the course model
        trainer = Trainer(cfg, out, existing="backup" if args.overwrite else "refuse")
        if trainer.backup_dir:
            print(f"the earlier run in {out} was moved to {trainer.backup_dir}")
        print(f"training {cfg.name} ({cfg.generator}{' + ' + cfg.discriminator if cfg.discriminator else ''}) "
              f"for {cfg.steps} steps on {trainer.device}; data: {getattr(trainer, 'data_source', 'given')}; output: {out}")
        if trainer.init_source:
            print(f"starting from {trainer.init_source}")
        if trainer.amp_dtype == torch.bfloat16 and trainer.device.type == "cpu" and not bf16_supported():
            print("note: this CPU has no native bf16 (AMX or AVX512-BF16): bf16 autocast runs emulated, slower than "
                  "fp32; leave out --amp bf16")
    history = trainer.fit(args.steps if args.resume and args.steps else None)
    last = [r for r in history if "val_psnr" in r]
    if last:
        print(f"step {last[-1]['step'] + 1}: {cfg.val_dataset} PSNR {last[-1]['val_psnr']:.2f} dB, SSIM {last[-1]['val_ssim']:.4f}")
    if trainer.out_dir:
        done = (f"generator weights: {trainer.out_dir / 'generator.pt'}" if trainer.finished else
                f"stopped at step {trainer.step} of {cfg.steps}; go on with --resume")
        print(f"checkpoint: {trainer.out_dir / 'last.pt'}; {done}")


RESUME_KEEPS = ("seed", "size", "overwrite", "amp")  # a resume goes on with the run's own settings


def _resume(args):
    """The Trainer of `train --resume`: --device, --steps (stop earlier) and --out may change, nothing else."""
    from .train import Trainer, load_checkpoint, load_recipe, run_size

    refused = [f"--{k}" for k in RESUME_KEEPS if getattr(args, k) not in (None, False)]
    if refused:
        raise SrlibError(f"--resume goes on with the run's own settings, so {', '.join(refused)} cannot be given with "
                         f"it (a resume accepts --device, --steps and --out); for other settings start a new run.")
    state = load_checkpoint(args.resume)
    if args.recipe:  # both given: the checkpoint must be one of this recipe's
        want = load_recipe(args.recipe, run_size(str(state["config"].get("name", "")), args.recipe) or "cpu")
        load_checkpoint(args.resume, {"generator": want.generator, "discriminator": want.discriminator,
                                      "scale": want.scale})
    total, step = state["config"].get("steps"), state.get("step")
    if args.steps is not None and isinstance(total, int) and isinstance(step, int) and not step < args.steps <= total:
        raise SrlibError(f"--steps {args.steps} with --resume is where to stop: after the checkpoint's step {step} and "
                         f"at most the run's {total}; to train longer, start a new run with --steps.")
    return Trainer.resume(args.resume, args.out, device=args.device, existing="refuse")


def cmd_course(args) -> None:
    from .course import run_course

    if not run_course(smoke=args.smoke, only=args.only):
        raise SystemExit(1)


def cmd_site(args) -> None:
    from .site import site_from_folder

    print(site_from_folder(args.source, args.out).summary())


def cmd_upscale(args) -> None:
    from .upscale import upscale_paths

    if args.scale is not None and args.scale < 1:
        raise SrlibError(f"--scale {args.scale}: give the model's scale, a whole number >= 1 (course models: 4).")
    if args.tile is not None and args.tile < 0:
        raise SrlibError(f"--tile {args.tile}: give a tile side in LR pixels (e.g. 256), or 0 for the whole image.")
    failures = upscale_paths(args.inputs, args.out, args.model, args.scale, args.tile or None, args.overwrite)
    for src, why in failures:
        print(f"error: {src}: {why}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} image{'s' if len(failures) > 1 else ''} failed (listed above); the others were "
              "written.", file=sys.stderr)
        raise SystemExit(1)


def _check_bench_numbers(args) -> None:
    """Counts and sizes of `bench` that are zero or negative: one line saying what to give, not a traceback."""
    counts = {"--steps": args.steps, "--rounds": args.rounds, "--batch": args.batch, "--scale": args.scale,
              "--upscale-rounds": args.upscale_rounds}
    sides = args.size if isinstance(args.size, tuple) else (args.size,)
    for flag, value in counts.items():
        if value < 1:
            raise SrlibError(f"{flag} {value}: give a whole number >= 1.")
    if min(sides) < 1:
        raise SrlibError(f"--size {'x'.join(map(str, sides))}: give a side >= 1 (bench upscale: WxH, both >= 1).")
    if not math.isfinite(args.seconds) or args.seconds <= 0:
        raise SrlibError(f"--seconds {args.seconds}: give the time per measurement in seconds, more than 0.")


def cmd_bench(args) -> None:
    from . import bench

    _check_bench_numbers(args)
    if args.compile and (args.what != "train" or args.profile or args.amp != "off"):
        raise SrlibError("--compile is for bench train alone, in fp32 without the profiler: leave out --profile and "
                         "--amp with it (bench models has its compiled columns by default).")
    if args.what == "train":
        recipes = args.recipe or bench.TRAIN_RECIPES
        if args.compile:
            bench.print_train_compile(bench.bench_train_compile(recipes, steps=args.steps, rounds=args.rounds))
        else:
            bench.print_train(bench.bench_train(recipes, steps=args.steps, seconds=args.seconds, rounds=args.rounds,
                                                 profile=args.profile, amp=args.amp))
    if args.what == "models":
        rows = bench.bench_models(args.scale, args.size, args.batch, args.seconds, args.preset,
                                  compile_=not args.no_compile, rounds=args.rounds)
        bench.print_models(rows, args.scale, args.size, args.batch)
    if args.what == "evaluate":
        bench.print_evaluate(bench.bench_evaluate(args.model, args.dataset or ("Set5", "Set14", "BSD100"), args.scale))
    if args.what == "degrade":
        bench.print_degrade(bench.bench_degrade(scale=args.scale, rounds=args.rounds))
    if args.what == "upscale":
        size = args.size if isinstance(args.size, tuple) else (2000, 1500)
        tiles = tuple(_positive_ints(args.tiles, "--tiles"))
        bench.print_upscale(bench.bench_upscale(args.model, size, tiles, rounds=args.upscale_rounds))


def _positive_ints(text: str, flag: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise SrlibError(f"{flag} {text!r}: give whole numbers >= 1 separated by commas, e.g. 128,256.")
    return values


def _bench_size(text: str):
    """--size: N (bench models: the LR side) or WxH (bench upscale: the LR image)."""
    if "x" not in text:
        return int(text)
    w, h = text.split("x", 1)
    return int(w), int(h)


EVALUATE_EPILOG = """\
--dataset DIR, a folder (a data set name wins: write ./Set5 for a folder of that name):
  DIR/HR/ and DIR/LR/  pairs matched by file name; each HR must be its LR x scale
                       (after cropping HR to a multiple of the scale)
  DIR/HR/ or DIR/      HR images; the LR is made as for the course's sets: crop to
                       a multiple of the scale, then MATLAB bicubic (imresize)
--lr-folder DIR        LR images alone: no ground truth, so NIQE only
conventions (the literature's): every output is rounded to 8 bits; PSNR/SSIM on the
Y channel of MATLAB rgb2ycbcr with a border of SCALE px cropped; NIQE on Y with a
border of SCALE px (BasicSR's crop_border = scale), and a row "HR (reference)" gives
the NIQE of the ground truth itself; SWD compares the SR and HR patch distributions
of a whole set (one number per set). Lower is better for NIQE, SWD and LPIPS.
LPIPS needs the lpips package and its weights; without them the other measures are
computed and a line says what to install.
example: python -m srlib evaluate --model srresnet_x4-cpu --model bicubic \\
           --dataset Set5 --dataset Set14 --metrics psnr,ssim,niqe,swd
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m srlib", description="GAN super-resolution course tools.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("info", help="show the data root and which data sets are present")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("download", help="download data sets (checksummed) into the data root")
    s.add_argument("names", nargs="+", metavar="NAME", help="Set5, Set14, BSD100, Urban100, T91, BSDS200")
    s.add_argument("--force", action="store_true", help="fetch again even when present")
    s.set_defaults(func=cmd_download)

    s = sub.add_parser("evaluate", help="score models on test sets (PSNR, SSIM, NIQE, SWD, ...) as the papers do",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EVALUATE_EPILOG)
    s.add_argument("--model", "--method", dest="models", action="append", metavar="MODEL",
                   help="bicubic (the default), a course model (srresnet_x4-cpu, ...), the path of a generator.pt, "
                        "course .pt or training last.pt (EMA weights when it has them), or a run's folder; repeatable")
    s.add_argument("--dataset", action="append", metavar="SET",
                   help="a data set name (Set5, the default; Set14, BSD100, Urban100) or a folder (see below); repeatable")
    s.add_argument("--lr-folder", action="append", metavar="DIR",
                   help="a folder of LR images without ground truth: outputs scored by NIQE only; repeatable")
    s.add_argument("--scale", type=int, default=4)
    s.add_argument("--metrics", default="psnr,ssim", help="comma-separated, of psnr,ssim,niqe,swd,hf,lpips "
                                                          "(default psnr,ssim)")
    s.add_argument("--per-image", action="store_true", help="print the per-image table too")
    s.add_argument("--csv", metavar="PATH", help="save the table (one row per model and set)")
    s.add_argument("--json", metavar="PATH", help="save the table, the per-image rows, conventions and sources")
    s.add_argument("--save-images", metavar="DIR", help="keep the outputs as DIR/MODEL/SET/IMAGE.png (a new or empty "
                                                         "folder)")
    s.add_argument("--overwrite", action="store_true",
                   help="replace an existing --csv/--json file; write into a non-empty --save-images folder")
    s.add_argument("--rgb", action="store_true", help="PSNR/SSIM on RGB instead of the Y channel")
    s.add_argument("--no-round", action="store_true", help="do not round Y to integers (BasicSR's convention)")
    s.add_argument("--strict", action="store_true", help="fail instead of using the embedded samples for a missing set")
    s.add_argument("--degrade", choices=["realesrgan", "bsrgan"],
                   help="score on real-world damage: each LR is a seeded draw of this degradation of its HR image")
    s.add_argument("--degrade-seed", type=int, default=0, metavar="N", help="the draw's seed (default 0)")
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("train", help="train a recipe (srresnet_x4, srgan_x4, esrgan_x4, ...)")
    s.add_argument("recipe", nargs="?", help="recipe name or path to a .toml file")
    s.add_argument("--size", default=None, help="cpu (minutes on a laptop; the default), course (srresnet_x4: hours, "
                                                "in sittings with --resume) or paper")
    s.add_argument("--steps", type=int, help="override the number of steps (the output folder then says so); "
                                              "with --resume: stop at this step")
    s.add_argument("--resume", metavar="PATH",
                   help="continue from a checkpoint (last.pt); accepts --device, --steps, --out")
    s.add_argument("--overwrite", action="store_true",
                   help="start again in a folder that holds a run (the old run is moved to a dated backup folder)")
    s.add_argument("--out", metavar="DIR", help="output folder (default: data/checkpoints/RECIPE-SIZE)")
    s.add_argument("--seed", type=int)
    s.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:N, mps")
    s.add_argument("--amp", default=None, choices=["auto", "off", "bf16", "fp16"],
                   help="mixed precision: auto (the default: bf16/fp16 on a GPU, off on a CPU); bf16 on a CPU with "
                        "AMX trains about 2.2x faster, with AVX512-BF16 alone about 1.5x (model card: lr32x6-1500-bf16)")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("course", help="execute every notebook (papermill) into build/")
    s.add_argument("--smoke", action="store_true", help="smoke mode: tiny data, a few steps")
    s.add_argument("--only", nargs="*", help="notebook numbers or names to run, e.g. 00 01")
    s.set_defaults(func=cmd_course)

    s = sub.add_parser("site", help="the executed notebooks as an offline website (build/site/index.html)")
    s.add_argument("--from", dest="source", metavar="DIR",
                   help="executed notebooks (default: build/executed, written by `python -m srlib course`)")
    s.add_argument("-o", "--out", metavar="DIR", help="the site's folder, replaced whole (default: build/site)")
    s.set_defaults(func=cmd_site)

    s = sub.add_parser("upscale", help="upscale your own images or folders (PNG, JPEG, WebP, TIFF; alpha, grey, "
                                       "16-bit, ICC and EXIF kept)")
    s.add_argument("inputs", nargs="+", metavar="IN", help="image files, or folders (their PNG/JPEG/WebP/TIFF files; not subfolders)")
    s.add_argument("-o", "--out", metavar="OUT", help="output folder (default: next to each input), or the output "
                                                      "file for one input; outputs are named STEM_xSCALE.EXT")
    s.add_argument("--model", metavar="NAME|PATH",
                   help="a course model (default: realesrgan_x4-cpu when present, else esrgan_x4-cpu), bicubic, a "
                        "generator.pt / last.pt or a run's folder, or an official RRDB_ESRGAN_x4.pth / "
                        "RealESRGAN_x4plus.pth you downloaded")
    s.add_argument("--scale", type=int, default=4, help="the model's scale (default 4)")
    s.add_argument("--tile", type=int, default=256, help="tile side in LR pixels: memory grows with it, not with the "
                                                         "image (default 256; 0 = the whole image at once)")
    s.add_argument("--overwrite", action="store_true", help="replace existing outputs (an input is never replaced)")
    s.set_defaults(func=cmd_upscale)

    s = sub.add_parser("bench", help="benchmarks that print figures (models, train, evaluate, degrade, upscale)")
    s.add_argument("what", choices=["models", "train", "evaluate", "degrade", "upscale"])
    s.add_argument("--steps", type=int, default=8, help="timed training steps per recipe (bench train)")
    s.add_argument("--scale", type=int, default=4)
    s.add_argument("--size", type=_bench_size, default=32, help="LR input side; bench upscale: WxH (default 2000x1500)")
    s.add_argument("--batch", type=int, default=2)
    s.add_argument("--preset", nargs="*", help="only these presets (default: all)")
    s.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    s.add_argument("--recipe", nargs="*", help="bench train: only these recipes, NAME or NAME:SIZE (default: srresnet_x4 "
                                                      "srresnet_x4:course srgan_x4 esrgan_x4)")
    s.add_argument("--rounds", type=int, default=3, help="bench train / models / degrade: interleaved rounds")
    s.add_argument("--no-compile", action="store_true", help="bench models: skip the torch.compile columns")
    s.add_argument("--compile", action="store_true", help="bench train: torch.compile against eager (the recipe "
                                                          "setting compile = true): speed-up and compile time")
    s.add_argument("--profile", action="store_true", help="bench train: add the per-layer time of one training step")
    s.add_argument("--amp", default="off", choices=["off", "bf16"],
                   help="bench train: bf16 trains under bfloat16 autocast, against the bf16 conv peak (CPUs with "
                        "native bf16 only)")
    s.add_argument("--model", default="srresnet_x4-cpu", help="bench evaluate / upscale: the model timed (as evaluate's --model; "
                                                          "bench upscale also takes PRESET@random)")
    s.add_argument("--dataset", nargs="*", help="bench evaluate: these sets (default: Set5 Set14 BSD100)")
    s.add_argument("--tiles", default="256", help="bench upscale: tile sizes in LR px, e.g. 128,256 (default 256)")
    s.add_argument("--upscale-rounds", type=int, default=1, help="bench upscale: interleaved rounds, median kept")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train" and not (args.recipe or args.resume):
        parser.error("train needs a RECIPE or --resume PATH")
    try:
        args.func(args)
    except Interrupted as e:  # Ctrl-C at a safe point: what was kept and how to go on
        print(f"interrupted: {e}", file=sys.stderr)
        return 130
    except SrlibError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: stopped at once; files already saved (a run's last checkpoint) are kept", file=sys.stderr)
        return 130
    return 0
