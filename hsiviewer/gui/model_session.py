"""What the training panel works on: the current model, its prediction and whether a job runs.

A :class:`ModelSession` is plain view state: it holds data and emits a signal when a part changes;
the panels mirror it. The test-pixel evaluation (:class:`TestEvaluation`) ties each cell of the
confusion matrix to the pixels behind it.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Optional

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..bundle import TrainedModel
from ..metrics import classification_report
from ..scene import Scene


@dataclass
class TestEvaluation:
    """The model's classes on the test pixels of its split, and the report computed from them.

    Attributes
    ----------
    pixels : int64 array (N,)
        Flat indices ``row * cols + col`` of the test pixels.
    truth, predicted : int arrays (N,)
        Their ground-truth and predicted label ids.
    report : dict
        :func:`hsiviewer.metrics.classification_report` of ``truth`` against ``predicted``.
    shape : (rows, cols)
        The scene the pixels belong to.
    """

    pixels: np.ndarray
    truth: np.ndarray
    predicted: np.ndarray
    report: dict
    shape: tuple[int, int]

    def pixel_mask(self, true_id: int, predicted_id: int) -> np.ndarray:
        """(rows, cols) bool: the test pixels of class ``true_id`` predicted as ``predicted_id``."""
        chosen = self.pixels[(self.truth == true_id) & (self.predicted == predicted_id)]
        mask = np.zeros(self.shape[0] * self.shape[1], bool)
        mask[chosen] = True
        return mask.reshape(self.shape)


def split_fits(model: TrainedModel, scene: Scene) -> bool:
    """True when the model's test pixels can be pixels of ``scene``'s ground truth (same scene)."""
    if model.split is None or scene.labels is None or len(model.split.test) == 0:
        return False
    labels = np.asarray(scene.labels).ravel()
    test = model.split.test
    return int(test.max()) < labels.size and bool(np.all(labels[test] > 0))


def evaluate_map(model: TrainedModel, scene: Scene, class_map: np.ndarray) -> Optional[TestEvaluation]:
    """Compare ``class_map`` with the ground truth on the model's test pixels (None when they do not fit)."""
    if not split_fits(model, scene):
        return None
    pixels = model.split.test
    truth = np.asarray(scene.labels).ravel()[pixels].astype(np.int64)
    predicted = np.asarray(class_map).ravel()[pixels].astype(np.int64)
    report = classification_report(truth, predicted, model.classes)
    return TestEvaluation(pixels, truth, predicted, report, (scene.n_rows, scene.n_cols))


def split_map(model: TrainedModel, shape: tuple[int, int]) -> np.ndarray:
    """(rows, cols) uint8: 1 on training pixels, 2 on test pixels, 3 on validation pixels, else 0."""
    out = np.zeros(shape[0] * shape[1], np.uint8)
    out[model.split.train] = 1
    out[model.split.test] = 2
    out[model.split.val] = 3
    return out.reshape(shape)


class ModelSession(QObject):
    """The model the user works with, its prediction on the current scene and the busy flag.

    Signals
    -------
    model_changed(object)
        A model was trained or opened (the :class:`TrainedModel`, or None).
    prediction_changed(object)
        A prediction of the current scene is there (the :class:`~hsiviewer.inference.Prediction`) or gone.
    evaluation_changed(object)
        The test-pixel evaluation (:class:`TestEvaluation` or None).
    busy_changed(str)
        The name of the job that started, or ``""`` when none runs any more.
    """

    model_changed = Signal(object)
    prediction_changed = Signal(object)
    evaluation_changed = Signal(object)
    busy_changed = Signal(str)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.scene: Optional[Scene] = None
        self.model: Optional[TrainedModel] = None
        self.prediction = None
        self.evaluation: Optional[TestEvaluation] = None
        self.busy: str = ""

    def set_scene(self, scene: Optional[Scene]) -> None:
        """A new scene is on display: its prediction and evaluation are gone, the model stays."""
        self.scene = scene
        self.set_prediction(None)
        self.set_evaluation(None)

    def set_model(self, model: Optional[TrainedModel]) -> None:
        """Make ``model`` current; the old prediction and evaluation are dropped."""
        self.model = model
        self.set_prediction(None)
        self.set_evaluation(None)
        self.model_changed.emit(model)

    def set_prediction(self, prediction) -> None:
        """Keep the prediction of the current scene (None to drop it)."""
        if prediction is None and self.prediction is None:
            return
        self.prediction = prediction
        self.prediction_changed.emit(prediction)

    def set_evaluation(self, evaluation: Optional[TestEvaluation]) -> None:
        """Keep the test-pixel evaluation (None to drop it)."""
        if evaluation is None and self.evaluation is None:
            return
        self.evaluation = evaluation
        self.evaluation_changed.emit(evaluation)

    def set_busy(self, job_name: str) -> None:
        """Record that ``job_name`` runs (``""``: nothing runs)."""
        if job_name != self.busy:
            self.busy = job_name
            self.busy_changed.emit(job_name)

    def describe_pixel(self, row: int, col: int) -> Optional[str]:
        """Rich text for the pixel inspector: predicted class, its probability, the ground truth."""
        if self.scene is None or self.model is None:
            return None
        parts = []
        pred = self.prediction
        if pred is not None and pred.class_map.shape == (self.scene.n_rows, self.scene.n_cols):
            class_id = int(pred.class_map[row, col])
            if class_id:
                text = f"<b>Predicted:</b> {html.escape(self.model.classes.name(class_id))}"
                if pred.confidence is not None and np.isfinite(pred.confidence[row, col]):
                    text += f" (p = {float(pred.confidence[row, col]):.3f})"
            else:
                text = "<b>Predicted:</b> not classified"
            parts.append(text)
        if self.scene.labels is not None:
            truth = int(self.scene.labels[row, col])
            name = self.scene.classes.name(truth) if truth and self.scene.classes else "unlabelled"
            parts.append(f"<b>Ground truth:</b> {html.escape(name)}")
        role = self._split_role(row, col)
        if role:
            parts.append(f"<b>Split:</b> {role}")
        return "<br>".join(parts) or None

    def _split_role(self, row: int, col: int) -> str:
        split = self.model.split if self.model is not None else None
        if split is None or self.evaluation is None:
            return ""
        flat = row * self.scene.n_cols + col
        for name, pixels in (("training", split.train), ("test", split.test), ("validation", split.val)):
            index = np.searchsorted(pixels, flat)
            if index < len(pixels) and pixels[index] == flat:
                return f"{name} pixel"
        return ""
