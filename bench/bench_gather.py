"""Batched patch gather against a per-item Dataset, with DataLoader(num_workers=0), same run.

* ``batched`` (ours): :func:`hsiviewer.processing.patches.patch_loader` hands each batch's index list to one
  ``sliding_window_view`` fancy-indexing gather (:meth:`PatchDataset.batch`).
* ``per-item`` (baseline): the ordinary DataLoader path, ``dataset[i]`` for each index and
  ``default_collate`` stacking them.

Both see the same shuffled batches (same generator seed). Printed: the data-only rate (patches/s
through the loader alone) and the training rate of HybridSN at its defaults (PCA 30, 25 x 25 patches,
batch 128, Adam) on the CPU, and their ratios.

    python bench/bench_gather.py                 # Indian Pines, 10 % training pixels, 6 steps each
    python bench/bench_gather.py --steps 3 --threads 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from hsiviewer.engine.batches import PatchDataset, patch_loader, to_model_input
from hsiviewer.models.plugins import default_registry
from hsiviewer.processing.patches import pad_cube
from hsiviewer.processing.preprocess import Preprocessor
from hsiviewer.processing.splits import random_split

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "indian_pines" / "indian_pines.npz"


def dataset(model: str) -> tuple[PatchDataset, int, object]:
    spec = default_registry().get(model)
    size, comps = spec.defaults["patch_size"], spec.defaults["pca_components"]
    with np.load(DATA) as f:
        cube, labels = f["data"], f["labels"]
    data = Preprocessor().fit(cube, n_components=comps, seed=0).transform(cube)
    split = random_split(labels, 0.1, seed=0)
    ids = np.unique(labels[labels > 0])
    rows, cols = np.divmod(split.train, labels.shape[1])
    targets = np.searchsorted(ids, labels.ravel()[split.train])
    return PatchDataset(pad_cube(data, size // 2), rows, cols, targets, size), len(ids), spec


def data_rate(ds: PatchDataset, batched: bool, batch_size: int, repeats: int = 3) -> float:
    start, seen = time.perf_counter(), 0
    for _ in range(repeats):
        loader = patch_loader(ds, batch_size, shuffle=True, generator=torch.Generator().manual_seed(0), batched=batched)
        for patches, _ in loader:
            seen += len(patches)
    return seen / (time.perf_counter() - start)


def train_rate(ds: PatchDataset, n_classes: int, spec, batched: bool, batch_size: int, steps: int) -> float:
    torch.manual_seed(0)
    net = spec.build(ds.padded.shape[2], n_classes).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loader = patch_loader(ds, batch_size, shuffle=True, generator=torch.Generator().manual_seed(0), batched=batched)
    it = iter(loader)
    patches, targets = next(it)  # warm-up step, not timed
    for step in range(steps + 1):
        if step == 1:
            start = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(net(to_model_input(patches, spec.input_kind)), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        patches, targets = next(it)
    return steps * batch_size / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="hybridsn")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    ds, n_classes, spec = dataset(args.model)
    print(
        f"{args.model} defaults, {len(ds)} training patches of {ds.patch_size}x{ds.patch_size}x"
        f"{ds.padded.shape[2]}, batch {args.batch_size}, CPU threads {torch.get_num_threads()}"
    )
    d_item, d_batch = data_rate(ds, False, args.batch_size), data_rate(ds, True, args.batch_size)
    print(
        f"loader only : per-item {d_item:10,.0f} patches/s   batched {d_batch:10,.0f} patches/s   "
        f"ratio {d_batch / d_item:.2f}"
    )
    t_item = train_rate(ds, n_classes, spec, False, args.batch_size, args.steps)
    t_batch = train_rate(ds, n_classes, spec, True, args.batch_size, args.steps)
    print(
        f"training    : per-item {t_item:10,.1f} patches/s   batched {t_batch:10,.1f} patches/s   "
        f"ratio {t_batch / t_item:.2f}"
    )


if __name__ == "__main__":
    main()
