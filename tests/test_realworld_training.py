"""The real-world recipe: degradation settings are checked, and the trainer draws on-the-fly degraded patches."""
import pytest

from srlib.errors import SrlibError
from srlib.train import TrainConfig, load_recipe


def test_unknown_degradation_is_refused():
    with pytest.raises(SrlibError, match="unknown degradation 'jpeg'.*realesrgan"):
        TrainConfig(degradation="jpeg")


def test_usm_targets_need_a_real_world_degradation():
    with pytest.raises(SrlibError, match="usm_target"):
        TrainConfig(usm_target=True)
    assert TrainConfig(usm_target=True, degradation="bsrgan").usm_target


def test_realesrgan_recipe_follows_the_paper_at_paper_size():
    cpu, paper = load_recipe("realesrgan_x4", "cpu"), load_recipe("realesrgan_x4", "paper")
    assert cpu.degradation == paper.degradation == "realesrgan"
    assert cpu.discriminator == "patch-sn-cpu" and paper.discriminator == "patch-sn"
    # options/train_realesrgan_x4plus.yml: L1 1.0, perceptual 1.0, vanilla GAN 0.1, 256 px, EMA 0.999, USM targets
    assert (paper.pixel_weight, paper.perceptual_weight, paper.adv_weight) == (1.0, 1.0, 0.1)
    assert (paper.patch_size, paper.ema_decay, paper.usm_target, paper.adversarial) == (256, 0.999, True, "nonsaturating")


def test_realesrgan_starts_from_the_l1_stage_on_the_same_degradations():
    net, gan = load_recipe("realesrnet_x4", "cpu"), load_recipe("realesrgan_x4", "cpu")
    assert not net.discriminator and net.degradation == gan.degradation
    assert gan.init_from == "realesrnet_x4-cpu" and net.init_from == "rrdbnet_x4-cpu"
    assert net.generator == gan.generator == "rrdbnet-cpu"


def test_trainer_draws_on_the_fly_degraded_patches_reproducibly(tmp_path, monkeypatch):
    import torch

    from srlib.data.realworld_patches import RealWorldPatchDataset
    from srlib.train import Trainer

    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path / "empty"))  # the embedded samples
    cfg = TrainConfig(generator="srresnet-tiny", discriminator="patch-sn-cpu", degradation="realesrgan", steps=2,
                      batch_size=2, patch_size=32, val_every=0, checkpoint_every=0, device="cpu")
    runs = []
    for _ in range(2):
        t = Trainer(cfg, progress=False)
        assert isinstance(t.patches, RealWorldPatchDataset)
        lr, hr = t._next_batch()
        assert lr.shape == (2, 3, 8, 8) and hr.shape == (2, 3, 32, 32)
        # not the bicubic of the target: the real-world pipeline made it
        from srlib.degrade import bicubic_downsample
        assert (lr - bicubic_downsample(hr.contiguous(), 4)).abs().max() > 0.02
        t.fit()
        runs.append(t.G.state_dict())
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
