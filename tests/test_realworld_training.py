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
