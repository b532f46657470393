"""Full-scene prediction: the dense path against the per-patch baseline, in the same run.

Classifies every pixel of Indian Pines with a HybridSN at the study's settings (PCA 30, patch 25)
twice: once patch by patch (the baseline: the S x S patch of every pixel through the network) and
once through ``forward_dense`` on strips of rows. Prints the time of each, pixels/s, the speed-up, the
share of pixels given the same class and the largest difference in confidence.

The model is trained briefly here (agreement is only meaningful for a model whose scores are not
all alike), or read from ``--model``.

    python bench/bench_predict.py            # full scene, 2 training epochs
    python bench/bench_predict.py --quick    # 24-row crop, 1 epoch on a few pixels per class
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import STUDY, crop, indian_pines, machine, markdown_table, write_json

from hsiviewer.engine.bundle import load_model
from hsiviewer.engine.inference import predict_scene
from hsiviewer.engine.training import TrainConfig, train_model


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a short smoke run on a crop")
    p.add_argument("--model", help="a trained HybridSN model file (default: train one briefly)")
    p.add_argument("--data", help="Indian Pines .npz (default: ../shared/data or resources/)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch-size", type=int, default=256, help="patches per forward pass (per-patch path)")
    p.add_argument("--json", help="also write the figures here")
    return p.parse_args()


def get_model(args, scene):
    """The model to benchmark: loaded, or HybridSN trained for a few epochs on ``scene``.

    Training evaluates itself on every test pixel patch by patch; with ``--quick`` it trains on the
    crop, with only 5 pixels per class, to keep that short."""
    if args.model:
        return load_model(args.model)
    config = TrainConfig(
        model="hybridsn",
        epochs=1 if args.quick else args.epochs,
        batch_size=STUDY["batch_size"],
        lr=STUDY["lr"],
        train_fraction=STUDY["train_fraction"],
        seed=0,
        device=args.device,
        hyper={"pca_components": STUDY["pca_components"], "patch_size": STUDY["patch_size"]},
    )
    if args.quick:
        config.train_per_class = 5
    start = time.perf_counter()
    model = train_model(scene, config)
    print(f"trained hybridsn for {config.epochs} epoch(s) in {time.perf_counter() - start:.1f} s")
    return model


def main() -> None:
    args = parse_args()
    full = indian_pines(args.data)
    scene = crop(full, 24, full.n_cols) if args.quick else full
    model = get_model(args, scene)  # the test evaluation of training runs over the same pixels
    n_pixels = scene.n_rows * scene.n_cols
    print(
        f"scene {scene.n_rows} x {scene.n_cols} x {scene.n_bands}; model {model.spec_name} "
        f"{model.hyper}; device {args.device}; {machine()}"
    )

    warm = crop(scene, 4, scene.n_cols)  # first calls pay for kernel selection and allocations
    for method in ("dense", "patch"):
        predict_scene(model, warm, method=method, device=args.device, batch_size=args.batch_size)
    dense = predict_scene(model, scene, method="dense", device=args.device)
    patch = predict_scene(model, scene, method="patch", device=args.device, batch_size=args.batch_size)
    same = float(np.mean(dense.class_map == patch.class_map))
    diff = float(np.nanmax(np.abs(dense.confidence - patch.confidence)))
    speedup = patch.seconds / dense.seconds
    rows = [
        ["per patch (baseline)", f"{patch.seconds:.2f}", f"{n_pixels / patch.seconds:,.0f}", "1.0"],
        ["dense", f"{dense.seconds:.2f}", f"{n_pixels / dense.seconds:,.0f}", f"{speedup:.1f}"],
    ]
    print(markdown_table(["method", "seconds", "pixels/s", "speed-up"], rows))
    print(f"identical classes: {same:.4%} of {n_pixels} pixels; max |confidence difference| {diff:.2e}")
    write_json(
        args.json,
        {
            "scene": list(scene.shape),
            "hyper": model.hyper,
            "device": args.device,
            "machine": machine(),
            "patch_seconds": patch.seconds,
            "dense_seconds": dense.seconds,
            "speedup": speedup,
            "identical_classes": same,
            "max_confidence_diff": diff,
        },
    )


if __name__ == "__main__":
    main()
