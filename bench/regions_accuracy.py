"""Accuracy on Indian Pines when the training regions are whole: the region split next to random and disjoint.

Regions are the connected components (8-connectivity) of each class of the ground truth, turned into
polygons (:func:`rasterio.features.shapes`), written to a GeoPackage and read back, as a user's
regions would be; the script checks that they rasterise to exactly the ground truth. Each model is
then trained on the region split (whole regions on one side, guard band of the patch radius), the
random split and the disjoint split, all at a 10 % training target, and OA / AA / kappa on the test
pixels are printed as a markdown table (mean ± std over the seeds) with the training and test pixel
counts, the pixels left out by the guard band and the classes left untested (a single region).

    python bench/regions_accuracy.py                       # svm_rbf, seeds 0 1 2
    python bench/regions_accuracy.py --models hybridsn --epochs 5 --seeds 0 --device cpu
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from common import indian_pines, machine, markdown_table, write_json

from hsiviewer.engine.training import TrainConfig, train_model
from hsiviewer.processing.splits import leakage
from hsiviewer.regions.model import RegionSet
from hsiviewer.regions.rasterize import rasterize_regions
from hsiviewer.regions.vector import read_regions, write_regions


def component_regions(labels: np.ndarray, classes) -> RegionSet:
    """One region per 8-connected component of each class, as pixel-space polygons."""
    import shapely
    from rasterio.features import shapes
    from scipy.ndimage import label as components

    regions = RegionSet()
    for cid in sorted(int(c) for c in np.unique(labels) if c > 0):
        regions.add_class(classes.name(cid), classes.color(cid), class_id=cid)
    items = []
    for cid in sorted(int(c) for c in np.unique(labels) if c > 0):
        comp, n = components(labels == cid, structure=np.ones((3, 3)))
        for k in range(1, n + 1):
            # shapes() traces pixel edges, so the polygons hold exactly the component's pixel centres
            parts = [
                shapely.geometry.shape(g)
                for g, v in shapes((comp == k).astype(np.uint8), mask=comp == k, connectivity=8)
                if v == 1
            ]
            items.append((shapely.union_all(parts), cid, None))
    regions.add_regions(items)
    return regions


def run(scene, regions_file, model: str, split: str, seed: int, args) -> dict:
    config = TrainConfig(
        model=model,
        epochs=args.epochs,
        train_fraction=args.fraction,
        split=split,
        seed=seed,
        device=args.device,
        lr_schedule="cosine",
    )
    start = time.perf_counter()
    trained = train_model(scene, config, regions=regions_file if split == "regions" else None)
    m = trained.metrics
    patch = int(trained.hyper.get("patch_size", 1))
    row = {
        "model": model,
        "split": split,
        "seed": seed,
        "oa": m["oa"],
        "aa": m["aa"],
        "kappa": m["kappa"],
        "n_train": m["n_train"],
        "n_test": m["n_test"],
        "patch_size": patch,
        "leakage": leakage(trained.split, scene.shape[:2], patch),
        "seconds": time.perf_counter() - start,
        "guard_dropped": m.get("regions", {}).get("guard_dropped"),
        "untested_classes": m.get("regions", {}).get("untested_classes"),
    }
    print(
        f"{model:<10} {split:<9} seed {seed}: OA {row['oa']:.2%} AA {row['aa']:.2%} kappa {row['kappa']:.4f}  "
        f"train {row['n_train']} test {row['n_test']} leak {row['leakage']}  {row['seconds']:.1f} s",
        flush=True,
    )
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data")
    p.add_argument("--models", nargs="+", default=["svm_rbf"])
    p.add_argument("--splits", nargs="+", default=["regions", "random", "disjoint"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--fraction", type=float, default=0.1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json")
    args = p.parse_args()
    scene = indian_pines(args.data)
    regions = component_regions(scene.labels, scene.classes)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_regions(Path(tmp) / "indian_pines_regions.gpkg", regions, scene)
        regions_file = read_regions(path)
        placed = regions_file.to_scene(scene)
    raster = rasterize_regions(placed.regions, scene.shape[:2])
    same = bool(np.array_equal(raster.labels, scene.labels))
    print(f"{len(placed)} regions from the connected components; rasterised back equal to the ground truth: {same}")
    rows = [
        run(scene, placed, model, split, seed, args)
        for model in args.models
        for split in args.splits
        for seed in args.seeds
    ]
    table = []
    for model in args.models:
        for split in args.splits:
            runs = [r for r in rows if r["model"] == model and r["split"] == split]
            fig = {k: np.array([r[k] for r in runs]) * 100 for k in ("oa", "aa", "kappa")}
            extra = ""
            if split == "regions":
                extra = f"guard band dropped {runs[0]['guard_dropped']}; untested classes {runs[0]['untested_classes']}"
            table.append(
                [model, split, len(runs)]
                + [f"{fig[k].mean():.2f} ± {fig[k].std():.2f}" for k in fig]
                + [
                    int(np.mean([r["n_train"] for r in runs])),
                    int(np.mean([r["n_test"] for r in runs])),
                    int(np.mean([r["leakage"] for r in runs])),
                    extra,
                ]
            )
    print(
        markdown_table(
            ["model", "split", "runs", "OA %", "AA %", "kappa x100", "train px", "test px", "leakage", "notes"], table
        )
    )
    write_json(
        args.json,
        {
            "machine": machine(),
            "regions": len(placed),
            "rasterised_equal": same,
            "runs": rows,
            "epochs": args.epochs,
            "fraction": args.fraction,
        },
    )


if __name__ == "__main__":
    main()
