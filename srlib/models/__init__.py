"""Networks: generators (SRResNet, RRDBNet, the seed blog's), discriminators, upsampling, presets."""
from .flops import count_macs, gflops_per_lr_pixel
from .generators import RRDB, DenseBlock, ResidualBlock, RRDBNet, SRResNet
from .discriminators import PatchDiscriminatorSN, SRGANDiscriminator, receptive_field
from .presets import DISCRIMINATORS, GENERATORS, PAPER_PARAMETERS, build_discriminator, build_generator, count_parameters
from .interpolate import interpolate_networks, interpolate_state
from .pretrained import COURSE_MODELS, course_model_path, load_course_model
from .weights import atomic_save, checkpoint_dir, load_generator, load_weights_file, save_generator
from .upsample import SubPixelUpsample, icnr_, upsample_factors
from .official import OFFICIAL_WEIGHTS, UnshuffleRRDBNet, load_official

__all__ = [
    "DISCRIMINATORS", "PatchDiscriminatorSN", "SRGANDiscriminator", "build_discriminator", "receptive_field",
    "GENERATORS", "PAPER_PARAMETERS", "DenseBlock", "RRDB", "RRDBNet", "ResidualBlock", "SRResNet",
    "SubPixelUpsample", "build_generator", "count_macs", "count_parameters", "gflops_per_lr_pixel", "icnr_",
    "upsample_factors", "COURSE_MODELS", "interpolate_networks", "interpolate_state", "course_model_path", "load_course_model", "atomic_save", "checkpoint_dir", "load_generator", "load_weights_file", "save_generator",
    "OFFICIAL_WEIGHTS", "UnshuffleRRDBNet", "load_official",
]
