"""What a Dask worker runs for :func:`hsiviewer.engine.batch.predict_many`: one block of one scene.

The model arrives as the model file's bytes (scattered once to every worker); the loaded model
and its predictor are kept in this worker process, keyed by the file's SHA-256 and the settings,
so each worker loads a model once however many blocks it runs. Scenes are opened here, from their
paths, and the last few are kept open.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import OrderedDict
from pathlib import Path
from typing import Optional

#: Environment variable (tests only): seconds each block sleeps before it is predicted, so that a
#: test can kill a worker while blocks are still running.
TEST_DELAY_ENV = "HSIVIEWER_BATCH_TEST_DELAY_S"
#: Scenes each worker keeps open.
OPEN_SCENES = 4

_predictors: dict = {}
_scenes: OrderedDict[tuple, object] = OrderedDict()


def predict_block_task(
    model_bytes: bytes,
    sha: str,
    scene_path: str,
    variable: Optional[str],
    a: int,
    b: int,
    method: str,
    device: str,
    batch_size: int,
    confidence: bool,
    tile_rows: Optional[int],
) -> dict:
    """Classify rows ``[a, b)`` of the scene at ``scene_path``.

    Returns
    -------
    dict
        ``start``, ``classes`` (label ids), ``confidence`` (float32 or None), ``worker`` (this
        worker's address), ``seconds``.
    """
    start = time.perf_counter()
    delay = float(os.environ.get(TEST_DELAY_ENV, "0") or 0)
    if delay > 0:
        time.sleep(delay)
    runner = _predictor(model_bytes, sha, method, device, batch_size, confidence)
    scene = _scene(scene_path, variable)
    classes, prob = runner.predict_block(scene, a, b, tile_rows)
    return {
        "start": a,
        "classes": classes,
        "confidence": prob if confidence else None,
        "worker": _address(),
        "seconds": time.perf_counter() - start,
    }


def _predictor(model_bytes: bytes, sha: str, method: str, device: str, batch_size: int, confidence: bool):
    from hsiviewer.engine.bundle import load_model
    from hsiviewer.engine.streaming import BlockPredictor

    key = (sha, method, device, batch_size, confidence)
    if key not in _predictors:
        # load_model reads a file: the bytes go to a private temporary file for the moment it reads.
        with tempfile.TemporaryDirectory(prefix="hsiviewer-model-") as folder:
            path = Path(folder) / f"{sha[:16]}.pt"
            path.write_bytes(model_bytes)
            model = load_model(path)
        _predictors.clear()  # one model at a time: a new model replaces the old one
        _predictors[key] = BlockPredictor(model, method, device, batch_size, confidence)
    return _predictors[key]


def _scene(path: str, variable: Optional[str]):
    from hsiviewer import open_scene

    stat = os.stat(path)
    key = (path, variable, stat.st_size, stat.st_mtime_ns)
    if key in _scenes:
        _scenes.move_to_end(key)
        return _scenes[key]
    scene = open_scene(path, variable=variable)
    _scenes[key] = scene
    while len(_scenes) > OPEN_SCENES:
        _scenes.popitem(last=False)
    return scene


def _address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # run outside a worker (tests of the function itself)
        return "local"
