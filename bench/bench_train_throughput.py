"""Training throughput and peak memory: lazy patches against materialised patches, same run.

* ``lazy`` (ours): the preprocessed scene is padded once; each batch of S x S patches is gathered
  from it on demand (:func:`hsiviewer.processing.patches.patch_loader`).
* ``materialised`` (the study's way): every labelled pixel's patch is copied up front into one
  N x S x S x k float32 array, and training batches are slices of it.

Both train the same HybridSN (same seed, same training pixels, same batches) for the same number of
steps. Each variant runs in its own subprocess so that its peak memory (tracemalloc peak of the
Python/numpy heap and ``ru_maxrss`` of the process) is its own.

    python bench/bench_train_throughput.py            # full scene, 20 steps of 128
    python bench/bench_train_throughput.py --quick    # 50-row crop, 2 steps of 32
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import torch
from common import STUDY, crop, indian_pines, machine, markdown_table, write_json

from hsiviewer.engine.batches import PatchDataset, patch_loader, to_model_input
from hsiviewer.models.plugins import InputKind, default_registry
from hsiviewer.processing.patches import pad_cube
from hsiviewer.processing.preprocess import Preprocessor
from hsiviewer.processing.splits import random_split

VARIANTS = ("materialised", "lazy")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a short smoke run on a crop")
    p.add_argument("--data", help="Indian Pines .npz (default: ../shared/data or resources/)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=STUDY["batch_size"])
    p.add_argument("--model", default="hybridsn")
    p.add_argument("--device", default="cpu")
    p.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # one child process
    p.add_argument("--json", help="also write the figures here")
    return p.parse_args()


def prepare(args):
    """The preprocessed scene, the labelled pixels, their class indices and the training pixels."""
    scene = indian_pines(args.data)
    if args.quick:
        scene = crop(scene, 50, scene.n_cols)
    cube = scene.to_array()
    pre = Preprocessor().fit(cube, n_components=STUDY["pca_components"], seed=0)
    data = pre.transform(cube)
    labels = scene.labels
    split = random_split(labels, fraction=STUDY["train_fraction"], seed=0)
    ids = np.unique(labels[labels > 0])
    return data, labels, ids, split


def build_net(args, in_bands: int, n_classes: int):
    spec = default_registry().get(args.model)
    hyper = {**spec.defaults, "patch_size": STUDY["patch_size"]}
    torch.manual_seed(0)
    net = spec.builder(
        in_bands, n_classes, hyper.pop("patch_size"), **{k: v for k, v in hyper.items() if k != "pca_components"}
    )
    return net.to(args.device), InputKind(spec.input_kind)


def batches(args, data, labels, ids, split):
    """Setup seconds, an iterable of (patches (N,S,S,k), targets) over the training pixels, and the
    array the variant keeps in memory (the padded scene, or every labelled pixel's patch)."""
    size, cols = STUDY["patch_size"], labels.shape[1]
    start = time.perf_counter()
    padded = pad_cube(data, size // 2)
    if args.variant == "lazy":
        rows, cc = np.divmod(split.train, cols)
        targets = np.searchsorted(ids, labels.ravel()[split.train])
        dataset = PatchDataset(padded, rows, cc, targets, size)
        loader = patch_loader(dataset, args.batch_size, shuffle=True, generator=torch.Generator().manual_seed(0))
        return time.perf_counter() - start, loader, padded
    # The study: every labelled pixel's patch copied into one array, then split into train/test.
    labelled = np.flatnonzero(labels.ravel() > 0)
    rows, cc = np.divmod(labelled, cols)
    everything = np.empty((len(labelled), size, size, data.shape[2]), np.float32)
    for i, (r, c) in enumerate(zip(rows, cc)):
        everything[i] = padded[r : r + size, c : c + size]
    del padded
    x_train = everything[np.searchsorted(labelled, split.train)]  # a copy, as train_test_split makes
    y_train = np.searchsorted(ids, labels.ravel()[split.train])
    loader = ArrayBatches(x_train, y_train, args.batch_size, seed=0)
    # The study keeps `everything` for the test evaluation; so do we, for a fair peak.
    return time.perf_counter() - start, loader, everything


class ArrayBatches:
    """Shuffled batches sliced from in-memory arrays each epoch (what Keras ``fit`` does)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> None:
        self.x, self.y, self.batch_size = x, torch.from_numpy(y), batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self):
        order = torch.randperm(len(self.x), generator=self.generator).numpy()
        for s in range(0, len(order), self.batch_size):
            idx = order[s : s + self.batch_size]
            yield torch.from_numpy(self.x[idx]), self.y[idx]


def train_steps(net, kind, optimiser, loader, steps: int, device: str) -> None:
    """``steps`` optimiser steps over ``loader`` (cycling through epochs as needed)."""
    step = 0
    while step < steps:
        for patches, targets in loader:
            loss = torch.nn.functional.cross_entropy(net(to_model_input(patches, kind).to(device)), targets.to(device))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            step += 1
            if step == steps:
                return


def child(args) -> dict:
    """One variant: setup, a data-only pass, then one warm-up and ``--steps`` timed training steps."""
    tracemalloc.start()
    data, labels, ids, split = prepare(args)
    setup, loader, _held = batches(args, data, labels, ids, split)
    start, n_seen = time.perf_counter(), 0
    for patches, _ in loader:
        n_seen += len(patches)
    data_rate = n_seen / (time.perf_counter() - start)
    net, kind = build_net(args, data.shape[2], len(ids))
    optimiser = torch.optim.Adam(net.parameters(), lr=STUDY["lr"])
    train_steps(net, kind, optimiser, loader, 1, args.device)  # warm-up: first-call allocations
    start = time.perf_counter()
    train_steps(net, kind, optimiser, loader, args.steps, args.device)
    train_seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    return {
        "variant": args.variant,
        "setup_s": setup,
        "data_patches_per_s": data_rate,
        "train_patches_per_s": args.steps * args.batch_size / train_seconds,
        "steps": args.steps,
        "tracemalloc_peak_mb": peak / 2**20,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    args = parse_args()
    if args.quick:
        args.steps, args.batch_size = min(args.steps, 2), min(args.batch_size, 32)
    if args.variant:
        print(json.dumps(child(args)))
        return
    results = {}
    for variant in VARIANTS:
        cmd = [
            sys.executable,
            __file__,
            "--variant",
            variant,
            "--steps",
            str(args.steps),
            "--batch-size",
            str(args.batch_size),
            "--model",
            args.model,
            "--device",
            args.device,
        ]
        cmd += ["--quick"] if args.quick else []
        cmd += ["--data", args.data] if args.data else []
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results[variant] = json.loads(out.strip().splitlines()[-1])
    base, ours = results["materialised"], results["lazy"]
    rows = [
        [
            name,
            f"{r['setup_s']:.2f}",
            f"{r['data_patches_per_s']:,.0f}",
            f"{r['train_patches_per_s']:,.1f}",
            f"{r['tracemalloc_peak_mb']:,.0f}",
            f"{r['maxrss_mb']:,.0f}",
        ]
        for name, r in (("materialised (baseline)", base), ("lazy (ours)", ours))
    ]
    rows.append(
        [
            "ratio lazy / baseline",
            f"{ours['setup_s'] / base['setup_s']:.2f}",
            f"{ours['data_patches_per_s'] / base['data_patches_per_s']:.2f}",
            f"{ours['train_patches_per_s'] / base['train_patches_per_s']:.2f}",
            f"{ours['tracemalloc_peak_mb'] / base['tracemalloc_peak_mb']:.2f}",
            f"{ours['maxrss_mb'] / base['maxrss_mb']:.2f}",
        ]
    )
    print(f"{args.model}, {args.steps} steps of {args.batch_size} patches, device {args.device}; {machine()}")
    print(
        markdown_table(["pipeline", "setup s", "data patches/s", "train patches/s", "peak heap MB", "max RSS MB"], rows)
    )
    write_json(args.json, {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
