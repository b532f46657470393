"""Class layers made from a model's outputs: prediction, confidence, split and a confusion selection.

All of them are ordinary class layers of the viewer (:meth:`MainWindow.add_class_layer`), so the
layers panel gives each its opacity, visibility toggle and legend. The confidence is drawn in
:data:`CONFIDENCE_BINS` steps of the viridis colour map (its legend reads ``p 0.9–1.0`` etc.);
the exact probability of a pixel is in the pixel inspector, and the exported confidence GeoTIFF
holds the unbinned values.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from hsiviewer.data.classes import ClassTable

CONFIDENCE_BINS = 10
SPLIT_CLASSES = ClassTable.from_ids(
    [1, 2, 3], {1: "training", 2: "test", 3: "validation"}, {1: (230, 60, 60), 2: (60, 120, 230), 3: (240, 200, 40)}
)
HIGHLIGHT_COLOR = (255, 0, 255)
HIGHLIGHT_LAYER = "Confusion selection"


def prediction_layer_name(model_name: str) -> str:
    return f"Prediction ({model_name})"


def confidence_layer_name(model_name: str) -> str:
    return f"Confidence ({model_name})"


def split_layer_name(model_name: str) -> str:
    return f"Split ({model_name})"


def confidence_classes(bins: int = CONFIDENCE_BINS) -> ClassTable:
    """Ids 1..bins named ``p a–b`` and coloured along viridis (low = purple, high = yellow)."""
    colors = pg.colormap.get("viridis").map(np.linspace(0, 1, bins), mode="byte")
    names = {i + 1: f"p {i / bins:.1f}–{(i + 1) / bins:.1f}" for i in range(bins)}
    return ClassTable.from_ids(names, names, {i + 1: tuple(int(v) for v in colors[i][:3]) for i in range(bins)})


def confidence_bins(confidence: np.ndarray, bins: int = CONFIDENCE_BINS) -> np.ndarray:
    """(rows, cols) uint8 bin ids 1..bins of a probability map; 0 where it is NaN (not predicted)."""
    values = np.asarray(confidence, np.float64)
    finite = np.isfinite(values)
    ids = np.zeros(values.shape, np.uint8)
    ids[finite] = np.clip(np.floor(values[finite] * bins), 0, bins - 1).astype(np.uint8) + 1
    return ids


def highlight_classes(true_name: str, predicted_name: str) -> ClassTable:
    """One class, id 1, named after the confusion cell it shows."""
    return ClassTable.from_ids([1], {1: f"true {true_name}, predicted {predicted_name}"}, {1: HIGHLIGHT_COLOR})
