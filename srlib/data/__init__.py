"""Data: the data root, the registry of data sets, downloads, images and patches."""
from .images import load_image, save_image, to_numpy, to_tensor, to_uint8
from .patches import PairedPatchDataset
from .registry import DATASETS, benchmark_pairs, get_spec, is_available
from .root import data_root
from .samples import EVAL_SAMPLES, TRAIN_SAMPLES, load_sample
from .sets import BenchmarkSet, ImagePair, load_benchmark, load_training_images

__all__ = [
    "DATASETS", "BenchmarkSet", "PairedPatchDataset", "EVAL_SAMPLES", "ImagePair", "TRAIN_SAMPLES", "benchmark_pairs", "data_root",
    "get_spec", "is_available", "load_benchmark", "load_image", "load_sample", "load_training_images",
    "save_image", "to_numpy", "to_tensor", "to_uint8",
]
