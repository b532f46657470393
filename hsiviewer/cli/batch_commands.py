"""Batch commands: ``predict-batch`` classifies many scenes on a Dask cluster."""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path

from hsiviewer.cli.model_commands import DEVICES, add_tile_rows, cancel_on_sigint
from hsiviewer.errors import HsiError

EXIT_FAILED = 1
EXIT_CANCELLED = 130


def add_parsers(sub) -> None:
    """Add ``predict-batch`` to the command line."""
    p = sub.add_parser(
        "predict-batch",
        help="classify many scenes with a trained model on a Dask cluster",
        description="Classify many scenes, each into <out-dir>/<name>.tif (as `hsiviewer predict` writes it), on "
        "the worker processes of this machine or on a Dask cluster. A manifest.json in the output "
        "folder records each scene; a second run skips the scenes already done with the same model.",
    )
    p.add_argument("scenes", nargs="*", help="scene files or glob patterns (quoted: 'flights/*.hdr')")
    p.add_argument(
        "--list",
        dest="list_file",
        metavar="FILE",
        help="a text file of scene paths, one a line (relative paths from the file's folder; # comments)",
    )
    p.add_argument("--model", required=True, help="model file written by `hsiviewer train`")
    p.add_argument("--out-dir", required=True, help="folder for the class maps and manifest.json (created)")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (the scenes' paths must be the same on every worker)",
    )
    where.add_argument(
        "--workers", type=int, metavar="N", help="worker processes of a local cluster (default: one per CPU core)"
    )
    p.add_argument("--confidence", action="store_true", help="also write <name>_confidence.tif")
    p.add_argument("--method", choices=("auto", "patch", "dense"), default="auto")
    p.add_argument("--device", choices=DEVICES, default="auto", help="on each worker; auto takes its GPU if any")
    p.add_argument("--batch-size", type=int, default=256)
    add_tile_rows(p)
    p.add_argument(
        "--task-rows", type=int, metavar="N", help="rows per Dask task (default: about 262,144 pixels, in whole tiles)"
    )
    p.add_argument("--overwrite", action="store_true", help="redo scenes already done with this model")
    p.add_argument("--retries", type=int, default=2, help="reruns of a task that failed (default 2)")
    p.add_argument("--variable", help="for .mat / .npz scenes: the name of the variable holding the cube")
    p.set_defaults(handler=run_predict_batch)


def run_predict_batch(args: argparse.Namespace) -> int:
    """Classify every scene, print a summary; exit 1 when a scene failed, 130 when cancelled."""
    from hsiviewer.cli.progress_bar import ProgressBar
    from hsiviewer.engine.batch import predict_many
    from hsiviewer.progress import CancelToken, ProgressEvent

    scenes = expand_scenes(args.scenes, args.list_file)
    out_dir = Path(args.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HsiError(f"cannot create the output folder ({exc.strerror})", out_dir) from exc
    client = _connect(args.scheduler) if args.scheduler else None
    token = CancelToken()
    bar = ProgressBar(log_stages=("batch",))
    try:
        with cancel_on_sigint(token):
            manifest = predict_many(
                args.model,
                scenes,
                out_dir,
                client=client,
                n_workers=args.workers,
                confidence=args.confidence,
                method=args.method,
                device=args.device,
                batch_size=args.batch_size,
                tile_rows=args.tile_rows,
                block_rows=args.task_rows,
                overwrite=args.overwrite,
                variable=args.variable,
                retries=args.retries,
                progress=bar,
                cancel=token,
                log=lambda text: bar(ProgressEvent("batch", 0, 0, text)),
            )
    finally:
        bar.close()
        if client is not None:
            client.close()
    return summarise(manifest, scenes, out_dir)


def expand_scenes(patterns: list[str], list_file: str | None) -> list[Path]:
    """Scene paths from arguments (globs expanded) and a list file, in order, without duplicates.

    Raises
    ------
    HsiError
        When a pattern matches nothing, the list cannot be read, no scene is given, or two scenes
        would write the same output name.
    """
    from hsiviewer.engine.batch import output_paths

    items: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern))
            if not matches:
                raise HsiError("matches no file", pattern)
            items += [Path(m) for m in matches]
        else:
            items.append(Path(pattern))
    if list_file:
        items += _read_list(Path(list_file))
    if not items:
        raise HsiError("no scenes given: name them, use a glob pattern or --list FILE")
    unique = list(dict.fromkeys(p.resolve() for p in items))
    names: dict[str, Path] = {}
    for path in unique:
        name = output_paths(path, Path("."))[0].name
        if name in names:
            raise HsiError(f"and {names[name]} would both write {name}; rename one or run them separately", path)
        names[name] = path
    return unique


def _read_list(path: Path) -> list[Path]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise HsiError(f"cannot read the scene list ({exc.strerror})", path) from exc
    entries = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    return [p if p.is_absolute() else path.parent / p for p in map(Path, entries)]


def _connect(address: str):
    from distributed import Client

    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise HsiError(f"cannot reach the Dask scheduler ({exc})", address) from exc


def summarise(manifest: dict, scenes: list[Path], out_dir: Path) -> int:
    """Print one line per outcome and the failures; the exit code."""
    records = [manifest["scenes"].get(str(p)) for p in scenes]
    counts = {
        status: sum(1 for r in records if r and r["status"] == status)
        for status in ("done", "skipped", "failed", "cancelled")
    }
    print(
        f"{len(scenes)} scene(s): "
        + ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        + f"; manifest: {out_dir / 'manifest.json'}"
    )
    for record in records:
        if record and record["status"] == "failed":
            print(f"  failed: {record['reason']}", file=sys.stderr)
    if counts["cancelled"]:
        print("cancelled: the unfinished scenes left no file", file=sys.stderr)
        return EXIT_CANCELLED
    return EXIT_FAILED if counts["failed"] else 0
