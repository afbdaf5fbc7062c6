"""DistributedDataParallel: 2 gloo processes on the CPU hold identical weights, equal to one process with the same global batch.

GAN training too: D's step, the G step through a frozen D, feature matching, n_critic > 1 and
WGAN-GP's double backward. Terms that average over the batch inside a process (batch norm
statistics, the relativistic average, the gradient penalty's random mixing) are per-process
under DDP, so only a BN-free D with a per-sample loss matches one process exactly.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

SCRIPT = r'''
import os, sys
import numpy as np, torch
torch.set_num_threads(1)
from srlib.data import PairedPatchDataset
from srlib.train import TrainConfig, Trainer
rng = np.random.default_rng(0)
images = [rng.random((48, 56, 3), dtype=np.float32) for _ in range(3)]
patches = PairedPatchDataset(images, 4, 32, length=10**9, seed=0)
cfg = TrainConfig(generator=sys.argv[2], steps=5, batch_size=4, patch_size=32, val_every=0, checkpoint_every=0,
                  lr_g=1e-3, ema_decay=0.9)
t = Trainer(cfg, patches=patches, progress=False)
t.fit()
rank = int(os.environ.get("RANK", 0))
state = {k: v.clone() for k, v in t.G.state_dict().items()}
state["local_batch"] = torch.tensor(t._next_batch()[0].shape[0])
torch.save(state, os.path.join(sys.argv[1], f"rank{rank}.pt"))
if torch.distributed.is_initialized():
    torch.distributed.destroy_process_group()
sys.stdout.flush(); sys.stderr.flush()
os._exit(0)  # gloo's threads can abort C++ teardown at interpreter exit (seen once in CI): the results are saved
'''


# srresnet-cpu: the PSNR recipe's network, whose LR-space image skip holds a fixed kernel buffer
# (in channels_last form it once made DDP's buffer broadcast fail at the first step)
@pytest.mark.parametrize("generator", ["srresnet-tiny", "srresnet-cpu"])
def test_two_gloo_processes_match_single_process(tmp_path, generator):
    script = tmp_path / "train_tiny.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    single = tmp_path / "single"
    single.mkdir()
    subprocess.run([sys.executable, str(script), str(single), generator], check=True, env=env, timeout=300)
    multi = tmp_path / "ddp"
    multi.mkdir()
    torchrun = Path(sys.executable).with_name("torchrun")
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node=2", str(script), str(multi), generator],
                          env=env, timeout=300, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ref = torch.load(single / "rank0.pt", weights_only=True)
    r0 = torch.load(multi / "rank0.pt", weights_only=True)
    r1 = torch.load(multi / "rank1.pt", weights_only=True)
    assert ref.pop("local_batch") == 4 and r0.pop("local_batch") == 2 and r1.pop("local_batch") == 2
    for k in ref:
        assert torch.equal(r0[k], r1[k]), f"ranks differ in {k}"
        # same global batch, gradients averaged by all-reduce: equal up to float summation order (Adam's first
        # steps, about lr * sign(g), can magnify it to some 1e-6; one step of lr 1e-3 on other data is 1e-3)
        assert torch.allclose(r0[k], ref[k], rtol=1e-4, atol=1e-5), (k, (r0[k] - ref[k]).abs().max())


GAN_SCRIPT = r'''
import os, sys
import numpy as np, torch
torch.set_num_threads(1)
from srlib.data import PairedPatchDataset
from srlib.train import TrainConfig, Trainer
rng = np.random.default_rng(0)
images = [rng.random((48, 56, 3), dtype=np.float32) for _ in range(3)]
patches = PairedPatchDataset(images, 4, 32, length=10**9, seed=0)
cfg = TrainConfig(generator="srresnet-tiny", discriminator="patch-sn-cpu", adversarial=sys.argv[2], steps=3,
                  batch_size=4, patch_size=32, val_every=0, checkpoint_every=0, lr_g=1e-3, lr_d=1e-3,
                  feature_matching_weight=0.1, n_critic=2)
t = Trainer(cfg, patches=patches, progress=False)
t.fit()
state = {f"G.{k}": v.clone() for k, v in t.G.state_dict().items()}
state.update({f"D.{k}": v.clone() for k, v in t.D.state_dict().items()})
torch.save(state, os.path.join(sys.argv[1], f"rank{os.environ.get('RANK', 0)}.pt"))
if torch.distributed.is_initialized():
    torch.distributed.destroy_process_group()
sys.stdout.flush(); sys.stderr.flush()
os._exit(0)  # gloo's threads can abort C++ teardown at interpreter exit (seen once in CI): the results are saved
'''


def run_gan(tmp_path, adversarial: str, single: bool):
    script = tmp_path / "gan_tiny.py"
    script.write_text(GAN_SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = {}
    for mode in (["single"] if single else []) + ["ddp"]:
        folder = tmp_path / f"{adversarial}-{mode}"
        folder.mkdir()
        cmd = [sys.executable, str(script)] if mode == "single" else [
            str(Path(sys.executable).with_name("torchrun")), "--standalone", "--nproc_per_node=2", str(script)]
        proc = subprocess.run(cmd + [str(folder), adversarial], env=env, timeout=300, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-3000:]
        out[mode] = [torch.load(f, weights_only=True) for f in sorted(folder.glob("rank*.pt"))]
    return out


def test_gan_training_under_ddp_matches_single_process(tmp_path):
    out = run_gan(tmp_path, "nonsaturating", single=True)
    (ref,), (r0, r1) = out["single"], out["ddp"]
    assert any(k.startswith("D.") for k in ref)
    for k in ref:
        assert torch.equal(r0[k], r1[k]), f"ranks differ in {k}"
        assert torch.allclose(r0[k].float(), ref[k].float(), rtol=1e-3, atol=1e-3), (k, (r0[k] - ref[k]).abs().max())


def test_wgan_gp_double_backward_keeps_ranks_identical_under_ddp(tmp_path):
    r0, r1 = run_gan(tmp_path, "wgan-gp", single=False)["ddp"]
    for k in r0:
        assert torch.equal(r0[k], r1[k]), f"ranks differ in {k}"
