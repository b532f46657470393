"""The three prediction paths behind :func:`hsiviewer.engine.inference.predict_scene`.

Each predictor is set up once (:meth:`prepare` with the preprocessed cube) and then answers
:meth:`predict_rows` for a tile of rows [a, b): two (b - a, cols) arrays, the output index of the
winning class and its probability. Pixels outside ``valid`` may hold anything; the caller masks them.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import numpy as np
import torch

from hsiviewer.engine.batches import to_model_input
from hsiviewer.engine.bundle import TrainedModel
from hsiviewer.engine.device import resolve_device
from hsiviewer.models.plugins import InputKind
from hsiviewer.processing.patches import pad_cube

#: Pixels per tile on the per-patch and spectrum paths (several batches, so progress and cancel
#: stay responsive).
PATCH_TILE_PIXELS = 4096
#: Pixels per strip on the dense path: bounds the activations held at once.
DENSE_TILE_PIXELS = 8192


def rows_for(pixels: int, n_cols: int) -> int:
    """Rows per tile so that a tile holds about ``pixels`` pixels."""
    return max(1, math.ceil(pixels / max(1, n_cols)))


def _resolve(device: str) -> torch.device:
    return resolve_device(device)


@contextlib.contextmanager
def exact_fp32(device: torch.device) -> Iterator[None]:
    """Full float32 convolutions and matrix products on CUDA while predicting.

    PyTorch lets cuDNN run float32 convolutions in TF32 by default (10-bit mantissa): faster, but
    enough to flip the class of pixels whose two best scores are close. Restored afterwards.
    """
    if device.type != "cuda":
        yield
        return
    # torch.backends.cudnn.conv exists at run time (PyTorch >= 2.9) but not in torch's stubs
    conv: object = getattr(torch.backends.cudnn, "conv", None)
    settings: list[tuple[object, str, object]] = [
        (conv, "fp32_precision", "ieee"),
        (torch.backends.cuda.matmul, "fp32_precision", "ieee"),
    ]
    if not hasattr(conv, "fp32_precision"):  # PyTorch before 2.9
        settings = [(torch.backends.cudnn, "allow_tf32", False), (torch.backends.cuda.matmul, "allow_tf32", False)]
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in settings]
    try:
        for obj, name, value in settings:
            setattr(obj, name, value)
        yield
    finally:
        for obj, name, value in saved:
            setattr(obj, name, value)


def _best(logits: torch.Tensor, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Softmax in float32, then (argmax, max probability) as numpy arrays."""
    prob, index = torch.softmax(logits.float(), dim=dim).max(dim=dim)
    return index.cpu().numpy(), prob.cpu().numpy()


class PatchPredictor:
    """Cuts the S x S patch around each valid pixel and runs the network on batches of patches."""

    def __init__(self, model: TrainedModel, device: str, batch_size: int) -> None:
        self.device = _resolve(device)
        self.device_name = str(self.device)
        self.net = model.net.to(self.device).eval()
        self.kind = InputKind(model.input_kind)
        self.size = int(model.hyper["patch_size"])
        self.batch_size = max(1, int(batch_size))
        self.padded: torch.Tensor | None = None

    def default_tile_rows(self, n_cols: int) -> int:
        return rows_for(PATCH_TILE_PIXELS, n_cols)

    def prepare(self, cube: np.ndarray) -> None:
        self.padded = torch.from_numpy(pad_cube(cube, self.size // 2))

    def predict_rows(self, a: int, b: int, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.padded is None:
            raise RuntimeError("call prepare() before predict_rows()")
        strip = self.padded[a : b + self.size - 1].to(self.device)
        # (h, W, k, S, S) view of every patch of the strip: gathering a batch is one indexing op.
        windows = strip.unfold(0, self.size, 1).unfold(1, self.size, 1)
        rr, cc = np.nonzero(valid)
        index = np.zeros(valid.shape, np.int64)
        prob = np.full(valid.shape, np.nan, np.float32)
        with torch.inference_mode(), exact_fp32(self.device):
            for s in range(0, rr.size, self.batch_size):
                r = torch.from_numpy(rr[s : s + self.batch_size]).to(self.device)
                c = torch.from_numpy(cc[s : s + self.batch_size]).to(self.device)
                patches = windows[r, c].permute(0, 2, 3, 1)  # (N, S, S, k) as PatchDataset gives
                idx, p = _best(self.net(to_model_input(patches, self.kind)), 1)
                index[rr[s : s + self.batch_size], cc[s : s + self.batch_size]] = idx
                prob[rr[s : s + self.batch_size], cc[s : s + self.batch_size]] = p
        return index, prob


class DensePredictor:
    """Runs the network's ``forward_dense`` on strips of rows of the padded scene."""

    def __init__(self, model: TrainedModel, device: str) -> None:
        self.device = _resolve(device)
        self.device_name = str(self.device)
        self.net = model.net.to(self.device).eval()
        self.kind = InputKind(model.input_kind)
        self.size = int(model.hyper["patch_size"])
        self.chw: torch.Tensor | None = None

    def default_tile_rows(self, n_cols: int) -> int:
        return rows_for(DENSE_TILE_PIXELS, n_cols + self.size - 1)

    def prepare(self, cube: np.ndarray) -> None:
        padded = pad_cube(cube, self.size // 2)
        self.chw = torch.from_numpy(np.ascontiguousarray(padded.transpose(2, 0, 1)))

    def predict_rows(self, a: int, b: int, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Output rows [a, b) need input rows [a, b + S - 1) of the padded scene.
        if self.chw is None:
            raise RuntimeError("call prepare() before predict_rows()")
        x = self.chw[:, a : b + self.size - 1].to(self.device)
        x = x[None, None] if self.kind == InputKind.CUBE else x[None]
        with torch.inference_mode(), exact_fp32(self.device):
            logits = self.net.forward_dense(x)
        index, prob = _best(logits[0], 0)
        return index, prob


class SpectrumPredictor:
    """A fitted scikit-learn estimator applied to the preprocessed spectrum of each valid pixel.

    The class is the estimator's own ``predict``; the confidence is the probability it gives that
    class (``predict_proba``), or the softmax of ``decision_function`` for estimators without
    probabilities.
    """

    device_name = "cpu"

    def __init__(self, model: TrainedModel, batch_size: int, confidence: bool) -> None:
        self.net = model.net
        self.batch_size = max(1, int(batch_size))
        self.confidence = confidence
        self.cube: np.ndarray | None = None
        # Column j of predict_proba / decision_function is the estimator's class classes_[j].
        self.columns = np.asarray(self.net.classes_)

    def default_tile_rows(self, n_cols: int) -> int:
        return rows_for(PATCH_TILE_PIXELS, n_cols)

    def prepare(self, cube: np.ndarray) -> None:
        self.cube = cube

    def predict_rows(self, a: int, b: int, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.cube is None:
            raise RuntimeError("call prepare() before predict_rows()")
        spectra = self.cube[a:b][valid]
        index = np.zeros(valid.shape, np.int64)
        prob = np.full(valid.shape, np.nan, np.float32)
        idx_parts, prob_parts = [], []
        for s in range(0, len(spectra), self.batch_size):
            idx, p = self._classify(spectra[s : s + self.batch_size])
            idx_parts.append(idx)
            prob_parts.append(p)
        if idx_parts:
            index[valid] = np.concatenate(idx_parts)
            prob[valid] = np.concatenate(prob_parts)
        return index, prob

    def _classify(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        predicted = np.asarray(self.net.predict(x))
        column = np.searchsorted(self.columns, predicted)
        if not self.confidence:
            return predicted.astype(np.int64), np.full(len(x), np.nan, np.float32)
        if hasattr(self.net, "predict_proba"):
            scores = np.asarray(self.net.predict_proba(x))
        else:
            scores = _softmax(np.asarray(self.net.decision_function(x), np.float64))
        return predicted.astype(np.int64), scores[np.arange(len(x)), column].astype(np.float32)


def _softmax(decision: np.ndarray) -> np.ndarray:
    if decision.ndim == 1:  # binary problems give one score: the positive class's margin
        decision = np.stack([-decision, decision], axis=1)
    decision = decision - decision.max(axis=1, keepdims=True)
    e = np.exp(decision)
    return e / e.sum(axis=1, keepdims=True)
