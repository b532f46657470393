"""Accuracy on Indian Pines at the HybridSN study's settings, for every shipped architecture.

PCA to 30 components, 25 x 25 patches, 10 % of each class for training (stratified), Adam with
learning rate 1e-3, batches of 128 — for every registered architecture (the SVM baseline included)
over several seeds, on the random split (the study's: training patches overlap test pixels) and on
the spatially disjoint split (no test pixel inside a training patch). Prints a markdown table of
OA / AA / kappa as mean ± std per model and split, with epochs and wall time, and writes every run
to JSON.

The test pixels are classified with :func:`hsiviewer.engine.inference.predict_scene` (the dense path where
the plugin has one), so evaluation costs one pass over the scene per run.

    python bench/bench_accuracy.py --device cuda --epochs 100 --seeds 0 1 2 --json results/accuracy.json
    python bench/bench_accuracy.py --quick     # 1 epoch, one seed, a crop: checks that it runs
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import STUDY, crop, indian_pines, machine, markdown_table, write_json

from hsiviewer.engine.device import resolve_device
from hsiviewer.engine.inference import predict_scene
from hsiviewer.engine.training import TrainConfig, train_model
from hsiviewer.models.plugins import InputKind, default_registry
from hsiviewer.processing.metrics import classification_report
from hsiviewer.processing.splits import leakage


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 epoch, seed 0, random split, a 40-row crop")
    p.add_argument("--data", help="Indian Pines .npz (default: ../shared/data or resources/)")
    p.add_argument("--models", nargs="+", help="architectures (default: every registered one)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--splits", nargs="+", choices=("random", "disjoint"), default=["random", "disjoint"])
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--lr-schedule",
        choices=("constant", "cosine"),
        default="constant",
        help="the study keeps the rate constant; cosine decays it to 0 over the epochs",
    )
    p.add_argument(
        "--plugin-defaults",
        action="store_true",
        help="train with each plugin's own defaults instead of the study's PCA 30 / patch 25",
    )
    p.add_argument("--json", help="write every run and the summary here")
    return p.parse_args()


def study_hyper(spec, plugin_defaults: bool) -> dict:
    """The study's PCA and patch size for models that take patches; plugin defaults otherwise."""
    if plugin_defaults or InputKind(spec.input_kind) == InputKind.SPECTRUM:
        return {}
    return {"pca_components": STUDY["pca_components"], "patch_size": STUDY["patch_size"]}


def run_one(scene, spec, split: str, seed: int, args) -> dict:
    """Train one model, classify its test pixels, and return the figures."""
    config = TrainConfig(
        model=spec.name,
        epochs=args.epochs,
        batch_size=STUDY["batch_size"],
        lr=STUDY["lr"],
        train_fraction=STUDY["train_fraction"],
        split=split,
        seed=seed,
        device=args.device,
        lr_schedule=args.lr_schedule,
        hyper=study_hyper(spec, args.plugin_defaults),
    )
    start = time.perf_counter()
    model = train_model(scene, config)
    train_s = time.perf_counter() - start
    test = np.asarray(model.split.test)
    mask = np.zeros(scene.n_rows * scene.n_cols, bool)
    mask[test] = True
    pred = predict_scene(
        model, scene, device=args.device, batch_size=512, mask=mask.reshape(scene.shape[:2]), confidence=False
    )
    report = classification_report(scene.labels.ravel()[test], pred.class_map.ravel()[test], scene.classes)
    return {
        "model": spec.name,
        "split": split,
        "seed": seed,
        "epochs": len(model.history or []),
        "lr_schedule": args.lr_schedule,
        "oa": report["oa"],
        "aa": report["aa"],
        "kappa": report["kappa"],
        "engine_oa": (model.metrics or {}).get("oa"),
        "train_s": train_s,
        "predict_s": pred.seconds,
        "predict_method": pred.method,
        "n_train": int(len(model.split.train)),
        "n_test": int(len(test)),
        "leakage": int(leakage(model.split, scene.shape[:2], int(model.hyper["patch_size"]))),
        "hyper": model.hyper,
        "per_class": report["per_class"],
    }


def summarise(runs: list[dict]) -> list[list]:
    """One table row per (model, split): mean ± std over seeds."""
    rows = []
    for key in dict.fromkeys((r["model"], r["split"]) for r in runs):
        group = [r for r in runs if (r["model"], r["split"]) == key]

        def stat(name: str, scale: float = 100.0, digits: int = 2, group: list = group) -> str:
            values = np.array([r[name] for r in group], float) * scale
            return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"

        rows.append(
            [
                *key,
                len(group),
                stat("oa"),
                stat("aa"),
                stat("kappa"),
                group[0]["epochs"],
                f"{np.mean([r['train_s'] for r in group]):.1f}",
                f"{np.mean([r['leakage'] / max(1, r['n_test']) for r in group]):.1%}",
            ]
        )
    return rows


def main() -> None:
    args = parse_args()
    scene = indian_pines(args.data)
    if args.quick:
        args.epochs, args.seeds, args.splits = 1, [0], ["random"]
        scene = crop(scene, 40, scene.n_cols)
    registry = default_registry()
    specs = [registry.get(name) for name in (args.models or registry.names())]
    device = str(resolve_device(args.device))
    print(f"Indian Pines {scene.shape}, device {device}, {args.epochs} epochs, seeds {args.seeds}; {machine()}")
    runs = []
    for spec in specs:
        for split in args.splits:
            for seed in args.seeds:
                run = run_one(scene, spec, split, seed, args)
                runs.append(run)
                print(
                    f"{spec.name:<14} {split:<8} seed {seed}: OA {run['oa']:.2%} AA {run['aa']:.2%} "
                    f"kappa {run['kappa']:.4f}  train {run['train_s']:.1f} s, test {run['predict_s']:.2f} s "
                    f"({run['predict_method']})",
                    flush=True,
                )
    header = ["model", "split", "runs", "OA %", "AA %", "kappa x100", "epochs", "train s", "leakage"]
    print(markdown_table(header, summarise(runs)))
    write_json(args.json, {"machine": machine(), "device": device, "study": STUDY, "runs": runs})


if __name__ == "__main__":
    main()
