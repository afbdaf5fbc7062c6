"""Paired (LR, HR) training patches, decoded once and kept in memory.

Each HR image is cropped to a multiple of the scale and degraded once with the
course's MATLAB bicubic; a patch is an aligned crop of both, so sampling costs
only slicing. Flips and 90-degree rotations are applied to both alike.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
import torch

from ..degrade import bicubic_downsample, crop_to_multiple
from ..errors import SrlibError
from ..metrics import as_hwc


def augment(x: torch.Tensor, flip_h: bool, flip_v: bool, rot90: bool) -> torch.Tensor:
    """Apply the same dihedral transform to a (..., C, H, W) tensor."""
    if flip_h:
        x = x.flip(-1)
    if flip_v:
        x = x.flip(-2)
    if rot90:
        x = x.transpose(-2, -1)
    return x


def check_patch_geometry(scale, patch_size) -> None:
    """A scale and an HR patch side that make LR patches: whole numbers >= 1, the side a multiple of the scale."""
    for name, value in (("scale", scale), ("patch_size", patch_size)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise SrlibError(f"{name} must be a whole number >= 1; got {value!r}.")
    if patch_size % scale:
        raise SrlibError(f"patch_size {patch_size} must be a multiple of the scale {scale} (try {patch_size - patch_size % scale}).")


class PairedPatchDataset(torch.utils.data.Dataset):
    """Random aligned (LR, HR) patches from in-memory images.

    images: HR images, (H, W, 3) float arrays in [0, 1] (or uint8; checked by `as_hwc`).
    patch_size: HR patch side (a multiple of `scale`); LR patches are patch_size // scale.
    length: patches per epoch. Item i is a deterministic function of (seed, i),
    so runs are reproducible with any DataLoader worker count.
    """

    def __init__(self, images, scale: int = 4, patch_size: int = 96, length: int = 1000, augment: bool = True, seed: int = 0):
        check_patch_geometry(scale, patch_size)
        self.scale, self.patch_size, self.length, self.augment, self.seed = scale, patch_size, length, augment, seed
        self.hr, self.lr = [], []
        skipped = 0
        for i, img in enumerate(images):
            img = as_hwc(img, f"training image {i}").astype(np.float32)
            if img.shape[2] == 1:
                img = np.repeat(img, 3, axis=2)
            if min(img.shape[:2]) < patch_size:
                skipped += 1
                continue
            hr = torch.from_numpy(np.array(crop_to_multiple(img, scale), dtype=np.float32)).permute(2, 0, 1).contiguous()
            self.hr.append(hr)
            self.lr.append(bicubic_downsample(hr, scale).contiguous())
        if not self.hr:  # the error says it all: no warning before it
            raise SrlibError(f"no training image is at least {patch_size}x{patch_size}; use a smaller patch_size.")
        if skipped:
            warnings.warn(f"skipped {skipped} image(s) smaller than the {patch_size}px patch size.", stacklevel=2)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + int(i))
        k = int(torch.randint(len(self.hr), (1,), generator=g))
        hr, lr = self.hr[k], self.lr[k]
        p = self.patch_size // self.scale
        y = int(torch.randint(lr.shape[1] - p + 1, (1,), generator=g))
        x = int(torch.randint(lr.shape[2] - p + 1, (1,), generator=g))
        s = self.scale
        lr_patch = lr[:, y : y + p, x : x + p]
        hr_patch = hr[:, y * s : (y + p) * s, x * s : (x + p) * s]
        if self.augment:
            flips = torch.randint(2, (3,), generator=g).tolist()
            lr_patch, hr_patch = (augment(t, *map(bool, flips)) for t in (lr_patch, hr_patch))
        return lr_patch.contiguous(), hr_patch.contiguous()

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """Stack the items at `indices` into (LR, HR) batches, without a DataLoader."""
        items = [self[i] for i in indices]
        return torch.stack([a for a, _ in items]), torch.stack([b for _, b in items])
