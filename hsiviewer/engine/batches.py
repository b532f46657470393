"""Batches of patches for torch: a lazy dataset over a padded cube, seeded loaders on the host and on an
accelerator, and the reordering of a batch into a model's input layout.

The geometry (padding, the gather of one batch) is :mod:`hsiviewer.processing.patches`; this module adds
what needs torch.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from hsiviewer.processing.patches import patches_for


class PatchDataset(Dataset):
    """Patches centred on given pixels, cut lazily from a padded cube.

    Parameters
    ----------
    padded : ndarray (rows + 2r, cols + 2r, k), float32
        From :func:`pad_cube`; it is referenced, not copied.
    rows, cols : int arrays (N,)
        Pixel coordinates in the unpadded scene.
    targets : int array (N,) or None
        Class indices (0 .. n_classes - 1); -1 for every item when None.
    patch_size : int
        S; the padding must be at least ``S // 2``.

    Items are ``(patch, target)``: a (S, S, k) float32 tensor and an int.
    """

    def __init__(self, padded: np.ndarray, rows, cols, targets, patch_size: int) -> None:
        self.padded = padded
        self.rows = np.asarray(rows, np.intp)
        self.cols = np.asarray(cols, np.intp)
        if self.rows.shape != self.cols.shape:
            raise ValueError("rows and cols must have the same length")
        n = len(self.rows)
        self.targets = np.full(n, -1, np.int64) if targets is None else np.asarray(targets, np.int64)
        if self.targets.shape != (n,):
            raise ValueError(f"{len(self.targets)} targets for {n} pixels")
        self.patch_size = int(patch_size)
        if n and (
            self.rows.max() + self.patch_size > padded.shape[0] or self.cols.max() + self.patch_size > padded.shape[1]
        ):
            raise ValueError("a pixel's patch reaches past the padded cube; pad by patch_size // 2")

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        r, c, s = self.rows[index], self.cols[index], self.patch_size
        patch = np.ascontiguousarray(self.padded[r : r + s, c : c + s])
        return torch.from_numpy(patch), int(self.targets[index])

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """Items ``indices`` as one batch: a (N, S, S, k) float32 tensor and a (N,) int64 tensor."""
        idx = np.asarray(indices, np.intp)
        patches = patches_for(self.padded, self.rows[idx], self.cols[idx], self.patch_size)
        return torch.from_numpy(patches), torch.from_numpy(self.targets[idx])


class _Batches(Dataset):
    """Adapter: ``self[list of indices]`` is one batch gathered by :meth:`PatchDataset.batch`."""

    def __init__(self, dataset: PatchDataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        return self.dataset.batch(indices)


def _keep(batch):
    return batch


def patch_loader(
    dataset: PatchDataset,
    batch_size: int,
    shuffle: bool = False,
    generator: Optional[torch.Generator] = None,
    batched: bool = True,
) -> DataLoader:
    """A DataLoader over ``dataset`` yielding ``(patches (N, S, S, k), targets (N,))``.

    Parameters
    ----------
    dataset : PatchDataset
    batch_size : int
    shuffle : bool
        Random order each epoch, drawn from ``generator`` (seed it for reproducible training).
    generator : torch.Generator, optional
    batched : bool
        True: one vectorised gather per batch (:meth:`PatchDataset.batch`); False: the ordinary
        per-item path with default collation (kept for comparison in ``bench/``).
    """
    sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    if not batched:
        return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=0)
    # batch_size=None: the BatchSampler hands whole index lists to _Batches, which gathers them at once.
    return DataLoader(
        _Batches(dataset),
        batch_size=None,
        num_workers=0,
        collate_fn=_keep,
        sampler=BatchSampler(sampler, batch_size, drop_last=False),
    )


def gather_patches(padded: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, patch_size: int) -> torch.Tensor:
    """The torch twin of :func:`patches_for`, on whatever device ``padded`` lives: (N, S, S, k)."""
    offsets = torch.arange(patch_size, device=padded.device)
    return padded[rows[:, None, None] + offsets[None, :, None], cols[:, None, None] + offsets[None, None, :]]


class DevicePatchLoader:
    """Batches gathered on an accelerator from a padded cube copied there once.

    On a GPU this spares the host-side gather and the host-to-device copy of every batch (a batch
    of 128 HybridSN patches is 9.6 MB); only the batch's indices travel. It yields the same batches,
    in the same seeded order, as :func:`patch_loader`.

    Parameters
    ----------
    dataset : PatchDataset
    batch_size : int
    device : torch.device
    shuffle : bool
    generator : torch.Generator, optional
    padded : Tensor, optional
        ``dataset.padded`` already on ``device`` (to share one copy between loaders).
    """

    def __init__(
        self,
        dataset: PatchDataset,
        batch_size: int,
        device: torch.device,
        shuffle: bool = False,
        generator: Optional[torch.Generator] = None,
        padded: Optional[torch.Tensor] = None,
    ) -> None:
        self.device = torch.device(device)
        self.patch_size = dataset.patch_size
        self.padded = torch.from_numpy(dataset.padded).to(self.device) if padded is None else padded
        self.rows = torch.from_numpy(dataset.rows).to(self.device)
        self.cols = torch.from_numpy(dataset.cols).to(self.device)
        self.targets = torch.from_numpy(dataset.targets).to(self.device)
        sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        self.batches = BatchSampler(sampler, batch_size, drop_last=False)

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        for indices in self.batches:
            i = torch.as_tensor(indices, device=self.device)
            yield gather_patches(self.padded, self.rows[i], self.cols[i], self.patch_size), self.targets[i]


def to_model_input(batch: torch.Tensor, input_kind) -> torch.Tensor:
    """Reorder a (N, S, S, k) batch into the layout of a model's input kind.

    Parameters
    ----------
    batch : Tensor (N, S, S, k)
    input_kind : InputKind or str
        ``"cube"`` -> (N, 1, k, S, S) for Conv3d nets; ``"patch"`` -> (N, k, S, S);
        ``"spectrum"`` -> (N, k), the centre pixel.

    Returns
    -------
    Tensor (contiguous)
    """
    kind = getattr(input_kind, "value", input_kind)
    if kind == "cube":
        return batch.permute(0, 3, 1, 2).unsqueeze(1).contiguous()
    if kind == "patch":
        return batch.permute(0, 3, 1, 2).contiguous()
    if kind == "spectrum":
        r = batch.shape[1] // 2
        return batch[:, r, r, :].contiguous()
    raise ValueError(f"unknown input kind '{kind}' (expected cube, patch or spectrum)")
