"""What the worker threads of the training panel run: train-and-evaluate, and an import warm-up.

Plain functions of the core with the ``progress`` / ``cancel`` keywords that
:class:`~hsiviewer.gui.qt_workers.QtJob` passes; nothing here touches a widget.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..bundle import TrainedModel
from ..training import TrainConfig, train_model
from .model_session import TestEvaluation, evaluate_map, split_fits
from .qt_gc import collect_on_gui_thread_while


@dataclass
class TrainingOutcome:
    """What a training job hands back: the model and its classes on the test pixels."""

    model: TrainedModel
    evaluation: Optional[TestEvaluation]


def train_and_evaluate(scene, config: TrainConfig, registry=None, progress=None, cancel=None) -> TrainingOutcome:
    """Train (:func:`~hsiviewer.training.train_model`) and keep its classes on the split's test pixels.

    The engine classifies the test pixels through :func:`~hsiviewer.inference.predict_scene` and keeps
    them on the model, so each cell of the confusion matrix knows its pixels without a second pass.
    """
    model = train_model(scene, config, registry=registry, progress=progress, cancel=cancel)
    if not split_fits(model, scene) or model.test_predictions is None:
        return TrainingOutcome(model, None)
    class_map = np.zeros(scene.n_rows * scene.n_cols, np.int64)
    class_map[model.split.test] = model.test_predictions
    return TrainingOutcome(model, evaluate_map(model, scene, class_map))


def warm_up_imports() -> None:
    """Import what the first training and prediction import lazily.

    The first torch optimiser imports ``torch._dynamo`` (seconds of imports); an import holds the
    interpreter lock for up to a few hundred milliseconds at a time, which would stall the event
    loop in the middle of the user's first training. Done once, in a background thread, as the
    panel appears.
    """
    import sklearn.decomposition  # noqa: F401 (PCA of the preprocessing)
    import torch

    from .. import _predictors, _torch_fit  # noqa: F401
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


#: Set once :func:`warm_up_imports` has run (tests wait for it before timing the event loop).
WARM_UP = threading.Event()
_WARM_UP_THREAD: Optional[threading.Thread] = None


def _warm_up_once() -> None:
    try:
        warm_up_imports()
    finally:
        WARM_UP.set()


def start_warm_up() -> None:
    """Run :func:`warm_up_imports` in a background thread, once per process."""
    global _WARM_UP_THREAD
    if _WARM_UP_THREAD is None:
        thread = threading.Thread(target=_warm_up_once, name="hsiviewer-warm-up")
        # imports allocate a lot: no garbage collection (of GUI-thread Qt objects) on this thread
        collect_on_gui_thread_while(lambda: thread.ident is None or thread.is_alive())
        _WARM_UP_THREAD = thread
        thread.start()
