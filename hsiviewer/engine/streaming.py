"""Streaming prediction: read, preprocess, predict and write a scene block of rows by block of rows.

:func:`~hsiviewer.engine.inference.predict_scene` holds the whole preprocessed cube and both output
maps; here only one block of rows is in memory at a time, so memory does not depend on the scene's
height. A block of rows ``[a, b)`` is read from the scene's file together with its patch halo (rows
``[a - S//2, b + S//2)``), put through the model's preprocessor, predicted, and its classes and
confidence are written to the output GeoTIFFs (:class:`~hsiviewer.io.tiled_export.ClassMapWriter`)
before the next block is read.

The classes are the same as :func:`predict_scene`'s, pixel for pixel: inside a block the predictor
runs on exactly the tiles of rows that :func:`predict_scene` uses (the same grid over the scene),
so every forward pass sees the same input of the same shape; and the halo rows hold the same
preprocessed values a whole-cube pass gives them (zeros above the first row and below the last, as
the padding of :func:`~hsiviewer.processing.patches.pad_cube`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from hsiviewer.data.scene import Scene
from hsiviewer.data.validity import valid_pixels
from hsiviewer.engine.bundle import TrainedModel, check_scene
from hsiviewer.engine.inference import METHODS, PredictedRows, _choose_method, _make_predictor, _tiles
from hsiviewer.errors import Cancelled
from hsiviewer.io.tiled_export import ClassMapWriter
from hsiviewer.progress import CancelToken, EtaClock, ProgressCallback, ProgressEvent, report

#: Pixels per block of rows read and written at once (a multiple of the predictor's tiles): large
#: enough that the halo rows read twice cost little, small enough to keep memory flat.
BLOCK_PIXELS = 131_072


@dataclass
class StreamResult:
    """What :func:`predict_to_file` did.

    Attributes
    ----------
    path, confidence_path : Path or None
        The files written; None when nothing was written (cancelled without ``keep_partial``).
    method, device : str
    seconds : float
    rows_done : int
        Rows predicted and written.
    cancelled : bool
    """

    path: Optional[Path]
    confidence_path: Optional[Path]
    method: str
    device: str
    seconds: float
    rows_done: int
    cancelled: bool


class BlockPredictor:
    """A model ready to predict any block of rows of a scene read from its file.

    Parameters
    ----------
    model : TrainedModel
    method : {"auto", "patch", "dense"}
    device : str
    batch_size : int
    confidence : bool
        Compute the confidence (scikit-learn models skip it otherwise).
    """

    def __init__(
        self,
        model: TrainedModel,
        method: str = "auto",
        device: str = "auto",
        batch_size: int = 256,
        confidence: bool = True,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        self.model = model
        self.method = _choose_method(model, method)
        self.predictor = _make_predictor(model, self.method, device, batch_size, confidence)
        self.halo = 0 if self.method == "spectrum" else int(model.hyper["patch_size"]) // 2
        dtype = np.uint8 if max(model.class_ids, default=0) <= 255 else np.uint16
        self.class_ids = np.asarray(model.class_ids, dtype)

    @property
    def device(self) -> str:
        return self.predictor.device_name

    def tile_rows(self, scene: Scene, tile_rows: Optional[int] = None) -> int:
        """The predictor's tile height for ``scene`` (``tile_rows`` when given)."""
        return max(1, int(tile_rows or self.predictor.default_tile_rows(scene.n_cols)))

    def blocks(
        self, scene: Scene, tile_rows: Optional[int] = None, block_rows: Optional[int] = None
    ) -> list[tuple[int, int]]:
        """Blocks of rows ``[a, b)`` covering the scene, each a whole number of predictor tiles."""
        t = self.tile_rows(scene, tile_rows)
        per_block = max(1, (block_rows or BLOCK_PIXELS // max(1, scene.n_cols)) // t)
        return _tiles(scene.n_rows, per_block * t)

    def predict_block(
        self,
        scene: Scene,
        a: int,
        b: int,
        tile_rows: Optional[int] = None,
        mask: Optional[np.ndarray] = None,
        cancel: Optional[Callable[[], bool]] = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Classes (label ids) and confidence of rows ``[a, b)``, read and preprocessed here.

        ``mask`` (the whole scene's (rows, cols) bool) leaves the pixels outside it unclassified (0), as
        :func:`~hsiviewer.engine.inference.predict_scene` does; their values still feed their neighbours'
        patches. ``cancel`` is asked before each tile of rows; when true,
        :class:`~hsiviewer.errors.Cancelled` is raised.
        """
        a0, b0 = max(0, a - self.halo), min(scene.n_rows, b + self.halo)
        raw = scene.read_subregion(slice(a0, b0), slice(None))
        valid = valid_pixels(raw, scene.nodata)
        cube = self.model.preprocessor.transform(raw)
        del raw
        cube[~valid] = 0.0  # as preprocess_scene: a nodata fill value must not leak into patches
        # The predictor pads the block by the halo with zeros; rows inside the scene come from the
        # block itself, so only the scene's own edges see the padding, as on the whole cube.
        self.predictor.prepare(cube)
        classes = np.zeros((b - a, scene.n_cols), self.class_ids.dtype)
        prob = np.full((b - a, scene.n_cols), np.nan, np.float32)
        t = self.tile_rows(scene, tile_rows)
        for ta in range((a // t) * t, b, t):
            if cancel is not None and cancel():
                raise Cancelled("cancelled")
            lo, hi = max(a, ta), min(b, ta + t)
            ok = valid[lo - a0 : hi - a0]
            if mask is not None:
                ok = ok & mask[lo:hi]
            index, p = self.predictor.predict_rows(lo - a0, hi - a0, ok)
            classes[lo - a : hi - a] = np.where(ok, self.class_ids[np.where(ok, index, 0)], 0)
            prob[lo - a : hi - a] = np.where(ok, p, np.nan)
        return classes, prob


def predict_to_file(
    model: TrainedModel,
    scene: Scene,
    out: str | Path,
    confidence_out: str | Path | None = None,
    method: str = "auto",
    device: str = "auto",
    batch_size: int = 256,
    tile_rows: Optional[int] = None,
    block_rows: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    keep_partial: bool = False,
    overviews: bool = True,
    mask: Optional[np.ndarray] = None,
) -> StreamResult:
    """Classify ``scene`` block by block and write the class map (and confidence) GeoTIFFs as it goes.

    Parameters
    ----------
    model : TrainedModel
    scene : Scene
        Read lazily, one block of rows (plus the patch halo) at a time.
    out : str or Path
        The class map GeoTIFF (as :func:`~hsiviewer.io.export.write_class_map` writes it, plus overviews).
    confidence_out : str or Path, optional
        The confidence GeoTIFF (as :func:`~hsiviewer.io.export.write_confidence_map`, plus overviews).
    method, device, batch_size
        As for :func:`~hsiviewer.engine.inference.predict_scene`.
    tile_rows : int, optional
        The predictor's tile height (its default gives the classes of ``predict_scene``'s default).
    block_rows : int, optional
        Rows read, predicted and written at once (rounded down to whole tiles; default about
        :data:`BLOCK_PIXELS` pixels). The unit of progress and cancel.
    progress : callable, optional
        Receives a ``"predict"`` event after each block; ``metrics["rows"]`` is a :class:`PredictedRows`.
    cancel : CancelToken, optional
        Checked before each block.
    keep_partial : bool
        On cancel, keep the files with the blocks finished so far (the rest nodata) instead of
        leaving nothing.
    overviews : bool
        Add internal overviews at the end.
    mask : ndarray (rows, cols) of bool, optional
        Pixels outside it get class 0 (and no confidence), as with ``predict_scene``.

    Returns
    -------
    StreamResult

    Raises
    ------
    ModelFileError
        When the scene does not have the model's band count.
    ExportError
        When an output cannot be written (nothing is left behind).
    """
    start = time.perf_counter()
    check_scene(model, scene)
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape != scene.shape[:2]:
            raise ValueError(f"the mask is {mask.shape} but the scene is {scene.n_rows} x {scene.n_cols}")
    runner = BlockPredictor(model, method, device, batch_size, confidence_out is not None)
    blocks = runner.blocks(scene, tile_rows, block_rows)
    writer = ClassMapWriter(
        out, scene.shape[:2], model.classes, model.class_ids, confidence_out, like=scene, overviews=overviews
    )
    clock = EtaClock(len(blocks))
    cancelled = False
    try:
        for done, (a, b) in enumerate(blocks):
            if cancel is not None and cancel.cancelled:
                cancelled = True
                break
            classes, prob = runner.predict_block(scene, a, b, tile_rows, mask)
            writer.write_rows(a, classes, prob)
            rows = PredictedRows(a, b, classes, prob if confidence_out is not None else None)
            report(
                progress,
                ProgressEvent(
                    "predict",
                    done + 1,
                    len(blocks),
                    f"rows {a}-{b - 1} of {scene.n_rows}",
                    clock.eta(done + 1),
                    {"method": runner.method, "rows": rows},
                ),
            )
        if cancelled and not keep_partial:
            writer.abort()
            return StreamResult(
                None, None, runner.method, runner.device, time.perf_counter() - start, writer.rows_written, True
            )
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    return StreamResult(
        Path(out),
        Path(confidence_out) if confidence_out is not None else None,
        runner.method,
        runner.device,
        time.perf_counter() - start,
        writer.rows_written,
        cancelled,
    )
