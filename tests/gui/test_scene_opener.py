"""File ▸ Open scene and dropped files: the file is read on a worker while the window keeps running."""

import threading
import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")
import rasterio  # noqa: E402
from affine import Affine  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from hsiviewer import demo_scene_path  # noqa: E402
from hsiviewer.gui.actions import scene_opener  # noqa: E402


def geotiff(path, bands=3, rows=30, cols=40):
    data = np.arange(bands * rows * cols, dtype=np.uint16).reshape(bands, rows, cols)
    profile = dict(
        driver="GTiff", width=cols, height=rows, count=bands, dtype="uint16", crs="EPSG:32633",
        transform=Affine(30.0, 0, 380000.0, 0, -30.0, 5830000.0),
    )  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


class HeldReader:
    """The real reader, run only once released; records the thread each read ran on."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.release: dict[str, threading.Event] = {}
        self.real = scene_opener.read_scene

    def __call__(self, path, labels=None):
        self.threads.append(threading.current_thread().name)
        self.release.setdefault(path.name, threading.Event()).wait(30)
        return self.real(path, labels=labels)

    def let_go(self, name: str) -> None:
        self.release.setdefault(name, threading.Event()).set()


def test_a_scene_from_the_menu_is_read_on_a_worker_while_the_window_keeps_running(qtbot, window, tmp_path, monkeypatch):
    path = geotiff(tmp_path / "scene.tif")
    reader = HeldReader()
    monkeypatch.setattr(scene_opener, "read_scene", reader)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    shown = []
    window.scene_changed.connect(shown.append)
    window.menus.open_scene.trigger()
    # the read waits: the window's event loop keeps running, and says what it is doing
    qtbot.waitUntil(lambda: reader.threads == ["hsiviewer-open"])  # (the thread may start late on a busy machine)
    qtbot.waitUntil(lambda: len(ticks) >= 10)
    assert window.opener.busy
    assert window.status_text() == "Opening scene.tif…" and window.scene.name == "indian_pines.npz"
    with qtbot.waitSignal(window.image_shown, timeout=10000):
        reader.let_go("scene.tif")
    assert [s.name for s in shown] == ["scene.tif"] and window.scene.shape == (30, 40, 3)
    assert not window.opener.busy and "30 x 40 pixels" in window.status_text()


def test_a_newer_file_replaces_one_still_being_read(qtbot, window, tmp_path, monkeypatch):
    first, second = geotiff(tmp_path / "first.tif"), geotiff(tmp_path / "second.tif", rows=20)
    reader = HeldReader()
    monkeypatch.setattr(scene_opener, "read_scene", reader)
    shown = []
    window.scene_changed.connect(shown.append)
    window.open_scene_in_background(first)
    qtbot.waitUntil(lambda: reader.threads == ["hsiviewer-open"])
    window.open_scene_in_background(second)  # asked for while first.tif is read
    reader.let_go("first.tif")
    reader.let_go("second.tif")
    qtbot.waitUntil(lambda: not window.opener.busy and window.opener.worker.idle, timeout=10000)
    qtbot.wait(20)  # any signal the worker sent has been delivered
    assert [s.name for s in shown] == ["second.tif"] and window.scene.shape == (20, 40, 3)


def test_a_file_that_cannot_be_read_shows_one_line_and_keeps_the_scene(qtbot, window, tmp_path, errors):
    asked = []
    window.leave_guards.append(lambda: asked.append(True) or True)
    before = window.status_text()
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"II*\x00 not a tiff at all")
    window.open_scene_in_background(bad)
    qtbot.waitUntil(lambda: len(errors) == 1)
    title, text = errors[0]
    assert title == "Cannot open broken.tif" and "broken.tif" in text and "Traceback" not in text
    assert window.scene.name == "indian_pines.npz" and window.status_text() == before
    assert asked == []  # nothing to leave: unsaved work is not asked about for a file that failed


def test_unsaved_work_is_asked_about_once_the_file_is_read_and_no_keeps_everything(qtbot, window, tmp_path):
    path = geotiff(tmp_path / "scene.tif")
    answers = [False, True]
    asked = []
    window.leave_guards.append(lambda: asked.append(True) or answers.pop(0))
    before = window.status_text()
    window.open_scene_in_background(path)
    qtbot.waitUntil(lambda: not window.opener.busy)
    assert asked == [True] and window.scene.name == "indian_pines.npz" and window.status_text() == before
    window.open_scene_in_background(path)
    qtbot.waitUntil(lambda: window.scene.name == "scene.tif")
    assert asked == [True, True]


def test_a_scene_opened_directly_wins_over_a_file_still_being_read(qtbot, window, tmp_path, monkeypatch):
    path = geotiff(tmp_path / "slow.tif")
    reader = HeldReader()
    monkeypatch.setattr(scene_opener, "read_scene", reader)
    window.open_scene_in_background(path)
    qtbot.waitUntil(lambda: reader.threads == ["hsiviewer-open"])
    assert window.open_scene(demo_scene_path()) is not None  # a script's synchronous open, meanwhile
    reader.let_go("slow.tif")
    qtbot.waitUntil(lambda: window.opener.worker.idle)
    qtbot.wait(20)  # any signal the worker sent has been delivered
    assert window.scene.name == "indian_pines.npz" and not window.opener.busy


def test_a_recent_scene_is_read_on_the_worker_too(qtbot, window, tmp_path, monkeypatch):
    path = geotiff(tmp_path / "recent.tif")
    window.model_tools.store.add_recent_file(path)
    reader = HeldReader()
    monkeypatch.setattr(scene_opener, "read_scene", reader)
    menu = window.model_tools.recent_scenes
    menu.aboutToShow.emit()
    action = next(a for a in menu.actions() if a.text() == "recent.tif")
    action.trigger()  # returns at once: the file is read on the worker
    qtbot.waitUntil(lambda: reader.threads == ["hsiviewer-open"])
    assert window.opener.busy and window.scene.name == "indian_pines.npz"
    with qtbot.waitSignal(window.image_shown, timeout=10000):
        reader.let_go("recent.tif")
    assert window.scene.name == "recent.tif"


def test_a_class_map_is_read_on_the_worker_and_added_as_a_layer(qtbot, window, tmp_path, monkeypatch):
    classes = np.random.default_rng(0).integers(0, 5, (145, 145)).astype(np.uint8)
    path = tmp_path / "classes.npy"
    np.save(path, classes)
    read_on = []
    real = scene_opener.read_class_map
    monkeypatch.setattr(
        scene_opener, "read_class_map", lambda p: read_on.append(threading.current_thread().name) or real(p)
    )
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.menus.open_class_map.trigger()
    qtbot.waitUntil(lambda: window.layers.get("classes") is not None, timeout=10000)
    assert read_on == ["hsiviewer-open"]
    np.testing.assert_array_equal(window.layers.get("classes").labels, classes)


def test_a_class_map_still_being_read_when_another_scene_opens_is_forgotten(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "classes.npy"
    np.save(path, np.ones((145, 145), np.uint8))
    release = threading.Event()
    real = scene_opener.read_class_map
    monkeypatch.setattr(scene_opener, "read_class_map", lambda p: release.wait(30) and real(p))
    window.opener.open_class_map(path)
    assert window.opener.busy
    window.open_scene(geotiff(tmp_path / "other.tif"))  # a scene of another size, shown at once
    release.set()
    qtbot.waitUntil(lambda: window.opener.worker.idle, timeout=10000)
    qtbot.wait(50)
    assert window.scene.name == "other.tif" and not window.layers.layers


def test_no_class_map_while_another_scene_is_being_opened(qtbot, window, tmp_path, monkeypatch, errors):
    reader = HeldReader()
    monkeypatch.setattr(scene_opener, "read_scene", reader)
    classes = tmp_path / "classes.npy"
    np.save(classes, np.ones((145, 145), np.uint8))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(classes), ""))
    window.open_scene_in_background(geotiff(tmp_path / "next.tif"))
    window.menus.open_class_map.trigger()  # it would be checked against the scene about to go
    assert len(errors) == 1 and "next.tif is still being opened" in errors[0][1]
    with qtbot.waitSignal(window.image_shown, timeout=10000):
        reader.let_go("next.tif")  # the scene being opened was not dropped
    assert window.scene.name == "next.tif"
