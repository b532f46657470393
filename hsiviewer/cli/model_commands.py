"""Model commands: ``plugins``, ``train``, ``predict`` and ``evaluate``.

The engine (torch, scikit-learn) is imported inside the handlers, so that ``hsiviewer --help``
and the scene commands start quickly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from hsiviewer.cli.common import cancel_on_sigint, check_outputs
from hsiviewer.cli.spectral_commands import add_mask_options, mask_from_args
from hsiviewer.errors import HsiError, ModelFileError, TrainingError
from hsiviewer.io.plain_json import dumps

DEVICES = ("auto", "cpu", "cuda", "mps")
#: ``--labels`` files with these suffixes are training regions, not rasters.
REGION_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".kml")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the model commands to the ``hsiviewer`` sub-parsers."""
    _add_plugins(sub)
    _add_train(sub)
    _add_predict(sub)
    _add_evaluate(sub)


# --- parsers ------------------------------------------------------------------------------------
def _add_plugins(sub) -> None:
    p = sub.add_parser("plugins", help="list the model architectures and plugin load errors")
    p.add_argument(
        "--check",
        action="store_true",
        help="also build every model and run it once on random data (dense path compared with "
        "per-patch); show tracebacks; exit 1 when any plugin fails",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="show the traceback of every plugin that failed")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=run_plugins)


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a classifier on a scene with ground truth")
    p.add_argument("scene", help="the hyperspectral scene")
    p.add_argument(
        "--labels",
        help="ground-truth raster (default: the labels stored with the scene), or "
        "training regions (.gpkg, .shp, .geojson)",
    )
    p.add_argument(
        "--class-field",
        help="with regions: the attribute holding the class (default: class_name, class, ... whichever is present)",
    )
    _add_variable(p)
    p.add_argument("--model", required=True, help="architecture name (see `hsiviewer plugins`)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    p.add_argument(
        "--lr-schedule",
        choices=("constant", "cosine"),
        default="cosine",
        help="decay the learning rate to 0 on a cosine (default) or keep it (the study's choice)",
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--train-fraction",
        type=float,
        default=None,
        help="share of the labelled pixels of each class used for training (default 0.1; 0.5 with --split regions)",
    )
    size.add_argument("--train-per-class", type=int, default=None, help="training pixels per class")
    p.add_argument(
        "--split",
        choices=("random", "disjoint", "regions"),
        default="random",
        help="random pixels, spatially disjoint blocks, or whole training regions (both with a "
        "guard band: no train/test patch overlap)",
    )
    p.add_argument("--val-fraction", type=float, default=0.0)
    p.add_argument(
        "--pca-fit",
        choices=("scene", "train"),
        default="scene",
        help="fit the PCA on the whole scene's valid pixels (default) or on the training pixels only",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a hyperparameter of the architecture (repeatable)",
    )
    p.add_argument("--out", required=True, help="model file to write")
    p.add_argument("--report", help="also write the metrics as JSON here")
    add_mask_options(p)
    p.set_defaults(handler=run_train)


def _add_predict(sub) -> None:
    p = sub.add_parser("predict", help="classify every pixel of a scene with a trained model")
    p.add_argument("scene")
    _add_variable(p)
    p.add_argument("--model", required=True, help="model file written by `hsiviewer train`")
    p.add_argument("--out", required=True, help="class map GeoTIFF to write")
    p.add_argument("--confidence", help="also write the confidence (max probability) GeoTIFF here")
    p.add_argument(
        "--method",
        choices=("auto", "patch", "dense"),
        default="auto",
        help="dense = whole strips through the network at once (where the model supports it)",
    )
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--batch-size", type=int, default=256)
    add_mask_options(p)
    add_tile_rows(p)
    p.add_argument(
        "--keep-partial",
        action="store_true",
        help="on Ctrl-C, keep the files with the rows finished so far (the rest nodata)",
    )
    p.set_defaults(handler=run_predict)


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="compare a class map with ground truth")
    p.add_argument("map", help="class map raster")
    p.add_argument("--labels", required=True, help="ground-truth raster")
    p.add_argument("--model", help="score only the test pixels of this model's split (the pixels it never saw)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(handler=run_evaluate)


def add_tile_rows(p) -> None:
    """``--tile-rows``: the predictor's tile height (its default gives the classes of the GUI's prediction)."""
    p.add_argument(
        "--tile-rows",
        type=int,
        default=None,
        metavar="N",
        help="rows per prediction tile (default: sized to the scene's width); the scene is read, "
        "predicted and written a few tiles at a time, so memory does not grow with its height",
    )


def _add_variable(p) -> None:
    p.add_argument("--variable", help="for .mat / .npz scenes: the name of the variable holding the cube")


# --- handlers -----------------------------------------------------------------------------------
def run_plugins(args: argparse.Namespace) -> int:
    """List the registered architectures, then any plugin that failed to load."""
    from hsiviewer.models.plugins import default_registry

    registry = default_registry()
    if args.check:
        registry.check_all()  # records build/run failures in registry.errors
    rows: list[dict[str, Any]] = [
        {
            "name": spec.name,
            "input_kind": _kind(spec.input_kind),
            "framework": spec.framework,
            "dense": bool(spec.dense),
            "version": spec.version,
            "defaults": dict(spec.defaults),
            "source": str(spec.source),
            "description": spec.description,
        }
        for spec in (registry.get(name) for name in registry.names())
    ]
    errors = [{"source": str(e.source), "message": e.message, "traceback": e.traceback} for e in registry.errors]
    if args.json:
        print(json.dumps({"models": rows, "errors": errors}, indent=2, default=str))
        return 0
    for row in rows:
        defaults = ", ".join(f"{k}={v}" for k, v in row["defaults"].items())
        dense = ", dense" if row["dense"] else ""
        print(f"{row['name']:<16} {row['input_kind']:<8} {row['framework']}{dense}  {row['description']}")
        print(f"{'':<16} defaults: {defaults}")
        print(f"{'':<16} source: {row['source']}")
    for err in errors:
        print(f"failed to load {err['source']}: {err['message']}")
        if args.check or args.verbose:
            print(err["traceback"].rstrip())
    if args.check:
        print(f"checked {len(rows)} model(s): " + (f"{len(errors)} problem(s)" if errors else "all build and run"))
    return 1 if args.check and errors else 0


def run_train(args: argparse.Namespace) -> int:
    """Train a model, save it (also after Ctrl-C) and print its test metrics."""
    # Outputs first, before the engine is even imported: a bad --out must not cost a training run.
    check_outputs([args.out, args.report], [args.scene, args.labels])
    from hsiviewer import open_scene
    from hsiviewer.cli.progress_bar import ProgressBar
    from hsiviewer.engine.bundle import save_model
    from hsiviewer.engine.device import resolve_device
    from hsiviewer.engine.training import TrainConfig, check_config, check_labels, train_model
    from hsiviewer.models.plugins import default_registry
    from hsiviewer.progress import CancelToken

    registry = default_registry()
    spec = registry.get(args.model)
    hyper = parse_overrides(spec, args.overrides)
    config = TrainConfig(**_config_kwargs(args, hyper))
    check_config(config)
    device = resolve_device(args.device)
    regions = None
    if args.labels and Path(args.labels).suffix.lower() in REGION_SUFFIXES:
        from hsiviewer.regions.vector import read_regions

        regions = read_regions(args.labels, args.class_field)
        scene = open_scene(args.scene, variable=args.variable)
    else:
        scene = open_scene(args.scene, labels=args.labels, variable=args.variable)
    if scene.labels is None and regions is None:
        raise TrainingError("has no ground truth; give one with --labels", args.scene)
    if args.split == "regions" and regions is None:
        raise TrainingError(
            "--split regions needs training regions: --labels REGIONS.gpkg (or .shp, .geojson)", args.scene
        )
    if regions is None:
        assert scene.labels is not None  # checked above: without regions the scene has labels
        check_labels(scene.labels, args.labels or args.scene)
    mask = mask_from_args(args, scene)
    token = CancelToken()
    bar = ProgressBar()
    start = time.perf_counter()
    try:
        with cancel_on_sigint(token):
            model = train_model(
                scene, config, registry=registry, progress=bar, cancel=token, regions=regions, mask=mask
            )
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    for note in getattr(regions, "notes", []):  # repaired polygons, a CRS taken from the scene
        print(f"note: {args.labels}: {note}", file=sys.stderr)
    save_model(model, args.out)
    summary = training_summary(model, scene.shape[:2], seconds, str(device))
    if summary["cancelled"]:
        print(f"training stopped by Ctrl-C; the best model so far was saved to {args.out}")
    else:
        print(f"model saved to {args.out}")
    print(format_summary(summary))
    if args.report:
        from hsiviewer.io.atomic import write_text_atomic

        write_text_atomic(args.report, dumps(summary, indent=2))
    return 0


def run_predict(args: argparse.Namespace) -> int:
    """Classify a scene block by block, writing the class map (and the confidence) as it goes."""
    from hsiviewer import open_scene
    from hsiviewer.cli.progress_bar import ProgressBar
    from hsiviewer.engine.bundle import load_model
    from hsiviewer.engine.streaming import predict_to_file
    from hsiviewer.progress import CancelToken

    check_outputs([args.out, args.confidence], [args.scene, args.model])
    if args.batch_size < 1:
        raise HsiError(f"--batch-size must be at least 1, got {args.batch_size}")
    from hsiviewer.engine.device import resolve_device

    resolve_device(args.device)
    model = load_model(args.model)
    scene = open_scene(args.scene, variable=args.variable)
    mask = mask_from_args(args, scene)
    token = CancelToken()
    bar = ProgressBar()
    try:
        with cancel_on_sigint(token):
            result = predict_to_file(
                model,
                scene,
                args.out,
                args.confidence,
                method=args.method,
                device=args.device,
                batch_size=args.batch_size,
                tile_rows=args.tile_rows,
                progress=bar,
                cancel=token,
                keep_partial=args.keep_partial,
                mask=mask,
            )
    finally:
        bar.close()
    if result.cancelled:
        kept = f"the {result.rows_done} rows finished were written" if result.path else "nothing was written"
        print(f"prediction stopped by Ctrl-C; {kept}", file=sys.stderr)
        return 130
    n_pixels = scene.n_rows * scene.n_cols
    rate = n_pixels / result.seconds if result.seconds > 0 else float("inf")
    print(f"class map written to {args.out}" + (f", confidence to {args.confidence}" if args.confidence else ""))
    print(f"method {result.method}: {n_pixels} pixels in {result.seconds:.2f} s ({rate:,.0f} pixels/s)")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Compare a class map with ground truth and print OA, AA, kappa and the per-class table."""
    from hsiviewer import open_labels
    from hsiviewer.processing.metrics import evaluate_maps

    class_map, _ = open_labels(args.map)
    labels, classes = open_labels(args.labels)
    if class_map.shape != labels.shape:
        raise HsiError(
            f"the class map is {class_map.shape[0]} x {class_map.shape[1]} but the ground truth "
            f"is {labels.shape[0]} x {labels.shape[1]}",
            args.map,
        )
    if not np.any(labels > 0):
        raise HsiError("the ground truth has no labelled pixels (every value is 0); nothing to evaluate", args.labels)
    mask = None
    if args.model:
        mask = _test_mask(args.model, labels.shape)
        if not np.any(mask & (labels > 0)):
            raise HsiError(
                "none of this model's test pixels is labelled in the ground truth; "
                "is it the ground truth the model was trained on?",
                args.labels,
            )
    report = evaluate_maps(class_map, labels, classes, mask=mask)
    if args.json:
        print(dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


# --- helpers ------------------------------------------------------------------------------------
def parse_overrides(spec, items: list[str]) -> dict:
    """``["depth=3", "dropout=0.2"]`` -> ``{"depth": 3, "dropout": 0.2}``, typed by the spec's defaults."""
    hyper = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise TrainingError(f"--set expects KEY=VALUE, got '{item}'")
        hyper[key.strip()] = value.strip()
    return spec.coerce(hyper) if hyper else {}


def _config_kwargs(args: argparse.Namespace, hyper: dict) -> dict:
    kwargs = dict(
        model=args.model,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_schedule=args.lr_schedule,
        split=args.split,
        pca_fit=args.pca_fit,
        val_fraction=args.val_fraction,
        seed=args.seed,
        device=args.device,
        hyper=hyper,
    )
    if args.epochs is not None:
        kwargs["epochs"] = args.epochs
    if args.train_per_class is not None:
        kwargs["train_per_class"] = args.train_per_class
    elif args.train_fraction is not None:
        kwargs["train_fraction"] = args.train_fraction
    elif args.split == "regions":
        kwargs["train_fraction"] = 0.5  # a hand-labelled scene has few regions: half of them to test
    return kwargs


def training_summary(model, shape: tuple[int, int], seconds: float, device: str) -> dict:
    """The figures ``train`` prints and writes to ``--report`` (the leakage figure is the engine's)."""
    metrics = dict(model.metrics or {})
    split = model.split
    summary = {
        "model": model.spec_name,
        "hyper": model.hyper,
        "seed": model.seed,
        "device": device,
        "seconds": round(seconds, 2),
        "cancelled": bool(metrics.get("cancelled")),
        "epochs_run": len(model.history or []),
        **metrics,
    }
    if split is not None:
        summary.update(
            split=split.method, n_train=int(len(split.train)), n_test=int(len(split.test)), n_val=int(len(split.val))
        )
    return summary


def format_summary(summary: dict) -> str:
    """A few lines of text: the split, the time and the test metrics."""
    lines = []
    if "n_train" in summary:
        share = summary["leakage"] / summary["n_test"] if summary["n_test"] else 0.0
        lines.append(
            f"split {summary['split']}: {summary['n_train']} training, {summary['n_val']} validation, "
            f"{summary['n_test']} test pixels; {summary['leakage']} test pixels ({share:.1%}) lie "
            f"inside a training patch"
        )
    if summary.get("nonfinite_pixels"):
        lines.append(
            f"{summary['nonfinite_pixels']} pixels hold NaN or infinite values "
            f"({summary.get('nonfinite_labelled', 0)} of them labelled): treated as nodata, "
            "not trained or tested on"
        )
    lines.append(f"{summary['epochs_run']} epochs in {summary['seconds']:.1f} s on {summary['device']}")
    if "regions" in summary:
        from hsiviewer.processing.splits import region_split_lines

        lines.extend(region_split_lines(summary["regions"]))
    if "oa" in summary:
        lines.append(format_report(summary))
    return "\n".join(lines)


def format_report(report: dict) -> str:
    """OA, AA, kappa and a per-class table from a :func:`hsiviewer.processing.metrics.classification_report`."""
    lines = [
        f"OA {report['oa']:.2%}   AA {report['aa']:.2%}   Kappa {report['kappa']:.4f}",
        f"{'id':>4}  {'class':<30} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}",
    ]
    for row in report.get("per_class", []):
        lines.append(
            f"{row['id']:>4}  {str(row['name'])[:30]:<30} {row['precision']:>9.3f} "
            f"{row['recall']:>7.3f} {row['f1']:>6.3f} {row['support']:>8}"
        )
    return "\n".join(lines)


def _kind(kind) -> str:
    return getattr(kind, "value", str(kind))


def _test_mask(model_path, shape) -> np.ndarray:
    """(rows, cols) bool: the test pixels of the split saved in a model file."""
    from hsiviewer.engine.bundle import read_split

    split = read_split(model_path)
    if split is None:
        raise ModelFileError("holds no train/test split to restrict the evaluation to", model_path)
    try:
        return split.test_mask(shape)
    except ValueError:
        raise ModelFileError(f"its split does not fit a {shape[0]} x {shape[1]} ground truth", model_path) from None
