"""Masks: thresholds and combinations, files, and that training and prediction honour them."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import indian_pines_crop

from hsiviewer.spectral.mask import (
    MaskError,
    combine,
    invert,
    mask_from_expression,
    masked_labels,
    read_mask,
    threshold,
    write_mask,
)


def test_thresholds_and_combinations():
    values = np.array([[0.1, 0.5, np.nan], [0.9, 0.3, 0.7]])
    np.testing.assert_array_equal(threshold(values, "<", 0.4), [[1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(threshold(values, "between", 0.3, 0.7), [[0, 1, 0], [0, 1, 1]])
    np.testing.assert_array_equal(threshold(values, "outside", 0.3, 0.7), [[1, 0, 0], [1, 0, 0]])
    high = threshold(values, ">=", 0.5)
    np.testing.assert_array_equal(combine(high, threshold(values, "<", 0.8), "and"), [[0, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(combine(high, threshold(values, "<", 0.2), "or"), [[1, 1, 0], [1, 0, 1]])
    np.testing.assert_array_equal(invert(high), [[1, 0, 1], [0, 1, 0]])
    with pytest.raises(MaskError, match="empty"):
        threshold(values, "between", 0.7, 0.3)


def test_mask_file_round_trip(demo_scene, tmp_path):
    mask = mask_from_expression(demo_scene, "(R860 - R650) / (R860 + R650) > 0.5")
    assert 0 < mask.sum() < mask.size
    write_mask(tmp_path / "mask.tif", mask, like=demo_scene)
    np.testing.assert_array_equal(read_mask(tmp_path / "mask.tif", demo_scene.shape[:2]), mask)
    with pytest.raises(MaskError, match="145 x 145 but the scene is 10 x 10"):
        read_mask(tmp_path / "mask.tif", (10, 10))


def test_training_samples_only_inside_the_mask(indian_pines_dir, one_torch_thread):
    from hsiviewer.engine.training import TrainConfig, train_model

    scene = indian_pines_crop(indian_pines_dir)
    mask = np.zeros(scene.shape[:2], bool)
    mask[:, : scene.n_cols // 2] = True
    config = TrainConfig(model="svm_rbf", train_fraction=0.3, seed=0)
    model = train_model(scene, config, mask=mask)
    used = np.concatenate([model.split.train, model.split.val, model.split.test])
    assert used.size == int(((scene.labels > 0) & mask).sum())
    assert mask.ravel()[used].all()
    np.testing.assert_array_equal(masked_labels(scene.labels, mask)[~mask], 0)
    # the standardisation is fitted on the pixels inside the mask only
    inside = scene.to_array()[mask].astype(np.float64)
    np.testing.assert_allclose(model.preprocessor.mean, inside.mean(axis=0), rtol=1e-6)


def test_prediction_gives_zero_outside_the_mask(indian_pines_dir, one_torch_thread):
    from hsiviewer.engine.inference import predict_scene
    from hsiviewer.engine.training import TrainConfig, train_model

    scene = indian_pines_crop(indian_pines_dir)
    model = train_model(scene, TrainConfig(model="svm_rbf", train_fraction=0.3, seed=0))
    mask = mask_from_expression(scene, "B30 > 4000")
    assert 0 < mask.sum() < mask.size
    full = predict_scene(model, scene, confidence=False)
    masked = predict_scene(model, scene, confidence=False, mask=mask)
    assert (masked.class_map[~mask] == 0).all()
    np.testing.assert_array_equal(masked.class_map[mask], full.class_map[mask])
