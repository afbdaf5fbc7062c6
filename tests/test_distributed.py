"""DistributedDataParallel: 2 gloo processes on the CPU hold identical weights, equal to one process with the same global batch."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
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
cfg = TrainConfig(generator="srresnet-tiny", steps=5, batch_size=4, patch_size=32, val_every=0, checkpoint_every=0,
                  lr_g=1e-3, ema_decay=0.9)
t = Trainer(cfg, patches=patches, progress=False)
t.fit()
rank = int(os.environ.get("RANK", 0))
state = {k: v.clone() for k, v in t.G.state_dict().items()}
state["local_batch"] = torch.tensor(t._next_batch()[0].shape[0])
torch.save(state, os.path.join(sys.argv[1], f"rank{rank}.pt"))
if torch.distributed.is_initialized():
    torch.distributed.destroy_process_group()
'''


def test_two_gloo_processes_match_single_process(tmp_path):
    script = tmp_path / "train_tiny.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    single = tmp_path / "single"
    single.mkdir()
    subprocess.run([sys.executable, str(script), str(single)], check=True, env=env, timeout=300)
    multi = tmp_path / "ddp"
    multi.mkdir()
    torchrun = Path(sys.executable).with_name("torchrun")
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node=2", str(script), str(multi)],
                          env=env, timeout=300, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ref = torch.load(single / "rank0.pt", weights_only=True)
    r0 = torch.load(multi / "rank0.pt", weights_only=True)
    r1 = torch.load(multi / "rank1.pt", weights_only=True)
    assert ref.pop("local_batch") == 4 and r0.pop("local_batch") == 2 and r1.pop("local_batch") == 2
    for k in ref:
        assert torch.equal(r0[k], r1[k]), f"ranks differ in {k}"
        # same global batch, gradients averaged by all-reduce: equal up to float summation order
        assert torch.allclose(r0[k], ref[k], rtol=1e-4, atol=1e-6), (k, (r0[k] - ref[k]).abs().max())
