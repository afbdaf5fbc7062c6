"""(LR, HR) training patches whose LR is made on the fly by the Real-ESRGAN degradation model.

Same contract as PairedPatchDataset, which the trainer relies on: `batch(indices)` returns float32
(LR, HR) in [0, 1], and item i is a function of (seed, i) alone, so a resumed run that draws
indices batches_drawn * batch_size onwards sees the same data, whatever the batch composition.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from ..errors import SrlibError
from ..metrics import as_hwc
from ..realworld import ORDERS, RealESRGANOptions, degrade_realesrgan, usm_sharpen
from .patches import augment as dihedral
from .patches import check_patch_geometry


class RealWorldPatchDataset(torch.utils.data.Dataset):
    """Random HR patches (patch_size square, flipped / rotated) degraded to LR patches (patch_size / scale).

    images: HR images, (H, W, 3) float arrays in [0, 1] (or uint8), as PairedPatchDataset.
    order: "realesrgan" (Wang et al. 2021) or "bsrgan" (Zhang et al. 2021's shuffled order).
    usm_target: the HR target is USM-sharpened, and the LR is degraded from the sharpened patch, as
    Real-ESRGAN's realesrgan_model.py does (feed_data blurs gt_usm; l1_gt_usm / percep_gt_usm).
    Real-ESRGAN degrades a 400px crop and then crops 256; here the patch itself is degraded.
    """

    def __init__(self, images, scale: int = 4, patch_size: int = 96, length: int = 1000, seed: int = 0,
                 order: str = "realesrgan", usm_target: bool = False, options: RealESRGANOptions | None = None,
                 augment: bool = True):
        check_patch_geometry(scale, patch_size)
        if order not in ORDERS:
            raise SrlibError(f"unknown degradation order {order!r}; known: {', '.join(ORDERS)}.")
        self.scale, self.patch_size, self.length, self.seed = scale, patch_size, length, seed
        self.order, self.usm_target, self.augment = order, usm_target, augment
        self.options = options or RealESRGANOptions()
        self.hr, skipped = [], 0
        for i, img in enumerate(images):
            img = as_hwc(img, f"training image {i}").astype(np.float32)
            if img.shape[2] == 1:
                img = np.repeat(img, 3, axis=2)
            if min(img.shape[:2]) < patch_size:
                skipped += 1
                continue
            self.hr.append(torch.from_numpy(np.clip(img, 0, 1)).permute(2, 0, 1).contiguous())
        if not self.hr:  # the error says it all: no warning before it
            raise SrlibError(f"no training image is at least {patch_size}x{patch_size}; use a smaller patch_size.")
        if skipped:
            warnings.warn(f"skipped {skipped} image(s) smaller than the {patch_size}px patch size.", stacklevel=2)

    def __len__(self) -> int:
        return self.length

    def _hr_patch(self, g: torch.Generator) -> torch.Tensor:
        k = int(torch.randint(len(self.hr), (1,), generator=g))
        hr, p = self.hr[k], self.patch_size
        y = int(torch.randint(hr.shape[1] - p + 1, (1,), generator=g))
        x = int(torch.randint(hr.shape[2] - p + 1, (1,), generator=g))
        patch = hr[:, y : y + p, x : x + p]
        if self.augment:
            patch = dihedral(patch, *map(bool, torch.randint(2, (3,), generator=g).tolist()))
        return patch.contiguous()

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + int(i))
        hr = self._hr_patch(g).unsqueeze(0)
        if self.usm_target:
            hr = usm_sharpen(hr)
        lr = degrade_realesrgan(hr, self.scale, generators=[g], options=self.options, order=self.order)
        return lr[0].float().contiguous(), hr[0].float().contiguous()

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """Stack the items at `indices` into (LR, HR) batches, without a DataLoader."""
        items = [self[i] for i in indices]
        return torch.stack([a for a, _ in items]), torch.stack([b for _, b in items])
