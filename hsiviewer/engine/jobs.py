"""What the worker threads of the training panel run: train-and-evaluate, and an import warm-up.

Plain functions of the core with the ``progress`` / ``cancel`` keywords that
:class:`~hsiviewer.gui.threads.qt_workers.QtJob` passes; nothing here touches a widget.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Optional

from hsiviewer.engine.bundle import TrainedModel
from hsiviewer.engine.training import TrainConfig, train_model
from hsiviewer.processing.evaluation import TestEvaluation, evaluate_test_pixels
from hsiviewer.regions.rasterize import label_scene


@dataclass
class TrainingOutcome:
    """What a training job hands back: the model and its classes on the test pixels."""

    model: TrainedModel
    evaluation: Optional[TestEvaluation]


def train_and_evaluate(
    scene, config: TrainConfig, registry=None, progress=None, cancel=None, regions=None, mask=None
) -> TrainingOutcome:
    """Train (:func:`~hsiviewer.engine.training.train_model`) and keep its classes on the split's test pixels.

    The engine classifies the test pixels through :func:`~hsiviewer.engine.inference.predict_scene` and keeps
    them on the model, so each cell of the confusion matrix knows its pixels without a second pass.
    With ``regions`` the model trains on them and is evaluated against their rasterised classes; ``mask``
    (rows, cols) bool restricts training and testing to the pixels inside it.
    """
    model = train_model(scene, config, registry=registry, progress=progress, cancel=cancel, regions=regions, mask=mask)
    if regions is not None:
        scene = label_scene(scene, regions)[0]
    if model.test_predictions is None:
        return TrainingOutcome(model, None)
    return TrainingOutcome(
        model, evaluate_test_pixels(model.split, scene.labels, model.test_predictions, model.classes)
    )


def warm_up_imports() -> None:
    """Import what the first training and prediction import lazily.

    The first torch optimiser imports ``torch._dynamo`` (seconds of imports); an import holds the
    interpreter lock for up to a few hundred milliseconds at a time, which would stall the event
    loop in the middle of the user's first training. Done once, by the background engine load
    (:func:`hsiviewer.engine.preload.load_engine`).
    """
    import sklearn.decomposition  # noqa: F401 (PCA of the preprocessing)
    import torch

    from hsiviewer.engine import fit, predictors  # noqa: F401

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


#: Set once :func:`warm_up_imports` has run, by the engine load (:mod:`hsiviewer.engine.preload`); tests
#: wait for it before timing the event loop.
WARM_UP = threading.Event()
