"""How well a class map agrees with the ground truth on a split's test pixels: the one home of test-set
evaluation, used by training (its metrics), the CLI's ``evaluate --model`` and the training panel (whose
confusion matrix needs the pixels behind each cell).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from hsiviewer.data.classes import ClassTable
from hsiviewer.processing.metrics import classification_report
from hsiviewer.processing.splits import Split


@dataclass
class TestEvaluation:
    """The classes of a map on the test pixels of a split, and the report computed from them.

    Attributes
    ----------
    pixels : int64 array (N,)
        Flat indices ``row * cols + col`` of the test pixels.
    truth, predicted : int64 arrays (N,)
        Their ground-truth and predicted label ids.
    report : dict
        :func:`hsiviewer.processing.metrics.classification_report` of ``truth`` against ``predicted``.
    shape : (rows, cols)
        The scene the pixels belong to.
    """

    __test__ = False  # not a pytest test class, despite its name

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


def evaluate_test_pixels(
    split: Optional[Split], labels: Optional[np.ndarray], predicted: np.ndarray, classes: Optional[ClassTable] = None
) -> Optional[TestEvaluation]:
    """Compare predictions with the ground truth on the split's test pixels.

    Parameters
    ----------
    split : Split or None
    labels : (rows, cols) int array or None
        The ground truth the split was drawn from.
    predicted : int array
        Either a whole (rows, cols) class map, or one class per test pixel (in ``split.test`` order).
    classes : ClassTable, optional
        Names for the report.

    Returns
    -------
    TestEvaluation or None
        None when there is no split or it does not fit ``labels`` (another scene).
    """
    if split is None or labels is None or not split.fits(labels):
        return None
    labels = np.asarray(labels)
    pixels = split.test
    truth = labels.ravel()[pixels].astype(np.int64)
    predicted = np.asarray(predicted)
    picked = (
        predicted.astype(np.int64)
        if predicted.ndim == 1 and predicted.size == pixels.size
        else predicted.ravel()[pixels].astype(np.int64)
    )
    report = classification_report(truth, picked, classes)
    return TestEvaluation(pixels, truth, picked, report, (labels.shape[0], labels.shape[1]))
