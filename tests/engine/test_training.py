"""Training engine: determinism, cancel, validation, baselines, errors, and learning on Indian Pines."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_helpers import batch_events, indian_pines_crop, synthetic_scene, tiny_registry

from hsiviewer.engine.batches import to_model_input
from hsiviewer.engine.bundle import load_model, save_model
from hsiviewer.engine.device import resolve_device
from hsiviewer.engine.training import TrainConfig, train_model
from hsiviewer.errors import TrainingError
from hsiviewer.processing.patches import pad_cube, patches_for
from hsiviewer.progress import CancelToken


@pytest.fixture(scope="module")
def registry():
    return tiny_registry()


def _majority_share(labels, pixels):
    counts = np.bincount(labels.ravel()[pixels])
    return counts.max() / counts.sum()


def _predict(model, scene, rows, cols):
    x = pad_cube(model.preprocessor.transform(scene.to_array()), model.patch_size // 2)
    patches = torch.from_numpy(np.ascontiguousarray(patches_for(x, rows, cols, model.patch_size)))
    with torch.no_grad():
        return model.net.eval()(to_model_input(patches, model.input_kind))


def test_same_seed_same_metrics_on_cpu(indian_pines_dir, registry):
    scene = indian_pines_crop(indian_pines_dir)
    config = TrainConfig("tiny_cube", epochs=2, device="cpu", seed=3, hyper={"pca_components": 10, "patch_size": 9})
    a = train_model(scene, config, registry=registry)
    b = train_model(scene, config, registry=registry)
    assert a.metrics["confusion"] == b.metrics["confusion"] and a.metrics["oa"] == b.metrics["oa"]
    assert [h["loss"] for h in a.history] == [h["loss"] for h in b.history]
    assert a.metrics["n"] == a.metrics["n_test"] == len(a.split.test)  # evaluated on the test pixels only
    assert a.metrics["device"] == "cpu" and a.metrics["cancelled"] is False and not a.net.training
    assert a.metrics["leakage"] > 0.5 * a.metrics["n_test"]  # a random split: most test pixels leak
    c = train_model(
        scene,
        TrainConfig("tiny_cube", epochs=1, device="cpu", seed=4, hyper={"pca_components": 10, "patch_size": 9}),
        registry=registry,
    )
    assert not np.array_equal(a.split.train, c.split.train)


def test_cancel_stops_within_a_batch_and_returns_a_usable_model(tmp_path, registry):
    scene = synthetic_scene()
    for cancel_at, epochs_done in ((3, 0), (8, 1)):  # 6 batches of 32 per epoch
        token, events = CancelToken(), []

        def progress(event, token=token, events=events, cancel_at=cancel_at):
            events.append(event)
            if event.stage == "batch" and event.done == cancel_at:
                token.cancel()

        model = train_model(
            scene,
            TrainConfig("tiny_patch", epochs=5, batch_size=32, train_fraction=0.3),
            registry=registry,
            progress=progress,
            cancel=token,
        )
        batches = batch_events(events)
        assert batches[-1].done == cancel_at and len(batches) == cancel_at  # no batch after the cancel
        assert model.metrics["cancelled"] is True and len(model.history) == epochs_done
        assert 0.0 <= model.metrics["oa"] <= 1.0 and model.metrics["n_test"] > 0
        logits = _predict(model, scene, np.array([5, 10]), np.array([3, 25]))
        assert logits.shape == (2, 3) and torch.isfinite(logits).all()
        save_model(model, tmp_path / "cancelled.hsimodel")
        back = load_model(tmp_path / "cancelled.hsimodel", registry=registry)
        assert back.metrics["cancelled"] is True
        assert torch.equal(_predict(back, scene, np.array([5, 10]), np.array([3, 25])), logits)


def test_abort_stops_training_and_skips_the_evaluation(registry):
    from hsiviewer.errors import Cancelled

    token, events = CancelToken(), []

    def progress(event):
        events.append(event)
        if event.stage == "batch" and event.done == 3:
            token.abort()  # what the GUI does when the window closes mid-training

    with pytest.raises(Cancelled):
        train_model(
            synthetic_scene(),
            TrainConfig("tiny_patch", epochs=5, batch_size=32, train_fraction=0.3),
            registry=registry,
            progress=progress,
            cancel=token,
        )
    assert len(batch_events(events)) == 3 and not [e for e in events if e.stage == "evaluate"]


def test_progress_validation_and_best_epoch(registry):
    events = []
    model = train_model(
        synthetic_scene(),
        TrainConfig(
            "tiny_patch", epochs=4, batch_size=64, train_fraction=0.4, val_fraction=0.25, lr_schedule="constant"
        ),
        registry=registry,
        progress=events.append,
    )
    epochs = [e for e in events if e.stage == "epoch"]
    assert [e.metrics["epoch"] for e in epochs] == [1, 2, 3, 4] and epochs[-1].total == 4
    assert all(set(e.metrics) >= {"loss", "train_acc", "val_acc", "seconds"} for e in epochs)
    batches = batch_events(events)
    assert set(batches[0].metrics) == {"epoch", "batch", "loss"} and batches[-1].eta_s == pytest.approx(0, abs=1e-6)
    assert batches[-1].done == batches[-1].total == len(batches)
    vals = [h["val_acc"] for h in model.history]
    assert model.metrics["val_acc"] == max(vals) and vals[model.metrics["best_epoch"] - 1] == max(vals)
    assert model.metrics["n_val"] == len(model.split.val) > 0
    assert model.metrics["oa"] > 0.9  # stripes of distinct spectra: easy


def test_sklearn_baseline_on_indian_pines(indian_pines_dir, registry):
    scene = indian_pines_crop(indian_pines_dir, slice(0, 60), slice(0, 60))
    model = train_model(
        scene, TrainConfig("tiny_forest", train_fraction=0.2, hyper={"pca_components": 20}), registry=registry
    )
    majority = _majority_share(scene.labels, model.split.test)
    print(f"\nrandom forest on a 60x60 crop: OA {model.metrics['oa']:.3f}, majority class {majority:.3f}")
    assert model.metrics["oa"] > majority + 0.2
    # the reported metrics are those of the map a user exports: the same classes as predict_scene
    from hsiviewer.engine.inference import predict_scene

    test = np.asarray(model.split.test)
    exported = predict_scene(model, scene).class_map.ravel()[test]
    np.testing.assert_array_equal(model.test_predictions, exported)
    assert model.metrics["oa"] == pytest.approx(np.mean(exported == scene.labels.ravel()[test]))
    assert len(model.history) == 1 and model.metrics["estimator_params"]["random_state"] == 0


def test_disjoint_split_training_has_no_leakage(registry):
    model = train_model(
        synthetic_scene((40, 45)),
        TrainConfig("tiny_patch", epochs=1, split="disjoint", train_fraction=0.2),
        registry=registry,
    )
    assert model.split.method == "disjoint" and model.metrics["leakage"] == 0 and model.metrics["n_test"] > 0


def test_pca_fitted_on_training_pixels(registry):
    scene = synthetic_scene()
    model = train_model(
        scene, TrainConfig("tiny_patch", epochs=1, pca_fit="train", hyper={"pca_components": 4}), registry=registry
    )
    spectra = scene.to_array().reshape(-1, 12)[model.split.train].astype(np.float64)
    assert np.allclose(model.preprocessor.mean, spectra.mean(axis=0))


def test_single_pixel_class_is_trained(registry):
    scene = synthetic_scene()
    scene.labels[0, 0] = 4
    model = train_model(scene, TrainConfig("tiny_patch", epochs=1), registry=registry)
    assert model.class_ids == [1, 2, 3, 4] and 0 in model.split.train


def test_errors(registry):
    scene = synthetic_scene()
    with pytest.raises(TrainingError, match="no hyperparameter 'widht'"):
        train_model(scene, TrainConfig("tiny_patch", hyper={"widht": 3}), registry=registry)
    with pytest.raises(TrainingError, match="odd"):
        train_model(scene, TrainConfig("tiny_patch", hyper={"patch_size": 6}), registry=registry)
    with pytest.raises(TrainingError, match="only 12 bands"):
        train_model(scene, TrainConfig("tiny_patch", hyper={"pca_components": 20}), registry=registry)
    with pytest.raises(TrainingError, match="not a count per class"):
        train_model(scene, TrainConfig("tiny_patch", split="disjoint", train_per_class=5), registry=registry)
    scene.labels = None
    with pytest.raises(TrainingError, match="no ground truth"):
        train_model(scene, TrainConfig("tiny_patch"), registry=registry)
    one = synthetic_scene(n_classes=1)
    with pytest.raises(TrainingError, match="at least two classes"):
        train_model(one, TrainConfig("tiny_patch"), registry=registry)


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(TrainingError, match="unknown device"):
        resolve_device("tpu7")
    if not torch.cuda.is_available():
        with pytest.raises(TrainingError, match="no CUDA GPU"):
            resolve_device("cuda")


@pytest.mark.slow
def test_hybridsn_beats_chance_on_indian_pines(indian_pines_dir):
    from hsiviewer.models.plugins import default_registry

    registry = default_registry()
    name = "hybridsn" if "hybridsn" in registry.names() else None
    if name is None:
        pytest.skip("the HybridSN plugin is not installed")
    scene = indian_pines_crop(indian_pines_dir, slice(0, 60), slice(0, 60))
    model = train_model(
        scene,
        TrainConfig(
            name,
            epochs=5,
            train_fraction=0.2,
            device="cpu",
            lr_schedule="constant",  # a 5-epoch cosine barely moves
            hyper={"patch_size": 11, "pca_components": 15},
        ),
        registry=registry,
    )
    majority = _majority_share(scene.labels, model.split.test)
    print(f"\nHybridSN, 5 epochs on a 60x60 crop: OA {model.metrics['oa']:.3f}, majority class {majority:.3f}")
    assert model.metrics["oa"] > majority + 0.2


def test_cosine_schedule_decays_the_learning_rate_to_zero(registry):
    from hsiviewer.engine import fit as _torch_fit

    seen = []
    original = _torch_fit._Loop._train_batch

    def spy(self, patches, targets):
        seen.append(self.optimizer.param_groups[0]["lr"])
        return original(self, patches, targets)

    _torch_fit._Loop._train_batch = spy
    try:
        train_model(
            synthetic_scene(),
            TrainConfig("tiny_patch", epochs=4, batch_size=512, train_fraction=0.4, lr=1e-3, lr_schedule="cosine"),
            registry=registry,
        )
    finally:
        _torch_fit._Loop._train_batch = original
    per_epoch = sorted(set(seen), reverse=True)
    assert per_epoch[0] == pytest.approx(1e-3) and len(per_epoch) == 4
    assert per_epoch == pytest.approx([1e-3 * (1 + np.cos(np.pi * e / 4)) / 2 for e in range(4)])
    with pytest.raises(TrainingError, match="schedule"):
        train_model(synthetic_scene(), TrainConfig("tiny_patch", lr_schedule="step"), registry=registry)


@pytest.mark.parametrize("model_name", ["hybridsn", "svm_rbf"])
def test_training_from_a_file_backed_cube_gives_the_same_model(monkeypatch, model_name):
    from hsiviewer import demo_scene_path, open_scene
    from hsiviewer.engine import training
    from hsiviewer.io.numpy_io import scene_from_array

    full = open_scene(demo_scene_path())
    cube = np.ascontiguousarray(full.read_subregion(slice(30, 60), slice(0, 40)))
    scene = scene_from_array(None, cube, full.labels[30:60, 0:40].copy(), {})
    hyper = {"pca_components": 16, "patch_size": 9} if model_name == "hybridsn" else {}
    config = TrainConfig(
        model=model_name, epochs=1, batch_size=32, train_fraction=0.3, seed=0, device="cpu", hyper=hyper
    )
    in_memory = train_model(scene, config)
    monkeypatch.setattr(training, "MEMMAP_CUBE_BYTES", 0)  # every cube goes to a temporary file
    from_file = train_model(scene, config)
    assert from_file.metrics["oa"] == in_memory.metrics["oa"]
    np.testing.assert_array_equal(from_file.test_predictions, in_memory.test_predictions)
    if model_name == "hybridsn":
        for key, value in in_memory.net.state_dict().items():
            assert torch.equal(from_file.net.state_dict()[key], value), key


@pytest.mark.parametrize("method", ["patch", "auto"])
def test_evaluation_streams_by_blocks_and_skips_blocks_without_test_pixels(monkeypatch, method):
    # the test pixels are classified a block of rows at a time, as `hsiviewer predict` does, and only
    # in blocks that hold one; the classes are still those of predict_scene, on the patch and dense paths
    from hsiviewer import demo_scene_path, open_scene
    from hsiviewer.engine import predictors, streaming, training
    from hsiviewer.engine.inference import predict_scene
    from hsiviewer.io.numpy_io import scene_from_array

    full = open_scene(demo_scene_path())
    cube = np.ascontiguousarray(full.read_subregion(slice(0, 72), slice(0, 40)))
    labels = full.labels[0:72, 0:40].copy()
    labels[16:56] = 0  # labelled pixels only in the top and bottom 16 rows
    scene = scene_from_array(None, cube, labels, {})
    config = TrainConfig(
        model="hybridsn", epochs=1, batch_size=32, train_fraction=0.3, seed=0, device="cpu",
        hyper={"pca_components": 16, "patch_size": 9},
    )  # fmt: skip
    model = train_model(scene, config)
    # blocks of 8 rows (9 of them), on both paths' tiles of 8 rows (predict_scene uses the same tiles)
    monkeypatch.setattr(streaming, "BLOCK_PIXELS", 8 * 40)
    monkeypatch.setattr(predictors, "PATCH_TILE_PIXELS", 8 * 40)
    monkeypatch.setattr(predictors, "DENSE_TILE_PIXELS", 8 * 48)
    # the patch path however few test pixels there are; the dense path however many
    monkeypatch.setattr(training, "DENSE_WORTH_IT", 0 if method == "patch" else 10**9)
    events, made = [], []
    real_runner = training.BlockPredictor
    monkeypatch.setattr(training, "BlockPredictor", lambda *a, **k: made.append(real_runner(*a, **k)) or made[-1])
    test = np.asarray(model.split.test)
    predicted = training.predict_test_pixels(model, scene, "cpu", progress=events.append)
    runner = streaming.BlockPredictor(model, method, "cpu")
    assert runner.method == made[0].method == ("patch" if method == "patch" else "dense")
    blocks = runner.blocks(scene)
    assert blocks == [(a, a + 8) for a in range(0, 72, 8)]
    blocks_with_tests = np.unique(test // 40 // 8)
    assert set(blocks_with_tests) <= {0, 1, 7, 8}
    assert [e.stage for e in events] == ["evaluate"] * len(blocks_with_tests)
    exported = predict_scene(model, scene, method="patch" if method == "patch" else "dense", device="cpu")
    np.testing.assert_array_equal(predicted, exported.class_map.ravel()[test])
    np.testing.assert_array_equal(predicted, model.test_predictions)


def test_evaluation_stops_between_tiles_of_a_block(monkeypatch):
    # a block of a big scene is many tiles: a cancel asked during one is seen at the next tile
    from hsiviewer import demo_scene_path, open_scene
    from hsiviewer.engine import predictors, streaming, training
    from hsiviewer.errors import Cancelled
    from hsiviewer.io.numpy_io import scene_from_array
    from hsiviewer.progress import CancelToken

    full = open_scene(demo_scene_path())
    cube = np.ascontiguousarray(full.read_subregion(slice(0, 32), slice(0, 40)))
    scene = scene_from_array(None, cube, full.labels[0:32, 0:40].copy(), {})
    config = TrainConfig(
        model="hybridsn", epochs=1, batch_size=32, train_fraction=0.3, seed=0, device="cpu",
        hyper={"pca_components": 16, "patch_size": 9},
    )  # fmt: skip
    model = train_model(scene, config)
    monkeypatch.setattr(streaming, "BLOCK_PIXELS", 32 * 40)  # one block ...
    monkeypatch.setattr(predictors, "PATCH_TILE_PIXELS", 4 * 40)  # ... of 8 tiles
    monkeypatch.setattr(training, "DENSE_WORTH_IT", 0)  # on the patch path
    token = CancelToken()
    tiles = []
    real = predictors.PatchPredictor.predict_rows

    def predict_rows(self, a, b, valid):
        tiles.append((a, b))
        token.cancel()  # the user cancels while the first tile is classified
        return real(self, a, b, valid)

    monkeypatch.setattr(predictors.PatchPredictor, "predict_rows", predict_rows)
    with pytest.raises(Cancelled, match="evaluation aborted"):
        training.predict_test_pixels(model, scene, "cpu", cancel=token)
    assert len(tiles) == 1
