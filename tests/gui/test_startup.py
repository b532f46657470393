"""The viewer starts without the learning stack, and loads it in the background when it is needed.

Each check runs in a fresh Python process: in this one, earlier tests have imported torch already.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import json, os, sys, threading, time
import importlib.abc

class ImportWatch(importlib.abc.MetaPathFinder):
    # Records the thread that first asks for torch; finds nothing itself.
    threads = []
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            self.threads.append(threading.current_thread().name)
        return None

sys.meta_path.insert(0, ImportWatch())
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog
app = QApplication(["hsiviewer-test"])
import pyqtgraph as pg
pg.setConfigOptions(imageAxisOrder="row-major")
from hsiviewer import demo_scene_path
from hsiviewer.gui import MainWindow
errors = []
win = MainWindow()
win.error_dialog = lambda title, text: errors.append(f"{title}: {text}")
win.resize(1200, 800)
win.show()
scene = win.open_scene(demo_scene_path())
for _ in range(5):
    app.processEvents()
HEAVY = ("torch", "sklearn")
def heavy():
    return [name for name in HEAVY if name in sys.modules]
"""

VIEWER = (
    PRELUDE
    + """
out = sys.argv[1]
win.pin_pixel(40, 60)
win.pin_pixel(100, 20)
win.inspect_pixel(70, 70)
win.add_class_layer("Copy of the ground truth", scene.labels, scene.classes)
QFileDialog.getSaveFileName = staticmethod(lambda *a, **k: (os.path.join(out, "map.tif"), ""))
win.menus.export_class_map.trigger()
QFileDialog.getSaveFileName = staticmethod(lambda *a, **k: (os.path.join(out, "spectra.csv"), ""))
win.menus.export_spectra.trigger()
for _ in range(5):
    app.processEvents()
print(json.dumps({"heavy": heavy(), "errors": errors, "image": list(win.view.image_item.image.shape),
                  "menus": [a.text() for a in win.menuBar().actions()], "docks": sorted(win.docks),
                  "files": sorted(os.listdir(out)), "torch_asked_by": ImportWatch.threads}))
"""
)

ENGINE = (
    PRELUDE
    + """
tools, panel = win.model_tools, win.model_tools.panel
before = heavy()
ticks = []
tick = QTimer()
tick.setInterval(10)
tick.timeout.connect(lambda: ticks.append(time.perf_counter()))
tick.start()
start = time.perf_counter()
tools.actions["train"].trigger()  # Model > Train...: the panel shows at once, the engine starts loading
loading = {"status": panel.status.text(), "bar": win.statusBar().currentMessage(),
           "train_enabled": panel.train_button.isEnabled(), "architectures": panel.architecture.count(),
           "docks_visible": tools.train_dock.isVisible(), "bar_busy": panel.progress.maximum() == 0}
assert tools.controller.open_model(sys.argv[1]) is None  # a model-file action before the engine: it waits
waiting = panel.status.text()
ready_at = []
def check():
    if tools.ready or time.perf_counter() - start > 240:
        ready_at.append(time.perf_counter())
        app.quit()
poll = QTimer()
poll.timeout.connect(check)
poll.start(5)
app.exec()
end = ready_at[0]
stamps = [start] + [t for t in ticks if start <= t <= end] + [end]
gaps = [b - a for a, b in zip(stamps, stamps[1:])]
model = tools.controller.session.model
print(json.dumps({
    "before": before, "loading": loading, "waiting": waiting, "ready": tools.ready, "seconds": end - start,
    "max_gap": max(gaps), "median_gap": sorted(gaps)[len(gaps) // 2], "ticks": len(stamps) - 2,
    "architectures": [panel.architecture.itemData(i) for i in range(panel.architecture.count())],
    "registry": tools.controller.registry.names() if tools.controller.registry else None,
    "devices": [panel.device.itemData(i) for i in range(panel.device.count())],
    "train_enabled": panel.train_button.isEnabled(), "status": panel.status.text(),
    "model": model.spec_name if model is not None else None, "errors": errors,
    "torch_asked_by": ImportWatch.threads, "image": list(win.view.image_item.image.shape)}))
"""
)

NO_TORCH = (
    """
import sys
sys.modules["torch"] = None  # as if PyTorch were not installed: `import torch` raises ImportError
"""
    + PRELUDE
    + """
tools, panel = win.model_tools, win.model_tools.panel
tools.actions["train"].trigger()
start = time.perf_counter()
while tools.controller.engine_error is None and time.perf_counter() - start < 120:
    app.processEvents()
    time.sleep(0.01)
tools.controller.open_model(sys.argv[1])  # refused with a dialog, the app keeps running
win.pin_pixel(10, 10)
print(json.dumps({"engine_error": tools.controller.engine_error, "status": panel.status.text(),
                  "train_enabled": panel.train_button.isEnabled(), "errors": errors,
                  "image": list(win.view.image_item.image.shape), "pins": len(win.pins.pins)}))
"""
)


def run_script(code: str, *args: str, tmp_path: Path) -> dict:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HSIVIEWER_SETTINGS": str(tmp_path / "settings.ini"),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, check=False, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_viewer_opens_the_demo_scene_without_torch_or_sklearn(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    seen = run_script(VIEWER, str(out), tmp_path=tmp_path)
    assert seen["errors"] == []
    assert seen["image"] == [145, 145, 3]
    assert {"map.tif", "spectra.csv"} <= set(seen["files"])  # exports work (rasterio, csv), still no torch
    assert "&Model" in seen["menus"] and {"Training", "Results"} <= set(seen["docks"])
    assert seen["heavy"] == [] and seen["torch_asked_by"] == []


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    from engine_helpers import synthetic_scene

    from hsiviewer.engine.bundle import save_model
    from hsiviewer.engine.training import TrainConfig, train_model

    model = train_model(synthetic_scene(), TrainConfig(model="svm_rbf", train_fraction=0.3, seed=0, device="cpu"))
    path = tmp_path_factory.mktemp("model") / "svm.pt"
    save_model(model, path)
    return path


def test_the_engine_loads_in_one_background_thread_while_the_window_keeps_ticking(tmp_path, model_file):
    seen = run_script(ENGINE, str(model_file), tmp_path=tmp_path)
    print(
        f"\nengine loaded in {seen['seconds']:.1f} s: {seen['ticks']} ticks of a 10 ms timer, longest gap "
        f"{1000 * seen['max_gap']:.0f} ms, median {1000 * seen['median_gap']:.1f} ms"
    )
    assert seen["before"] == [] and seen["errors"] == []
    # at once: the panel is there, says what is happening, and cannot be used yet
    loading = seen["loading"]
    assert loading["docks_visible"] and "Loading PyTorch" in loading["status"] and "Loading PyTorch" in loading["bar"]
    assert not loading["train_enabled"] and loading["architectures"] == 0 and loading["bar_busy"]
    assert "opening the model starts when it is ready" in seen["waiting"]
    # then: torch was imported by the load's thread only, the panel is filled, the waiting action ran
    assert seen["ready"] and set(seen["torch_asked_by"]) == {"hsiviewer-engine-load"}
    assert seen["architectures"] == seen["registry"] and "hybridsn" in seen["architectures"]
    assert seen["devices"][-1] == "cpu" and seen["train_enabled"]
    assert seen["model"] == "svm_rbf" and seen["image"] == [145, 145, 3]
    # the window never froze: ticks kept coming. Without the load's two measures (torch's C++ library
    # opened outside the interpreter lock, the garbage collector paused) the longest gap was 0.6 to 1.5 s
    # on the 2-core test machine; with them 25 to 160 ms, once 430 ms when other work loaded the machine
    # (load average 13). The bound is the training test's: room for that load, not for the old pauses.
    assert seen["median_gap"] < 0.03 and seen["max_gap"] < 0.5
    assert seen["ticks"] > seen["seconds"] / 0.05


def test_without_torch_the_viewer_works_and_the_panel_says_why_training_is_unavailable(tmp_path, model_file):
    seen = run_script(NO_TORCH, str(model_file), tmp_path=tmp_path)
    assert "ModuleNotFoundError" in seen["engine_error"] and "torch" in seen["engine_error"]
    assert "Training is unavailable" in seen["status"]
    assert not seen["train_enabled"]
    assert len(seen["errors"]) == 1 and "could not be loaded" in seen["errors"][0]
    assert seen["image"] == [145, 145, 3] and seen["pins"] == 1
