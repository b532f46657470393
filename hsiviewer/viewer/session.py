"""What the training panel works on: the current model, its prediction and whether a job runs.

A :class:`ModelSession` is plain view state: it holds data and emits a signal when a part changes;
the panels mirror it. Its test-pixel evaluation
(:class:`~hsiviewer.processing.evaluation.TestEvaluation`) ties each cell of the confusion matrix to the
pixels behind it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Optional

import numpy as np
from psygnal import Signal

from hsiviewer.data.scene import Scene

if TYPE_CHECKING:  # the engine (torch) and the metrics (scikit-learn) are loaded only once a model is
    from hsiviewer.engine.bundle import TrainedModel
    from hsiviewer.processing.evaluation import TestEvaluation


class ModelSession:
    """The model the user works with, its prediction on the current scene and the busy flag.

    Signals
    -------
    model_changed(object)
        A model was trained or opened (the :class:`TrainedModel`, or None).
    prediction_changed(object)
        A prediction of the current scene is there (the :class:`~hsiviewer.engine.inference.Prediction`) or gone.
    evaluation_changed(object)
        The test-pixel evaluation (:class:`TestEvaluation` or None).
    busy_changed(str)
        The name of the job that started, or ``""`` when none runs any more.
    """

    model_changed = Signal(object)
    prediction_changed = Signal(object)
    evaluation_changed = Signal(object)
    busy_changed = Signal(str)

    def __init__(self) -> None:
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
        if split is None or self.evaluation is None or self.scene is None:
            return ""
        flat = row * self.scene.n_cols + col
        for name, pixels in (("training", split.train), ("test", split.test), ("validation", split.val)):
            index = np.searchsorted(pixels, flat)
            if index < len(pixels) and pixels[index] == flat:
                return f"{name} pixel"
        return ""
