"""Inference: classify every pixel of a scene with a trained model.

Two paths give the same classes:

* ``"patch"`` cuts the S x S patch around every pixel (borders zero-padded, as in training) and runs
  the network on batches of patches — works for every architecture.
* ``"dense"`` runs the network's ``forward_dense`` on whole strips of rows, so the convolutions are
  shared between neighbouring patches instead of being recomputed for each; far faster, offered by
  plugins that declare ``dense=True``.

Predictions run in float32 on every device: mixed precision (bf16/fp16) would be faster on a GPU but
can flip the class of pixels whose two best scores are close, and a class map should not depend on
the hardware it was computed on.

The work is split into tiles of rows; after each tile a ``"predict"`` progress event is sent and the
cancel token is checked, so a cancelled prediction returns the rows finished so far.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from hsiviewer.data.scene import Scene
from hsiviewer.data.validity import valid_pixels
from hsiviewer.engine.bundle import TrainedModel, check_scene
from hsiviewer.engine.predictors import DensePredictor, PatchPredictor, SpectrumPredictor
from hsiviewer.errors import PluginError
from hsiviewer.progress import CancelToken, EtaClock, ProgressCallback, ProgressEvent, report

METHODS = ("auto", "patch", "dense")
#: Rows of the raw cube read at once while preprocessing.
READ_BLOCK_PIXELS = 262_144


@dataclass
class PredictedRows:
    """Rows ``[start, stop)`` of a prediction, as carried by a ``"predict"`` progress event.

    :func:`predict_scene` sends the rows finished so far (``start`` 0; views into the maps being
    filled, final once sent) as ``metrics["finished"]``, so a viewer can show the map filling in
    even when it sees only some of the events; :func:`~hsiviewer.engine.streaming.predict_to_file`
    sends each block as ``metrics["rows"]``.

    Attributes
    ----------
    start, stop : int
    class_map : ndarray (stop - start, cols)
        Label ids, 0 on nodata pixels.
    confidence : ndarray (stop - start, cols) of float32 or None
        NaN on nodata pixels.
    """

    start: int
    stop: int
    class_map: np.ndarray
    confidence: Optional[np.ndarray]


@dataclass
class Prediction:
    """The result of :func:`predict_scene`.

    Attributes
    ----------
    class_map : ndarray (rows, cols) of uint8 or uint16
        Label ids; 0 where nothing was predicted (nodata pixels, rows not reached after a cancel).
    confidence : ndarray (rows, cols) of float32 or None
        The probability of the predicted class; NaN where nothing was predicted.
    completed : ndarray (rows, cols) of bool
        True on the rows that were finished.
    method : str
        ``"patch"``, ``"dense"`` or ``"spectrum"`` (scikit-learn models, centre pixels).
    seconds : float
        Wall time, preprocessing included.
    cancelled : bool
        True when the cancel token stopped the work before the last tile.
    device : str
        The device the network ran on.
    """

    class_map: np.ndarray
    confidence: Optional[np.ndarray]
    completed: np.ndarray
    method: str
    seconds: float
    cancelled: bool = False
    device: str = "cpu"


def predict_scene(
    model: TrainedModel,
    scene: Scene,
    method: str = "auto",
    device: str = "auto",
    batch_size: int = 256,
    tile_rows: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    confidence: bool = True,
    mask: Optional[np.ndarray] = None,
) -> Prediction:
    """Classify every pixel of ``scene``, borders included.

    Parameters
    ----------
    model : TrainedModel
    scene : Scene
        Must have the band count the model was trained on.
    method : {"auto", "patch", "dense"}
        ``"auto"`` takes the dense path when the model's plugin declares one, else per patch.
        scikit-learn models classify centre-pixel spectra whatever the method (``"dense"`` is refused).
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"mps"``, or a torch device string.
    batch_size : int
        Patches per forward pass on the per-patch path, spectra per call for scikit-learn.
    tile_rows : int, optional
        Rows per tile (progress/cancel granularity; strip height on the dense path).
    progress : callable, optional
        Receives a ``"predict"`` :class:`~hsiviewer.progress.ProgressEvent` after each tile.
    cancel : CancelToken, optional
        Checked before each tile.
    confidence : bool
        Also return the probability of the predicted class.
    mask : ndarray (rows, cols) of bool, optional
        Classify only these pixels (e.g. the test pixels); the others get 0 like nodata pixels.
        The per-patch and scikit-learn paths then skip the work for them.

    Returns
    -------
    Prediction

    Raises
    ------
    ModelFileError
        When the scene does not fit the model (band count).
    PluginError
        When ``method="dense"`` is asked of a model whose plugin has no dense path.
    """
    start = time.perf_counter()
    check_scene(model, scene)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    method = _choose_method(model, method)
    predictor = _make_predictor(model, method, device, batch_size, confidence)
    cube, valid = _preprocess_with_mask(model, scene)
    if mask is not None:
        valid &= _check_mask(mask, scene)
    out = _Outputs(scene.shape[:2], model.class_ids, confidence)
    tiles = _tiles(scene.n_rows, tile_rows or predictor.default_tile_rows(scene.n_cols))
    predictor.prepare(cube)
    clock = EtaClock(len(tiles))
    cancelled = False
    for done, (a, b) in enumerate(tiles):
        if cancel is not None and cancel.cancelled:
            cancelled = True
            break
        index, prob = predictor.predict_rows(a, b, valid[a:b])
        out.store(a, b, index, prob, valid[a:b])
        finished = PredictedRows(0, b, out.class_map[:b], None if out.confidence is None else out.confidence[:b])
        report(
            progress,
            ProgressEvent(
                "predict",
                done + 1,
                len(tiles),
                f"rows {a}-{b - 1} of {scene.n_rows}",
                clock.eta(done + 1),
                {"method": method, "finished": finished},
            ),
        )
    return Prediction(
        out.class_map,
        out.confidence,
        out.completed,
        method,
        time.perf_counter() - start,
        cancelled,
        predictor.device_name,
    )


def dense_available(model: TrainedModel) -> bool:
    """True when the model's plugin declares an exact ``forward_dense`` (:attr:`TrainedModel.dense`)."""
    return model.framework == "torch" and model.dense and hasattr(model.net, "forward_dense")


def preprocess_scene(model: TrainedModel, scene: Scene) -> np.ndarray:
    """The whole scene through the model's preprocessor: float32 (rows, cols, k).

    The raw cube is read in blocks of rows, so only the (smaller) preprocessed cube is held whole.
    Nodata pixels, and pixels with a NaN or infinite band, are set to 0 like the padding outside
    the scene, so that their values do not leak into the patches of their neighbours.
    """
    return _preprocess_with_mask(model, scene)[0]


def _preprocess_with_mask(model: TrainedModel, scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """:func:`preprocess_scene` and the (rows, cols) valid mask, from one read of the cube."""
    rows, cols = scene.shape[:2]
    k = int(model.preprocessor.n_outputs)
    cube = np.empty((rows, cols, k), np.float32)
    valid = np.empty((rows, cols), bool)
    step = max(1, READ_BLOCK_PIXELS // max(1, cols))
    for a in range(0, rows, step):
        block = scene.read_subregion(slice(a, a + step), slice(None))
        valid[a : a + step] = valid_pixels(block, scene.nodata)
        cube[a : a + step] = model.preprocessor.transform(block)
    cube[~valid] = 0.0
    return cube, valid


def _check_mask(mask: np.ndarray, scene: Scene) -> np.ndarray:
    mask = np.asarray(mask, bool)
    if mask.shape != scene.shape[:2]:
        raise ValueError(f"the mask is {mask.shape} but the scene is {scene.n_rows} x {scene.n_cols}")
    return mask


def _choose_method(model: TrainedModel, method: str) -> str:
    if method == "dense" and not dense_available(model):
        raise PluginError(f"model '{model.spec_name}' has no dense path; use the per-patch method")
    if model.framework == "sklearn":
        return "spectrum"
    if method == "auto":
        return "dense" if dense_available(model) else "patch"
    return method


def _make_predictor(
    model: TrainedModel, method: str, device: str, batch_size: int, confidence: bool
) -> SpectrumPredictor | DensePredictor | PatchPredictor:
    if method == "spectrum":
        return SpectrumPredictor(model, batch_size, confidence)
    if method == "dense":
        return DensePredictor(model, device)
    return PatchPredictor(model, device, batch_size)


def _tiles(n_rows: int, tile_rows: int) -> list[tuple[int, int]]:
    tile_rows = max(1, int(tile_rows))
    return [(a, min(n_rows, a + tile_rows)) for a in range(0, n_rows, tile_rows)]


class _Outputs:
    """The class map, confidence and completed mask being filled tile by tile."""

    def __init__(self, shape: tuple[int, int], class_ids, confidence: bool) -> None:
        dtype = np.uint8 if max(class_ids, default=0) <= 255 else np.uint16
        self.class_ids = np.asarray(class_ids, dtype)
        self.class_map = np.zeros(shape, dtype)
        self.confidence = np.full(shape, np.nan, np.float32) if confidence else None
        self.completed = np.zeros(shape, bool)

    def store(self, a: int, b: int, index: np.ndarray, prob: np.ndarray, valid: np.ndarray) -> None:
        """Store rows [a, b): ``index`` (output indices) and ``prob`` (their probabilities), (b-a, cols)."""
        self.class_map[a:b] = np.where(valid, self.class_ids[np.where(valid, index, 0)], 0)
        if self.confidence is not None:
            self.confidence[a:b] = np.where(valid, prob, np.nan)
        self.completed[a:b] = True
