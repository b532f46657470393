"""The training panel driven as a user would, on a 30 x 30 crop of Indian Pines with 1-3 epochs.

Train runs in a worker while the event loop keeps ticking, Cancel stops within a batch, Predict
makes the same class map as ``hsiviewer predict``, the GUI exports the same GeoTIFFs as the CLI,
and a confusion-matrix cell highlights exactly its test pixels.
"""

import shutil
import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")
import torch  # noqa: E402
from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from hsiviewer import demo_scene_path  # noqa: E402
from hsiviewer.engine.jobs import WARM_UP  # noqa: E402
from hsiviewer.gui import MainWindow  # noqa: E402
from hsiviewer.gui.actions.model_menu import install  # noqa: E402

# two cores shared by everybody: one torch thread keeps the GUI thread its own core
torch.set_num_threads(1)

CROP = (slice(30, 60), slice(15, 45))  # six classes, 699 labelled pixels
FAST = {
    "model": "se_resnet",
    "hyper": {"patch_size": 7, "pca_components": 10, "base_width": 8, "blocks_per_stage": 1},
    "epochs": 2,
    "batch_size": 32,
    "train_fraction": 0.3,
}


@pytest.fixture(scope="module")
def crop_path(tmp_path_factory):
    """The crop as an .npz with the demo's sidecar (names, colours, wavelengths)."""
    demo = demo_scene_path()
    folder = tmp_path_factory.mktemp("crop")
    with np.load(demo) as archive:
        data, labels = archive["data"][CROP], archive["labels"][CROP]
    path = folder / "crop.npz"
    np.savez(path, data=data, labels=labels)
    shutil.copy(demo.with_suffix(".json"), folder / "crop.json")
    return path


@pytest.fixture
def window(qtbot, errors, crop_path, tmp_path, monkeypatch):
    monkeypatch.setenv("HSIVIEWER_SETTINGS", str(tmp_path / "settings.ini"))
    win = MainWindow()
    win.error_dialog = lambda title, text: errors.append((title, text))
    qtbot.addWidget(win)
    win.resize(1400, 950)
    tools = getattr(win, "model_tools", None) or install(win)
    win.tools = tools
    win.show()
    qtbot.waitExposed(win)
    tools.actions["train"].trigger()  # Model ▸ Train… opens the training and results docks
    assert win.open_scene(crop_path) is not None
    qtbot.waitUntil(lambda: tools.ready, timeout=120_000)  # the engine loads in the background
    yield win
    tools.controller.shutdown()


def fill(panel, settings=FAST, **changes):
    """Set the panel's fields as a user would (architecture first: it rebuilds the form)."""
    settings = {**settings, **changes}
    panel.architecture.setCurrentIndex(panel.architecture.findData(settings["model"]))
    for key, value in settings.get("hyper", {}).items():
        panel.hyper_form.set_value(key, value)
    panel.epochs.setValue(settings["epochs"])
    panel.batch_size.setValue(settings["batch_size"])
    panel.train_fraction.setValue(settings["train_fraction"])
    panel.device.setCurrentIndex(panel.device.findData("cpu"))


def wait_idle(qtbot, win, timeout=60_000):
    qtbot.waitUntil(lambda: win.tools.controller.job is None, timeout=timeout)


def train(qtbot, win, **changes):
    fill(win.tools.panel, **changes)
    win.tools.panel.train_button.click()
    wait_idle(qtbot, win)
    return win.tools.controller.session.model


def test_form_is_built_from_the_registry_and_refuses_bad_values(qtbot, window):
    from PySide6.QtWidgets import QCheckBox, QLineEdit, QSpinBox

    panel = window.tools.panel
    registry = panel.registry
    assert [panel.architecture.itemData(i) for i in range(panel.architecture.count())] == registry.names()
    for name in registry.names():
        panel.architecture.setCurrentIndex(panel.architecture.findData(name))
        spec = registry.get(name)
        assert spec.description in panel.description.text()
        assert list(panel.hyper_form.fields) == list(spec.defaults)
        assert panel.hyper_form.values() == spec.resolve({})
        for key, default in spec.defaults.items():
            widget = panel.hyper_form.fields[key]
            expected = (
                QCheckBox
                if isinstance(default, bool)
                else QSpinBox
                if isinstance(default, int) and key != "pca_components"
                else QLineEdit
            )
            assert isinstance(widget, expected), (name, key)
    panel.architecture.setCurrentIndex(panel.architecture.findData("se_resnet"))
    dropout = panel.hyper_form.fields["dropout"]
    dropout.selectAll()
    qtbot.keyClicks(dropout, "abc")  # letters are refused at the keystroke
    assert dropout.text() == "0.2"
    dropout.selectAll()
    qtbot.keyClicks(dropout, "0.35")
    qtbot.keyClick(dropout, Qt.Key.Key_Return)
    pca = panel.hyper_form.fields["pca_components"]
    pca.selectAll()
    qtbot.keyClicks(pca, "0")  # pca_components must be >= 1 or none: not accepted...
    assert not pca.hasAcceptableInput()
    pca.clearFocus()
    pca.editingFinished.emit()
    pca.selectAll()
    qtbot.keyClicks(pca, "none")
    qtbot.keyClick(pca, Qt.Key.Key_Return)
    patch = panel.hyper_form.fields["patch_size"]
    assert patch.validate("8", 1)[0].name != "Acceptable"  # a patch needs a centre pixel
    values = panel.hyper_form.values()
    assert values["dropout"] == 0.35 and values["pca_components"] is None
    with pytest.raises(Exception, match="odd"):
        panel.hyper_form.set_value("patch_size", 8)
    labels = [panel.device.itemText(i) for i in range(panel.device.count())]
    assert labels[-1] == f"CPU ({torch.get_num_threads()} threads)"
    if torch.cuda.is_available():
        assert labels[0] == torch.cuda.get_device_name(0)


def test_training_runs_in_a_worker_while_the_event_loop_ticks(qtbot, window, errors):
    epochs = 8
    panel, controller = window.tools.panel, window.tools.controller
    fill(panel, epochs=epochs)
    # the first torch optimiser of the process imports torch._dynamo; the panel does that once in the
    # background as it appears, and the measurement is of training, so it waits for that first
    qtbot.waitUntil(WARM_UP.is_set, timeout=60_000)
    ticks, events = [], []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    start = time.perf_counter()
    panel.train_button.click()
    job = controller.job
    assert job is not None and job.running
    job.progress.connect(events.append)
    # a second job cannot start: the buttons are locked and say why, and a menu trigger is refused
    assert not panel.train_button.isEnabled() and not panel.predict_button.isEnabled()
    assert panel.cancel_button.isEnabled() and "one job at a time" in panel.status.text()
    window.tools.actions["train"].trigger()
    controller.train()
    assert controller.job is job and "still running" in panel.status.text()
    start = time.perf_counter()  # from here on only the worker and the GUI's reactions run
    wait_idle(qtbot, window)
    end = time.perf_counter()
    timer.stop()
    during = np.array([t for t in ticks if start <= t <= end])
    gaps = np.diff(np.concatenate([[start], during, [end]]))
    print(
        f"\nevent loop during {end - start:.2f} s of training: {len(during)} ticks of a 10 ms timer, "
        f"max gap {1000 * gaps.max():.0f} ms, median {1000 * np.median(gaps):.1f} ms"
    )
    assert not errors
    # The GUI never freezes: ticks keep coming (median near the 10 ms period), and no step of the training
    # holds the window: a worker that kept the interpreter lock per batch or per epoch would make a long gap
    # at every one of them (8 epochs, dozens of batches). A single long gap is what an overloaded 2-core
    # machine does to any process (seen: one 0.57-0.64 s gap in 3 of 65 runs at load average 8-11, none
    # when the machine was quiet), so one is allowed, up to 2 s.
    long_gaps = int(np.count_nonzero(gaps > 0.25))
    assert np.median(gaps) < 0.03 and long_gaps <= 1 and gaps.max() < 2.0, (long_gaps, gaps.max())
    assert len(during) > (end - start) / 0.05
    stages = {e.stage for e in events}
    assert {"batch", "epoch"} <= stages
    assert list(panel.curves.loss_curve.getData()[0]) == list(range(1, epochs + 1))
    assert len(panel.curves.train_acc_curve.getData()[1]) == epochs
    assert panel.log.toPlainText().count("epoch ") >= epochs
    model = controller.session.model
    assert model is not None and len(model.history) == epochs
    assert panel.train_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert panel.predict_button.isEnabled()
    # results: the summary, the per-class table and the split layer
    assert f"{100 * controller.session.evaluation.report['oa']:.2f} %" in window.tools.results.summary.text()
    assert "Leakage" in window.tools.results.summary.text() and "seed 0" in window.tools.results.summary.text()
    assert window.tools.results.per_class.rowCount() == len(model.metrics["per_class"])
    split_layer = window.layers.get("Split (se_resnet)")
    assert split_layer.classes.name(1) == "training" and split_layer.classes.name(2) == "test"
    flat = split_layer.labels.ravel()
    assert np.array_equal(np.flatnonzero(flat == 1), model.split.train)
    assert np.array_equal(np.flatnonzero(flat == 2), model.split.test)


def test_cancel_stops_within_a_batch_and_keeps_the_best_model(qtbot, window, errors):
    panel, controller = window.tools.panel, window.tools.controller
    fill(panel, epochs=30, batch_size=8)
    panel.train_button.click()
    job = controller.job
    qtbot.waitUntil(lambda: job.events_sent["epoch"] >= 1, timeout=30_000)
    panel.cancel_button.click()
    wait_idle(qtbot, window)
    assert not errors
    assert job.events_after_cancel["batch"] <= 1, job.events_after_cancel
    model = controller.session.model
    assert model.metrics["cancelled"] and 1 <= len(model.history) < 30
    assert "best model so far" in panel.status.text()
    assert panel.train_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert window.tools.actions["predict"].isEnabled()


def test_predict_matches_the_cli_and_the_exports_equal_the_cli_files(
    qtbot, window, errors, crop_path, tmp_path, monkeypatch
):
    rasterio = pytest.importorskip("rasterio")
    from hsiviewer.cli import main as cli_main

    train(qtbot, window)
    model_path = tmp_path / "model.pt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(model_path), ""))
    window.tools.actions["save_model"].trigger()
    assert model_path.exists()
    window.tools.panel.predict_button.click()
    wait_idle(qtbot, window)
    assert not errors
    layer = window.layers.get("Prediction (se_resnet)")
    assert (
        cli_main(
            [
                "predict",
                str(crop_path),
                "--model",
                str(model_path),
                "--out",
                str(tmp_path / "cli.tif"),
                "--confidence",
                str(tmp_path / "cli_conf.tif"),
            ]
        )
        == 0
    )
    with rasterio.open(tmp_path / "cli.tif") as cli:
        cli_map, cli_colors, cli_tags = cli.read(1), cli.colormap(1), cli.tags()
    np.testing.assert_array_equal(layer.labels, cli_map)
    assert window.layers.get("Confidence (se_resnet)") is not None
    for action, name in (("export_prediction", "gui.tif"), ("export_confidence", "gui_conf.tif")):
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, n=name, **k: (str(tmp_path / n), ""))
        window.tools.actions[action].trigger()
    assert not errors
    with rasterio.open(tmp_path / "gui.tif") as gui:
        np.testing.assert_array_equal(gui.read(1), cli_map)
        assert gui.colormap(1) == cli_colors and gui.tags() == cli_tags and gui.dtypes == ("uint8",)
    with rasterio.open(tmp_path / "gui_conf.tif") as gui, rasterio.open(tmp_path / "cli_conf.tif") as cli:
        np.testing.assert_array_equal(gui.read(1), cli.read(1))
        strip = lambda profile: {k: v for k, v in profile.items() if k != "nodata"}  # noqa: E731 (NaN != NaN)
        assert strip(gui.profile) == strip(cli.profile) and np.isnan(gui.nodata) and np.isnan(cli.nodata)


def test_confusion_cell_click_highlights_exactly_its_test_pixels(qtbot, window):
    from hsiviewer.engine.inference import predict_scene

    model = train(qtbot, window)
    results = window.tools.results
    scene = window.scene
    # independent reference: the model's classes on the test pixels, from the core
    predicted = predict_scene(model, scene, method="patch", device="cpu").class_map.ravel()[model.split.test]
    truth = scene.labels.ravel()[model.split.test]
    wrong = [(t, p) for t, p in zip(truth, predicted) if t != p]
    true_id, pred_id = (int(v) for v in (wrong[0] if wrong else (truth[0], truth[0])))
    row, col = results.class_ids.index(true_id), results.class_ids.index(pred_id)
    table = results.confusion
    results.tabs.setCurrentIndex(0)
    table.scrollToItem(table.item(row, col))
    qtbot.mouseClick(
        table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(table.item(row, col)).center()
    )
    layer = window.layers.get("Confusion selection")
    expected = np.zeros(scene.n_rows * scene.n_cols, bool)
    expected[model.split.test[(truth == true_id) & (predicted == pred_id)]] = True
    np.testing.assert_array_equal(layer.labels.astype(bool), expected.reshape(scene.n_rows, scene.n_cols))
    assert results.count(true_id, pred_id) == int(expected.sum()) > 0
    assert window.layers.layers[-1] is layer and model.classes.name(true_id) in layer.classes.name(1)


def test_inspector_shows_predicted_class_probability_and_truth(qtbot, window):
    model = train(qtbot, window)
    window.tools.panel.predict_button.click()
    wait_idle(qtbot, window)
    prediction = window.tools.controller.session.prediction
    row, col = np.argwhere(window.scene.labels > 0)[0]
    window.inspect_pixel(int(row), int(col))
    text = window.spectrum_panel.extra_label.text()
    predicted = model.classes.name(int(prediction.class_map[row, col]))
    assert f"<b>Predicted:</b> {predicted} (p = {prediction.confidence[row, col]:.3f})" in text
    assert f"<b>Ground truth:</b> {window.scene.classes.name(int(window.scene.labels[row, col]))}" in text


def test_open_model_and_apply_checks_the_band_count(qtbot, window, errors, tmp_path, monkeypatch):
    train(qtbot, window, epochs=1)
    model_path = window.tools.controller.save_model(tmp_path / "m.pt")
    other = tmp_path / "twenty_bands.npz"
    np.savez(other, data=np.random.default_rng(0).random((12, 10, 20)).astype(np.float32))
    assert window.open_scene(other) is not None
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(model_path), ""))
    window.tools.actions["open_model"].trigger()
    assert window.tools.controller.session.model.n_bands == 200
    window.tools.actions["apply"].trigger()
    assert errors and "model expects 200 bands, scene has 20" in errors[-1][1]
    assert window.tools.controller.job is None and window.layers.get("Prediction (se_resnet)") is None


def test_worker_errors_become_dialogs_and_the_panel_recovers(qtbot, window, errors):
    panel = window.tools.panel
    fill(panel)
    panel.hyper_form.set_value("pca_components", 500)  # more components than the 200 bands
    panel.train_button.click()
    wait_idle(qtbot, window)
    assert errors and "pca_components is 500" in errors[-1][1]
    assert panel.train_button.isEnabled() and "failed" in panel.status.text()


def test_settings_layout_and_recent_files_are_remembered(qtbot, window, crop_path, tmp_path):
    panel = window.tools.panel
    fill(panel, epochs=1, batch_size=48)
    panel.seed.setValue(7)
    panel.train_button.click()
    wait_idle(qtbot, window)
    window.tools.results_dock.hide()
    window.close()
    saved = window.tools.store.training_settings()
    assert saved["model"] == "se_resnet" and saved["seed"] == 7 and saved["hyper"]["base_width"] == 8
    assert window.tools.store.recent_files("scenes") == [str(crop_path.resolve())]
    again = MainWindow()
    qtbot.addWidget(again)
    tools = getattr(again, "model_tools", None) or install(again)
    assert tools.panel.settings() == panel.settings()
    assert again.docks["Training"].isVisibleTo(again) and not again.docks["Results"].isVisibleTo(again)


def test_settings_store_is_temporary_outside_the_app_and_per_user_inside(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QCoreApplication, QSettings

    from hsiviewer.gui.settings_store import MAX_RECENT, SettingsStore

    monkeypatch.delenv("HSIVIEWER_SETTINGS", raising=False)
    store = SettingsStore()  # the test's QApplication is not hsiviewer's: nothing persists
    assert not store.persistent and "hsiviewer-settings-" in store.path
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "user"))
    name = QCoreApplication.applicationName()
    QCoreApplication.setApplicationName("hsiviewer")
    try:
        store = SettingsStore()
    finally:
        QCoreApplication.setApplicationName(name)
    assert store.persistent and store.path.startswith(str(tmp_path / "user"))
    files = []
    for i in range(MAX_RECENT + 2):
        files.append(tmp_path / f"scene{i}.npz")
        files[-1].write_bytes(b"")
        store.add_recent_file(files[-1])
    files[-1].unlink()  # gone files are not offered
    assert store.recent_files() == [str(f) for f in files[-2 : -MAX_RECENT - 1 : -1]]
    store.qsettings.setValue("training/last", "{not json")
    assert store.training_settings() == {}
