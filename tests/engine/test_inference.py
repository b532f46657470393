"""predict_scene: dense and per-patch paths agree, borders, cancel, nodata, scikit-learn models."""

from __future__ import annotations

import numpy as np
import pytest

from hsiviewer import demo_scene_path, open_scene
from hsiviewer.engine.inference import predict_scene
from hsiviewer.engine.training import TrainConfig, train_model
from hsiviewer.errors import ModelFileError, PluginError
from hsiviewer.io.numpy_io import scene_from_array
from hsiviewer.progress import CancelToken

#: A small HybridSN: few components and a small patch keep training and prediction to seconds.
SMALL = {"pca_components": 16, "patch_size": 9}


def crop_scene(rows=slice(30, 60), cols=slice(0, 40), nodata=None):
    """A crop of the demo Indian Pines scene with its labels (and optionally a nodata value)."""
    full = open_scene(demo_scene_path())
    cube = np.ascontiguousarray(full.read_subregion(rows, cols)).astype(np.int32)
    meta = {"classes": full.classes.to_dict()["classes"], "nodata": nodata}
    return scene_from_array(None, cube, full.labels[rows, cols].copy(), meta)


@pytest.fixture(scope="module")
def scene():
    return crop_scene()


@pytest.fixture(scope="module")
def hybridsn(scene):
    config = TrainConfig(
        model="hybridsn", epochs=1, batch_size=32, train_fraction=0.3, seed=0, device="cpu", hyper=dict(SMALL)
    )
    return train_model(scene, config)


@pytest.fixture(scope="module")
def dense(hybridsn, scene):
    return predict_scene(hybridsn, scene, method="dense", device="cpu")


@pytest.fixture(scope="module")
def patch(hybridsn, scene):
    return predict_scene(hybridsn, scene, method="patch", device="cpu", batch_size=128)


def test_dense_and_patch_paths_agree(dense, patch):
    assert dense.method == "dense" and patch.method == "patch"
    np.testing.assert_array_equal(dense.class_map, patch.class_map)
    np.testing.assert_allclose(dense.confidence, patch.confidence, atol=1e-4)


def test_auto_takes_the_dense_path(hybridsn, scene, dense):
    auto = predict_scene(hybridsn, scene, confidence=False)
    assert auto.method == "dense" and auto.confidence is None
    np.testing.assert_array_equal(auto.class_map, dense.class_map)


def test_every_pixel_gets_a_class_borders_included(hybridsn, scene, patch):
    assert patch.class_map.shape == scene.shape[:2]
    assert patch.class_map.dtype == np.uint8
    assert patch.completed.all() and not patch.cancelled
    assert set(np.unique(patch.class_map)) <= set(hybridsn.class_ids)
    assert (patch.class_map > 0).all()
    assert np.isfinite(patch.confidence).all()
    n_classes = len(hybridsn.class_ids)
    assert (patch.confidence >= 1.0 / n_classes - 1e-6).all() and (patch.confidence <= 1.0 + 1e-6).all()


def test_classes_follow_the_model_on_a_training_pixel(hybridsn, scene, patch):
    # The per-patch path on its own: the pixel's patch through forward equals the map value.
    import torch

    from hsiviewer.engine.batches import to_model_input
    from hsiviewer.engine.inference import preprocess_scene
    from hsiviewer.processing.patches import pad_cube, patches_for

    r = hybridsn.hyper["patch_size"] // 2
    padded = pad_cube(preprocess_scene(hybridsn, scene), r)
    rows, cols = np.array([0, 12, scene.n_rows - 1]), np.array([0, 20, scene.n_cols - 1])
    x = to_model_input(torch.from_numpy(patches_for(padded, rows, cols, 2 * r + 1)), hybridsn.input_kind)
    with torch.inference_mode():
        index = hybridsn.net.cpu().eval()(x).argmax(1).numpy()
    np.testing.assert_array_equal(patch.class_map[rows, cols], np.asarray(hybridsn.class_ids)[index])


def test_cancel_after_the_first_tile_keeps_the_finished_rows(hybridsn, scene, patch):
    token = CancelToken()
    events = []

    def progress(event):
        events.append(event)
        token.cancel()

    part = predict_scene(hybridsn, scene, method="patch", device="cpu", tile_rows=7, progress=progress, cancel=token)
    assert part.cancelled
    assert [(e.stage, e.done, e.total) for e in events] == [("predict", 1, 5)]
    assert part.completed[:7].all() and not part.completed[7:].any()
    np.testing.assert_array_equal(part.class_map[:7], patch.class_map[:7])
    assert (part.class_map[7:] == 0).all() and np.isnan(part.confidence[7:]).all()


def test_progress_reports_every_tile(hybridsn, scene):
    events = []
    predict_scene(hybridsn, scene, method="dense", device="cpu", tile_rows=10, progress=events.append)
    assert [(e.done, e.total) for e in events] == [(1, 3), (2, 3), (3, 3)]
    assert events[-1].eta_s == 0


def test_nodata_pixels_get_class_zero(hybridsn):
    scene = crop_scene(nodata=-1)
    cube = scene.source.array
    cube[5:8, 10:14, :] = -1
    for method in ("dense", "patch"):
        pred = predict_scene(hybridsn, scene, method=method, device="cpu")
        assert (pred.class_map[5:8, 10:14] == 0).all()
        assert np.isnan(pred.confidence[5:8, 10:14]).all()
        assert (
            np.delete(
                pred.class_map.ravel(), np.ravel_multi_index(np.mgrid[5:8, 10:14].reshape(2, -1), pred.class_map.shape)
            )
            > 0
        ).all()


def test_mask_limits_the_pixels_classified(hybridsn, scene, patch):
    mask = scene.labels > 0
    part = predict_scene(hybridsn, scene, method="patch", device="cpu", mask=mask)
    np.testing.assert_array_equal(part.class_map[mask], patch.class_map[mask])
    assert (part.class_map[~mask] == 0).all()


def test_wrong_band_count_is_refused(hybridsn):
    full = open_scene(demo_scene_path())
    cube = full.read_subregion(slice(0, 10), slice(0, 10), list(range(100)))
    with pytest.raises(ModelFileError):
        predict_scene(hybridsn, scene_from_array(None, cube, None, {}))


@pytest.fixture(scope="module")
def svm(scene):
    return train_model(scene, TrainConfig(model="svm_rbf", train_fraction=0.3, seed=0, device="cpu"))


def test_dense_is_refused_without_a_dense_path(svm, scene):
    with pytest.raises(PluginError, match="no dense path"):
        predict_scene(svm, scene, method="dense")


def test_sklearn_baseline_predicts(svm, scene):
    pred = predict_scene(svm, scene, batch_size=300)
    assert pred.method == "spectrum" and pred.completed.all()
    assert set(np.unique(pred.class_map)) <= set(svm.class_ids) and (pred.class_map > 0).all()
    assert np.isfinite(pred.confidence).all() and (pred.confidence <= 1.0 + 1e-6).all()
    # The same classes as the estimator gives on the preprocessed spectra directly.
    from hsiviewer.engine.inference import preprocess_scene

    spectra = preprocess_scene(svm, scene).reshape(-1, svm.preprocessor.n_outputs)
    expected = np.asarray(svm.class_ids)[svm.net.predict(spectra)]
    np.testing.assert_array_equal(pred.class_map.ravel(), expected)


def test_large_class_ids_give_a_uint16_map(rng):
    # A synthetic two-class scene: the class ids 5 and 300 do not fit in uint8.
    from sklearn.linear_model import LogisticRegression

    from hsiviewer.data.classes import ClassTable
    from hsiviewer.engine.bundle import TrainedModel
    from hsiviewer.processing.preprocess import Preprocessor

    cube = rng.normal(size=(6, 5, 3)).astype(np.float32)
    cube[:3, :, 0] += 10.0
    pre = Preprocessor().fit(cube)
    spectra = pre.transform(cube).reshape(-1, 3)
    targets = np.repeat([0, 1], 15)
    model = TrainedModel(
        spec_name="synthetic",
        plugin_version="1.0",
        framework="sklearn",
        input_kind="spectrum",
        hyper={"patch_size": 1, "pca_components": None},
        preprocessor=pre,
        net=LogisticRegression().fit(spectra, targets),
        class_ids=[5, 300],
        classes=ClassTable.from_ids([5, 300]),
        n_bands=3,
    )
    pred = predict_scene(model, scene_from_array(None, cube, None, {}))
    assert pred.class_map.dtype == np.uint16
    np.testing.assert_array_equal(pred.class_map, np.repeat([[5], [300]], 3, axis=0).repeat(5, axis=1))
    assert (pred.confidence > 0.5).all()
