"""Batch prediction of many scenes on a Dask cluster (``distributed``).

A task is one block of rows of one scene (the blocks of :mod:`hsiviewer.engine.streaming`, with
the patch halo), so a huge scene spreads over the cluster as well as many small ones. The model
file's bytes are scattered to every worker once (``broadcast=True``); each worker process keeps
the loaded model keyed by the file's SHA-256 (:mod:`hsiviewer.engine.batch_worker`), reads its
blocks from the scene files itself (the paths must be visible to every worker: a shared file
system) and returns the block's classes and confidence.

The client writes the returned blocks with windowed writes into a temporary file per scene
(:class:`~hsiviewer.io.tiled_export.ClassMapWriter`) and renames it into place when the scene is
complete. Writing on the client rather than on the workers: a GeoTIFF has one writer (GDAL does
not share a file between processes), the output folder need only be visible to the client, and a
worker that dies cannot leave a half-written file. The blocks are small beside the scenes (one
byte and one float per pixel against hundreds of bands).

Faults: a worker that dies has its blocks rerun elsewhere by Dask (and a block that raises is
retried ``retries`` times); a scene that cannot be read, or whose band count does not fit the
model, is marked ``failed`` with a one-line reason and the others go on; a cancel (or Ctrl-C)
cancels the futures and removes the temporary files. ``manifest.json`` in the output folder
(written atomically after every scene) lets a second run skip the scenes already done with the
same model.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from hsiviewer.engine.batch_manifest import Manifest, SceneRecord, is_done
from hsiviewer.engine.batch_worker import predict_block_task
from hsiviewer.engine.bundle import TrainedModel, load_model
from hsiviewer.engine.streaming import BlockPredictor
from hsiviewer.errors import Cancelled, HsiError, SceneReadError
from hsiviewer.io.tiled_export import ClassMapWriter
from hsiviewer.progress import CancelToken, EtaClock, ProgressCallback, ProgressEvent, report

#: Pixels per task: large enough that Dask's per-task cost (about a millisecond) is lost in the
#: work, small enough that one scene spreads over several workers.
TASK_PIXELS = 262_144


def output_paths(scene_path: Path, out_dir: Path) -> tuple[Path, Path]:
    """The class map and confidence GeoTIFFs of a scene: ``<stem>.tif`` and ``<stem>_confidence.tif``."""
    stem = scene_path.name.split(".")[0] if scene_path.suffix.lower() != ".hdr" else scene_path.stem
    return out_dir / f"{stem}.tif", out_dir / f"{stem}_confidence.tif"


@dataclass
class _SceneRun:
    """One scene in flight: its blocks' futures, the writer (opened at the first block) and figures."""

    record: SceneRecord
    scene: Any
    blocks: list
    futures: dict = field(default_factory=dict)
    writer: Optional[ClassMapWriter] = None
    done: int = 0
    workers: set = field(default_factory=set)
    start: float = field(default_factory=time.perf_counter)


def predict_many(
    model: str | Path | TrainedModel,
    scenes: Sequence[str | Path],
    out_dir: str | Path,
    client: Any = None,
    n_workers: Optional[int] = None,
    confidence: bool = False,
    method: str = "auto",
    device: str = "auto",
    batch_size: int = 256,
    tile_rows: Optional[int] = None,
    block_rows: Optional[int] = None,
    overwrite: bool = False,
    variable: Optional[str] = None,
    retries: int = 2,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    log: Any = None,
) -> dict:
    """Classify many scenes on a Dask cluster and write one class map (and confidence) per scene.

    Parameters
    ----------
    model : str, Path or TrainedModel
        A model file (a loaded model must have been read from one: its bytes go to the workers).
    scenes : sequence of str or Path
        Scene files readable by every worker at the same path.
    out_dir : str or Path
        Where ``<stem>.tif``, ``<stem>_confidence.tif`` and ``manifest.json`` go (must exist).
    client : distributed.Client, optional
        An existing client; without one a :class:`distributed.LocalCluster` of ``n_workers``
        worker processes is started here and closed at the end.
    n_workers : int, optional
        Worker processes of the local cluster (default: one per CPU core).
    confidence : bool
        Also write the confidence maps.
    method, device, batch_size, tile_rows, block_rows
        As for :func:`~hsiviewer.engine.streaming.predict_to_file` (``device`` is resolved on each
        worker: ``"auto"`` takes the worker's GPU when it has one). ``block_rows`` is the task size
        (default about :data:`TASK_PIXELS` pixels).
    overwrite : bool
        Redo scenes that the manifest records as done with the same model.
    variable : str, optional
        For .mat / .npz scenes: the variable holding the cube.
    retries : int
        Times Dask reruns a block that raised (blocks of a worker that died are rerun anyway).
    progress : callable, optional
        Receives ``"predict"`` events (blocks done of all blocks).
    cancel : CancelToken, optional
        Stops the run: pending blocks are cancelled, unfinished scenes leave no file.
    log : callable, optional
        Receives one-line messages (the dashboard link, each scene finished or failed).

    Returns
    -------
    dict
        The manifest: ``{"model", "model_sha256", "scenes": {path: record}}``; each record has
        ``status`` (``"done"``, ``"skipped"``, ``"failed"`` or ``"cancelled"``), ``reason``,
        ``seconds``, ``pixels_per_s``, ``workers``, ``model_sha256`` and the output paths.

    Raises
    ------
    ModelFileError, PluginError
        When the model file cannot be read, or ``method`` does not fit it.
    """
    source = model.source_path if isinstance(model, TrainedModel) else model
    if source is None:
        raise ValueError("the model has no file: batch prediction records the model file in its manifest")
    model_path = Path(source)
    trained = model if isinstance(model, TrainedModel) else load_model(model_path)
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise HsiError("the output folder does not exist", out_dir)
    payload = model_path.read_bytes()
    sha = hashlib.sha256(payload).hexdigest()
    # Cuts every scene into blocks on the predictor's tile grid (checks ``method`` too).
    planner = BlockPredictor(trained, method, "cpu", batch_size, confidence)
    manifest = Manifest.load(out_dir, model_path, sha)
    runs = _plan(
        trained, planner, scenes, out_dir, manifest, sha, confidence, overwrite, variable, block_rows, tile_rows, log
    )
    if not runs:
        return manifest.to_dict()
    owned = None
    if client is None:
        client, owned = _local_client(n_workers)
    try:
        _say(log, _dashboard_line(client))
        model_future = client.scatter(payload, broadcast=True, hash=False)
        _submit(client, runs, model_future, sha, method, device, batch_size, confidence, tile_rows, variable, retries)
        _collect(client, runs, trained, manifest, confidence, progress, cancel, log)
    finally:
        if owned is not None:
            client.close()
            owned.close()
    return manifest.to_dict()


# --- planning ------------------------------------------------------------------------------
def _plan(
    model, planner, scenes, out_dir, manifest, sha, confidence, overwrite, variable, block_rows, tile_rows, log
) -> list[_SceneRun]:
    """Open every scene here (header only), skip the ones done, fail the unreadable, cut the rest."""
    from hsiviewer import open_scene

    runs = []
    for path in (Path(p).resolve() for p in scenes):
        out, conf = output_paths(path, out_dir)
        record = SceneRecord(str(path), str(out), str(conf) if confidence else None, sha)
        if path in (out.resolve(), conf.resolve()):
            manifest.put(record.failed(f"{path}: its class map would overwrite it; choose another output folder"))
            _say(log, f"failed {path.name}: it is in the output folder under the output's name")
            continue
        if not overwrite and is_done(manifest.get(str(path)), sha, out, conf if confidence else None):
            manifest.put(manifest.get(str(path)).skipped())
            _say(log, f"skipped {path.name}: done before with this model")
            continue
        try:
            scene = open_scene(path, variable=variable)
            if scene.n_bands != model.n_bands:
                raise SceneReadError(f"has {scene.n_bands} bands but the model expects {model.n_bands}", path)
        except HsiError as exc:
            manifest.put(record.failed(str(exc)))
            _say(log, f"failed {path.name}: {exc}")
            continue
        except Exception as exc:  # any reader failure is this scene's, not the batch's
            manifest.put(record.failed(f"{path}: {type(exc).__name__}: {exc}"))
            _say(log, f"failed {path.name}: {exc}")
            continue
        record.pixels = scene.n_rows * scene.n_cols
        rows = block_rows or max(1, TASK_PIXELS // max(1, scene.n_cols))
        runs.append(_SceneRun(record, scene, planner.blocks(scene, tile_rows, rows)))
    manifest.save()
    return runs


def _submit(
    client, runs, model_future, sha, method, device, batch_size, confidence, tile_rows, variable, retries
) -> None:
    for priority, run in enumerate(runs):
        for a, b in run.blocks:
            future = client.submit(
                predict_block_task,
                model_future,
                sha,
                run.record.path,
                variable,
                a,
                b,
                method,
                device,
                batch_size,
                confidence,
                tile_rows,
                retries=retries,
                pure=False,
                priority=-priority,
            )  # earlier scenes first: few files open at once
            run.futures[future] = (a, b)


# --- collecting ----------------------------------------------------------------------------
def _collect(client, runs, model, manifest, confidence, progress, cancel, log) -> None:
    from distributed import as_completed

    owner = {f: run for run in runs for f in run.futures}
    total = len(owner)
    clock = EtaClock(total)
    finished = 0
    completed = as_completed(list(owner))
    try:
        while not completed.is_empty():
            if cancel is not None and cancel.cancelled:
                raise Cancelled("cancelled by the user")
            batch = completed.next_batch(block=False)
            if not batch:
                time.sleep(0.02)
                continue
            for future in batch:
                run = owner.pop(future)
                finished += 1
                _take(client, run, future, model, manifest, confidence, log)
                report(progress, ProgressEvent("predict", finished, total, _progress_text(runs), clock.eta(finished)))
    except BaseException as exc:  # Ctrl-C too: no scene may be left half-written
        client.cancel(list(owner))
        for run in runs:
            if run.record.status == "running":
                _abort(run)
                manifest.put(run.record.cancelled())
        manifest.save()
        if not (isinstance(exc, Cancelled) and cancel is not None and cancel.cancelled):
            raise
        _say(log, "cancelled: the scenes not finished left no file")


def _take(client, run: _SceneRun, future, model, manifest, confidence, log) -> None:
    """Write one finished block, or fail its scene; finish the scene at its last block."""
    run.futures.pop(future, None)
    if run.record.status != "running":
        return  # a block of a scene that already failed
    if future.status != "finished":
        exc = future.exception()
        client.cancel(list(run.futures))
        _abort(run)
        manifest.put(run.record.failed(_one_line(exc)))
        manifest.save()
        _say(log, f"failed {Path(run.record.path).name}: {_one_line(exc)}")
        return
    result = future.result()
    try:
        if run.writer is None:
            run.writer = ClassMapWriter(
                run.record.output,
                run.scene.shape[:2],
                model.classes,
                model.class_ids,
                run.record.confidence,
                like=run.scene,
            )
        run.writer.write_rows(result["start"], result["classes"], result["confidence"] if confidence else None)
        run.workers.add(result["worker"])
        run.done += 1
        if run.done == len(run.blocks):
            run.writer.finish()
            run.writer = None
            manifest.put(run.record.finished(time.perf_counter() - run.start, sorted(run.workers)))
            manifest.save()
            _say(log, f"done {Path(run.record.path).name} -> {run.record.output}")
    except HsiError as exc:
        client.cancel(list(run.futures))
        _abort(run)
        manifest.put(run.record.failed(str(exc)))
        manifest.save()
        _say(log, f"failed {Path(run.record.path).name}: {exc}")


def _abort(run: _SceneRun) -> None:
    if run.writer is not None:
        run.writer.abort()
        run.writer = None


# --- helpers -------------------------------------------------------------------------------
def _local_client(n_workers: Optional[int]):
    """A LocalCluster of worker processes (one thread each) and its client."""
    import os

    from distributed import Client, LocalCluster

    n = max(1, int(n_workers or os.cpu_count() or 1))
    threads = max(1, (os.cpu_count() or 1) // n)
    # Each worker process gets its share of the cores for torch and BLAS, so that N workers do
    # not start N times the machine's threads.
    env = {name: str(threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    # Quiet logs: the nanny's and scheduler's notes on stopping are noise on a terminal; what went
    # wrong with a scene is in its manifest record. A free port for the scheduler's web server.
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        env=env,
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )
    return Client(cluster), cluster


def _has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def _dashboard_line(client) -> str:
    try:
        link = client.dashboard_link
    except Exception:  # a scheduler without the dashboard service
        link = None
    if link and _has_bokeh():
        return f"Dask dashboard: {link}"
    return f"Dask scheduler {client.scheduler.address} (no dashboard: install bokeh for one)"


def _progress_text(runs) -> str:
    done = sum(r.record.status == "done" for r in runs)
    failed = sum(r.record.status == "failed" for r in runs)
    return f"{done}/{len(runs)} scenes done" + (f", {failed} failed" if failed else "")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if isinstance(exc, HsiError) else f"{type(exc).__name__}: {text}".rstrip(": ")


def _say(log, text: str) -> None:
    if log is not None:
        log(text)
