"""Metrics: OA, AA, kappa, per-class scores with names, confusion matrix, map evaluation, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from hsiviewer.data.classes import ClassTable
from hsiviewer.processing.metrics import classification_report, evaluate_maps, report_to_json

CLASSES = ClassTable.from_ids([1, 2, 3], names={1: "Corn", 2: "Grass", 3: "Woods"})


def test_report_figures():
    y_true = np.array([1, 1, 1, 1, 2, 2, 3, 3, 3, 3])
    y_pred = np.array([1, 1, 1, 2, 2, 2, 3, 3, 1, 3])
    rep = classification_report(y_true, y_pred, CLASSES)
    assert rep["oa"] == pytest.approx(0.8)
    assert rep["aa"] == pytest.approx((3 / 4 + 1 + 3 / 4) / 3)
    assert rep["kappa"] == pytest.approx(cohen_kappa_score(y_true, y_pred))
    assert rep["class_ids"] == [1, 2, 3]
    assert rep["confusion"] == [[3, 1, 0], [0, 2, 0], [1, 0, 3]]
    corn = rep["per_class"][0]
    assert corn == {
        "id": 1,
        "name": "Corn",
        "precision": pytest.approx(0.75),
        "recall": pytest.approx(0.75),
        "f1": pytest.approx(0.75),
        "support": 4,
    }
    assert [r["name"] for r in rep["per_class"]] == ["Corn", "Grass", "Woods"]
    assert rep["per_class"][1]["precision"] == pytest.approx(2 / 3)


def test_predicted_class_absent_from_truth_and_perfect_single_class():
    rep = classification_report([1, 1, 2], [1, 3, 2], CLASSES)
    assert rep["class_ids"] == [1, 2, 3]
    assert rep["per_class"][2]["support"] == 0 and rep["per_class"][2]["precision"] == 0.0
    assert rep["aa"] == pytest.approx((0.5 + 1.0) / 2)  # classes present in the truth only
    assert classification_report([2, 2], [2, 2], CLASSES)["kappa"] == 1.0
    with pytest.raises(ValueError, match="no labelled pixels"):
        classification_report([], [], CLASSES)


def test_evaluate_maps_uses_labelled_pixels_only():
    labels = np.array([[0, 1, 1], [2, 2, 0], [3, 3, 3]])
    pred = np.array([[3, 1, 2], [2, 0, 1], [3, 3, 3]])
    rep = evaluate_maps(pred, labels, CLASSES)
    assert rep["n"] == 7
    assert rep["oa"] == pytest.approx(5 / 7)
    assert rep["n_unclassified"] == 1
    assert rep["class_ids"] == [0, 1, 2, 3]  # the unclassified column shows in the confusion matrix
    assert [r["id"] for r in rep["per_class"]] == [1, 2, 3]
    assert rep["confusion"][2] == [1, 0, 1, 0]  # true class 2: one unclassified, one right
    mask = np.zeros_like(labels, bool)
    mask[2] = True
    assert evaluate_maps(pred, labels, CLASSES, mask=mask)["oa"] == 1.0
    with pytest.raises(ValueError, match="class map"):
        evaluate_maps(pred[:2], labels, CLASSES)


def test_report_to_json_round_trip():
    rep = classification_report(np.array([1, 2, 2], np.uint8), np.array([1, 2, 1], np.int16), CLASSES)
    rep["extra"] = np.float32(0.5)
    back = json.loads(report_to_json(rep))
    assert back["oa"] == pytest.approx(2 / 3) and back["per_class"][1]["name"] == "Grass"
    assert back["extra"] == 0.5 and back["confusion"] == [[1, 0], [1, 1]]
