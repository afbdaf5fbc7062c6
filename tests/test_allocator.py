"""srlib.train.allocator: a GAN step on the CPU reuses freed memory instead of page-faulting it in every step."""
import os
import platform
import subprocess
import sys

import pytest

from srlib.train.allocator import USER_SETTINGS

pytestmark = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="the setting is glibc's")

STEP_FAULTS = """
import resource, statistics, sys
import numpy as np
from srlib.data import PairedPatchDataset
from srlib.train import Trainer, load_recipe
from srlib.train.allocator import keep_freed_memory

rng = np.random.default_rng(0)
images = [rng.random((200, 200, 3), dtype=np.float32) for _ in range(4)]
cfg = load_recipe("srgan_x4", "cpu", init_from="", val_every=0, checkpoint_every=0, device="cpu")
trainer = Trainer(cfg, patches=PairedPatchDataset(images, cfg.scale, cfg.patch_size, length=10**9, seed=0),
                  progress=False)
for _ in range(2):
    trainer.train_step()
faults = []
for _ in range(9):  # the median step: an occasional step that grows the heap does not decide the test
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    trainer.train_step()
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(keep_freed_memory(), statistics.median(faults))
"""


def faults_per_step(**extra_env) -> tuple[bool, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(USER_SETTINGS)}
    proc = subprocess.run([sys.executable, "-c", STEP_FAULTS], capture_output=True, text=True, timeout=300,
                          env={**env, "OMP_NUM_THREADS": "2", **extra_env})
    assert proc.returncode == 0, proc.stderr
    applied, faults = proc.stdout.split()
    return applied == "True", float(faults)


def test_a_gan_step_reuses_freed_memory_and_the_environment_can_opt_out():
    applied, faults = faults_per_step()
    assert applied and faults < 1000, faults  # 0-288 measured (median of 9 steps); glibc's defaults: 7,700-12,400
    # a MALLOC_* variable says the user chose the allocator's settings: srlib leaves glibc's defaults alone
    applied, default_faults = faults_per_step(MALLOC_ARENA_MAX="8")
    assert not applied and default_faults > 5 * max(faults, 200), (faults, default_faults)
