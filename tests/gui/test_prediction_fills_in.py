"""The prediction layer fills in tile by tile while Predict runs, then equals the finished prediction."""

import numpy as np
import pytest

pytest.importorskip("pytestqt")
import torch  # noqa: E402

from hsiviewer import demo_scene_path, open_scene  # noqa: E402
from hsiviewer.engine.bundle import save_model  # noqa: E402
from hsiviewer.engine.training import TrainConfig, train_model  # noqa: E402
from hsiviewer.gui import MainWindow  # noqa: E402
from hsiviewer.gui.actions.model_menu import install  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A small per-patch network (no dense path: five tiles of 29 rows on the 145 x 145 demo scene)."""
    scene = open_scene(demo_scene_path())
    model = train_model(
        scene,
        TrainConfig(
            model="se_resnet",
            epochs=1,
            batch_size=64,
            train_fraction=0.05,
            seed=0,
            device="cpu",
            hyper={"patch_size": 7, "pca_components": 10, "base_width": 8, "blocks_per_stage": 1},
        ),
    )
    path = tmp_path_factory.mktemp("model") / "model.pt"
    save_model(model, path)
    return path


def test_prediction_layer_fills_in_as_tiles_finish(qtbot, tmp_path, monkeypatch, model_file):
    monkeypatch.setenv("HSIVIEWER_SETTINGS", str(tmp_path / "settings.ini"))
    win = MainWindow()
    errors = []
    win.error_dialog = lambda title, text: errors.append((title, text))
    qtbot.addWidget(win)
    tools = getattr(win, "model_tools", None) or install(win)
    win.show()
    assert win.open_scene(demo_scene_path()) is not None
    controller = tools.controller
    tools.actions["train"].trigger()
    qtbot.waitUntil(lambda: tools.ready, timeout=120_000)  # the engine loads in the background
    assert controller.open_model(model_file) is not None
    snapshots = []

    def watch(layer):
        if layer.name.startswith("Prediction"):
            layer.changed.connect(lambda what: snapshots.append(layer.labels.copy()))
            snapshots.append(layer.labels.copy())

    win.layers.added.connect(watch)
    controller.panel.predict_button.click()
    qtbot.waitUntil(lambda: controller.job is None, timeout=120_000)
    assert not errors
    final = win.layers.get("Prediction (se_resnet)").labels
    assert (final > 0).all()
    partial = [s for s in snapshots if 0 < np.count_nonzero((s > 0).all(axis=1)) < s.shape[0]]
    assert partial, "the layer never showed a partly finished map"
    for snap in partial:
        done = int(np.count_nonzero((snap > 0).all(axis=1)))
        np.testing.assert_array_equal(snap[:done], final[:done])  # finished rows are final
        assert (snap[done:] == 0).all()  # rows not reached yet are transparent
    controller.shutdown()
