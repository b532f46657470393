"""Screenshots of the training panel, made by driving the app on the whole demo scene.

Run with ``HSIVIEWER_SHOTS=/tmp/shots QT_QPA_PLATFORM=offscreen python3 -m pytest -q -s
tests/test_gui_training_screens.py``: it writes ``training.png`` (the panel while training, curves
partly drawn) and ``result.png`` (after Predict, with the prediction overlay and the pixel
inspector). ``docs/screenshot-training.png`` and ``docs/screenshot-result.png`` are these files.
"""

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
import torch  # noqa: E402

from hsiviewer import demo_scene_path  # noqa: E402
from hsiviewer.engine.jobs import WARM_UP  # noqa: E402
from hsiviewer.gui import MainWindow  # noqa: E402
from hsiviewer.gui.app import showcase_pixels  # noqa: E402

SHOTS = os.environ.get("HSIVIEWER_SHOTS")
EPOCHS = 8

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SHOTS, reason="set HSIVIEWER_SHOTS to a folder to make the screenshots"),
]


def test_screenshots_of_training_and_result(qtbot, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setenv("HSIVIEWER_SETTINGS", str(tmp_path / "settings.ini"))
    shots = Path(SHOTS)
    shots.mkdir(parents=True, exist_ok=True)
    win = MainWindow()
    win.error_dialog = lambda title, text: pytest.fail(f"{title}: {text}")
    qtbot.addWidget(win)
    win.resize(1600, 1200)
    win.show()
    qtbot.waitExposed(win)
    win.model_tools.actions["train"].trigger()  # Model ▸ Train…
    assert win.open_scene(demo_scene_path()) is not None
    tools, panel = win.model_tools, win.model_tools.panel
    qtbot.waitUntil(lambda: tools.ready, timeout=120_000)  # the engine loads in the background
    panel.architecture.setCurrentIndex(panel.architecture.findData("se_resnet"))
    for key, value in {"patch_size": 7, "pca_components": 10, "base_width": 16}.items():
        panel.hyper_form.set_value(key, value)
    panel.epochs.setValue(EPOCHS)
    panel.batch_size.setValue(64)
    panel.val_fraction.setValue(0.1)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    qtbot.waitUntil(WARM_UP.is_set, timeout=60_000)
    panel.train_button.click()
    qtbot.waitUntil(lambda: panel.curves.epochs_drawn >= EPOCHS // 2, timeout=300_000)
    qtbot.wait(300)
    assert win.grab().save(str(shots / "training.png"))
    qtbot.waitUntil(lambda: tools.controller.job is None, timeout=300_000)
    panel.predict_button.click()
    qtbot.waitUntil(lambda: tools.controller.job is None, timeout=300_000)
    assert win.layers.get("Prediction (se_resnet)") is not None
    win.layers.select(win.layers.get("Prediction (se_resnet)"))
    win.layers.get("Prediction (se_resnet)").set_opacity(0.85)
    win.layers.get("Ground truth").set_visible(False)
    pixels = showcase_pixels(win.scene.labels)
    for row, col in pixels:
        win.pin_pixel(row, col)
    win.inspect_pixel(*pixels[0])
    qtbot.wait(300)
    assert win.grab().save(str(shots / "result.png"))
    image = win.grab().toImage()
    assert image.width() >= 1600 and not np.all(np.frombuffer(image.constBits(), np.uint8) == 0)
