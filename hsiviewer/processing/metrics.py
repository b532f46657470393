"""Accuracy figures of a classification: OA, AA, Cohen's kappa, per-class scores, confusion matrix."""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
from sklearn.metrics import cohen_kappa_score, confusion_matrix, precision_recall_fscore_support

from hsiviewer.data.classes import UNCLASSIFIED, ClassTable
from hsiviewer.io.plain_json import dumps


def classification_report(y_true, y_pred, classes: Optional[ClassTable] = None) -> dict:
    """Compare predicted with true class ids.

    Parameters
    ----------
    y_true, y_pred : int arrays (N,)
        Label ids (not output indices). A prediction of 0 (unclassified) counts as wrong.
    classes : ClassTable, optional
        Names for the per-class rows.

    Returns
    -------
    dict
        ``oa`` (overall accuracy), ``aa`` (mean recall over the classes present in ``y_true``),
        ``kappa``, ``n`` (pixels compared), ``per_class`` (list of ``{id, name, precision, recall,
        f1, support}`` for every id in ``y_true`` or ``y_pred`` except 0), ``confusion`` (list of
        lists, rows = true, columns = predicted, over ``class_ids``) and ``class_ids``. Plain Python
        numbers only, ready for JSON.

    Raises
    ------
    ValueError
        When there is nothing to compare.
    """
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    y_pred = np.asarray(y_pred).astype(np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    if len(y_true) == 0:
        raise ValueError("no labelled pixels to evaluate")
    classes = classes or ClassTable.from_ids(np.union1d(y_true, y_pred))
    ids = np.union1d(y_true, y_pred)
    with warnings.catch_warnings():  # one class only is a valid (if dull) case, not worth a warning
        warnings.filterwarnings("ignore", message="A single label was found", category=UserWarning)
        precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=ids, zero_division=0)
        confusion = confusion_matrix(y_true, y_pred, labels=ids).tolist()
    present = np.isin(ids, y_true) & (ids != UNCLASSIFIED)
    per_class = [
        {
            "id": int(i),
            "name": classes.name(int(i)),
            "precision": float(p),
            "recall": float(r),
            "f1": float(f),
            "support": int(s),
        }
        for i, p, r, f, s in zip(ids, precision, recall, f1, support)
        if i != UNCLASSIFIED
    ]
    return {
        "oa": float(np.mean(y_true == y_pred)),
        "aa": float(np.mean(recall[present])) if present.any() else 0.0,
        "kappa": _kappa(y_true, y_pred),
        "n": int(len(y_true)),
        "per_class": per_class,
        "confusion": confusion,
        "class_ids": [int(i) for i in ids],
    }


def _kappa(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    if np.array_equal(y_true, y_pred):
        return 1.0  # sklearn gives nan when a single class is predicted perfectly
    value = cohen_kappa_score(y_true, y_pred)
    return 0.0 if np.isnan(value) else float(value)


def evaluate_maps(
    pred_map: np.ndarray, labels: np.ndarray, classes: Optional[ClassTable] = None, mask: Optional[np.ndarray] = None
) -> dict:
    """Compare a predicted class map with ground truth on the labelled pixels.

    Parameters
    ----------
    pred_map : int array (rows, cols)
        Predicted label ids (0 = not classified, counted as wrong).
    labels : int array (rows, cols)
        Ground truth, 0 = unlabelled (ignored).
    classes : ClassTable, optional
    mask : bool array (rows, cols), optional
        Only compare where True (e.g. the test pixels of a split).

    Returns
    -------
    dict
        :func:`classification_report` of the labelled pixels, plus ``n_unclassified`` (labelled pixels
        the map left at 0).
    """
    pred_map, labels = np.asarray(pred_map), np.asarray(labels)
    if pred_map.shape != labels.shape:
        raise ValueError(f"the class map is {pred_map.shape} but the ground truth is {labels.shape}")
    where = labels > 0
    if mask is not None:
        where &= np.asarray(mask, bool)
    report = classification_report(labels[where], pred_map[where], classes)
    report["n_unclassified"] = int(np.count_nonzero(pred_map[where] == UNCLASSIFIED))
    return report


def report_to_json(report: dict) -> str:
    """A report as indented JSON (numpy numbers and arrays become plain ones)."""
    return dumps(report, indent=2)
