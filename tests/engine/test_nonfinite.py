"""NaN and ±inf in float cubes are nodata: training, prediction, PCA and stretches skip them."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import synthetic_scene

from hsiviewer.engine.inference import predict_scene
from hsiviewer.engine.training import TrainConfig, train_model
from hsiviewer.errors import TrainingError
from hsiviewer.io.numpy_io import scene_from_array
from hsiviewer.models.plugins import default_registry
from hsiviewer.processing.preprocess import Preprocessor
from hsiviewer.processing.stretch import apply_stretch, percentile_levels

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: (row, col, band, value): one labelled NaN, one unlabelled NaN (row 0 is unlabelled), one labelled inf.
POISON = [(10, 3, 4, np.nan), (0, 5, 0, np.nan), (15, 25, 11, np.inf)]


def _scenes():
    clean = synthetic_scene(bands=12)
    cube = clean.to_array().astype(np.float32)
    poisoned = cube.copy()
    for row, col, band, value in POISON:
        poisoned[row, col, band] = value
    meta = {"wavelengths": list(range(400, 412))}
    return (scene_from_array(None, cube, clean.labels, meta), scene_from_array(None, poisoned, clean.labels, meta))


@pytest.mark.parametrize("name, hyper, epochs", [("svm_rbf", {}, 1), ("spectral_cnn", {"width": 8}, 15)])
def test_nan_cube_trains_as_well_as_the_clean_one(name, hyper, epochs):
    clean, poisoned = _scenes()
    registry = default_registry()
    config = TrainConfig(
        name, epochs=epochs, batch_size=32, lr=3e-3, train_fraction=0.3, seed=1, device="cpu", hyper=hyper
    )
    model_clean = train_model(clean, config, registry=registry)
    model_nan = train_model(poisoned, config, registry=registry)
    assert model_clean.metrics["oa"] > 0.9
    assert abs(model_nan.metrics["oa"] - model_clean.metrics["oa"]) <= 0.02
    assert model_nan.metrics["nonfinite_pixels"] == 3
    assert model_nan.metrics["nonfinite_labelled"] == 2
    labelled_bad = {10 * 30 + 3, 15 * 30 + 25}
    for part in (model_nan.split.train, model_nan.split.val, model_nan.split.test):
        assert not labelled_bad & {int(i) for i in part}
    pred = predict_scene(model_nan, poisoned, device="cpu", confidence=True)
    for row, col, _, _ in POISON:
        assert pred.class_map[row, col] == 0
        assert np.isnan(pred.confidence[row, col])
    # the neighbours of a NaN pixel are classified as without it
    pred_clean = predict_scene(model_nan, clean, device="cpu")
    good = np.ones(clean.shape[:2], bool)
    for row, col, _, _ in POISON:
        good[row, col] = False
    np.testing.assert_array_equal(pred.class_map[good], pred_clean.class_map[good])


def test_all_labelled_pixels_nonfinite_is_refused():
    clean, _ = _scenes()
    cube = clean.to_array()
    cube[clean.labels > 0, 0] = np.nan
    scene = scene_from_array(None, cube, clean.labels, {})
    with pytest.raises(TrainingError, match="all .* labelled pixels hold NaN or infinite"):
        train_model(scene, TrainConfig("svm_rbf", device="cpu"), registry=default_registry())


def test_pca_and_valid_mask_skip_nonfinite_pixels():
    _, poisoned = _scenes()
    mask = poisoned.valid_mask()
    assert mask.sum() == mask.size - 3 and not mask[10, 3] and not mask[15, 25]
    pre = Preprocessor().fit(poisoned.to_array(), n_components=3)
    assert np.all(np.isfinite(pre.mean)) and np.all(np.isfinite(pre.components))


def test_stretch_treats_inf_as_nodata():
    band = np.array([[0.0, 1.0], [np.inf, -np.inf]])
    low, high = percentile_levels(band, 0, 100)
    assert (low, high) == (0.0, 1.0)
    out = apply_stretch(band, low, high)
    assert out[0, 1] == 1.0 and np.isnan(out[1, 0]) and np.isnan(out[1, 1])
