"""Model files: one safe file, exact round trip (torch and scikit-learn), clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from engine_helpers import synthetic_scene, tiny_registry

from hsiviewer.engine.batches import to_model_input
from hsiviewer.engine.bundle import FORMAT_VERSION, check_scene, load_model, save_model
from hsiviewer.engine.training import TrainConfig, train_model
from hsiviewer.errors import ModelFileError
from hsiviewer.models.plugins import Registry
from hsiviewer.processing.patches import pad_cube, patches_for


@pytest.fixture(scope="module")
def registry():
    return tiny_registry()


@pytest.fixture(scope="module")
def scene():
    return synthetic_scene()


@pytest.fixture(scope="module")
def cube_model(registry, scene):
    return train_model(
        scene, TrainConfig("tiny_cube", epochs=1, train_fraction=0.3, val_fraction=0.2, seed=4), registry=registry
    )


def _logits(model, scene):
    x = model.preprocessor.transform(scene.to_array())
    r = model.patch_size // 2
    patches = torch.from_numpy(
        np.ascontiguousarray(patches_for(pad_cube(x, r), np.arange(10) + 5, np.arange(10) * 2, model.patch_size))
    )
    with torch.no_grad():
        return model.net.eval()(to_model_input(patches, model.input_kind))


def test_torch_model_round_trip(tmp_path, registry, scene, cube_model):
    path = tmp_path / "m.hsimodel"
    save_model(cube_model, path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.hsimodel"]  # no temporary file left behind
    payload = torch.load(path, weights_only=True)  # only tensors and plain values inside
    assert payload["format"] == "hsiviewer-model" and payload["format_version"] == FORMAT_VERSION
    back = load_model(path, registry=registry)
    assert torch.equal(_logits(back, scene), _logits(cube_model, scene))
    assert (back.spec_name, back.plugin_version, back.framework, back.input_kind) == (
        "tiny_cube",
        "1.0",
        "torch",
        "cube",
    )
    assert back.hyper == cube_model.hyper and back.class_ids == [1, 2, 3] and back.seed == 4
    assert back.classes.to_dict() == cube_model.classes.to_dict()
    assert back.n_bands == 12 and back.wavelengths == [float(w) for w in range(400, 412)]
    for name in ("train", "val", "test"):
        assert np.array_equal(getattr(back.split, name), getattr(cube_model.split, name))
    assert back.split.method == "random" and back.split.seed == 4
    assert back.metrics["oa"] == cube_model.metrics["oa"] and back.metrics["n_test"] == len(back.split.test)
    assert back.history == json.loads(json.dumps(cube_model.history))
    assert back.train_config["model"] == "tiny_cube" and back.train_config["val_fraction"] == 0.2
    for key, value in cube_model.preprocessor.state().items():
        assert np.array_equal(back.preprocessor.state()[key], value)
    assert back.source_path == path and not back.net.training


def test_sklearn_model_round_trip_refits_identically(tmp_path, registry, scene):
    model = train_model(scene, TrainConfig("tiny_forest", train_fraction=0.2, seed=9), registry=registry)
    assert model.net.get_params()["random_state"] == 9  # seeded, so the refit on load is the same forest
    path = tmp_path / "forest.hsimodel"
    save_model(model, path)
    back = load_model(path, registry=registry)
    x = model.preprocessor.transform(scene.to_array()).reshape(-1, 12)
    assert np.array_equal(back.net.predict(x), model.net.predict(x))
    assert np.array_equal(back.net.predict_proba(x), model.net.predict_proba(x))
    assert back.framework == "sklearn" and back.metrics["oa"] == model.metrics["oa"]


def test_not_a_model_file(tmp_path, registry):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="notes.txt.*not an hsiviewer model file"):
        load_model(text, registry=registry)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(ModelFileError, match="other.pt: is not an hsiviewer model file"):
        load_model(other, registry=registry)
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "missing.hsimodel", registry=registry)


def test_corrupt_and_newer_files(tmp_path, registry, cube_model):
    path = tmp_path / "m.hsimodel"
    save_model(cube_model, path)
    data = path.read_bytes()
    cut = tmp_path / "cut.hsimodel"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="cut.hsimodel"):
        load_model(cut, registry=registry)
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = FORMAT_VERSION + 1
    newer = tmp_path / "newer.hsimodel"
    torch.save(payload, newer)
    with pytest.raises(ModelFileError, match="update hsiviewer"):
        load_model(newer, registry=registry)


def test_missing_plugin_is_named(tmp_path, cube_model):
    path = tmp_path / "m.hsimodel"
    save_model(cube_model, path)
    with pytest.raises(ModelFileError, match="needs the model plugin 'tiny_cube'"):
        load_model(path, registry=Registry())


def test_band_count_mismatch(cube_model):
    check_scene(cube_model, synthetic_scene())
    with pytest.raises(ModelFileError, match="model expects 12 bands, scene has 9"):
        check_scene(cube_model, synthetic_scene(bands=9))
