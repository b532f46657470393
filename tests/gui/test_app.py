"""Start-up of the viewer: the screenshot mode and the check that Qt can open a window."""

import sys

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtGui import QImage  # noqa: E402

from hsiviewer.gui.app import display_problem, run_app, showcase_pixels  # noqa: E402


def test_run_app_screenshot_writes_a_png_of_the_demo(qapp, tmp_path):
    out = tmp_path / "shots" / "x.png"
    assert run_app(None, None, str(out)) == 0
    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 1200 and image.height() >= 800
    colours = {image.pixelColor(x, y).rgb() for x in range(0, image.width(), 37) for y in range(0, image.height(), 37)}
    assert len(colours) > 50  # a picture, not an empty window


def test_run_app_screenshot_of_an_unreadable_scene_fails_cleanly(qapp, tmp_path, capsys):
    bad = tmp_path / "bad.npy"
    bad.write_text("no")
    assert run_app(str(bad), None, str(tmp_path / "y.png")) == 2
    assert "bad.npy" in capsys.readouterr().err
    assert not (tmp_path / "y.png").exists()


def test_showcase_pixels_pick_the_largest_classes():
    labels = np.zeros((4, 5), np.uint8)
    labels[0, :] = 2
    labels[1:3, 0] = 1
    labels[3, 4] = 3
    assert showcase_pixels(labels, 2) == [(0, 2), (2, 0)]
    assert showcase_pixels(None) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 check is for Linux")
def test_display_problem_explains_a_missing_display_or_library():
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None
    message = display_problem({})
    assert "no display" in message and "--screenshot" in message and "QT_QPA_PLATFORM=offscreen" in message
    aborting_qt = [
        sys.executable,
        "-c",
        "import sys; sys.stderr.write('qt.qpa.plugin: Could not load the Qt platform plugin \"xcb\"'); sys.exit(134)",
    ]
    message = display_problem({"DISPLAY": ":0"}, probe=aborting_qt)
    assert message.startswith("Qt cannot open a window: missing system libraries")
    assert "sudo apt-get install libxcb-cursor0" in message and "\n" not in message
    assert display_problem({"DISPLAY": ":0"}, probe=[sys.executable, "-c", "pass"]) is None


def test_pyside_refcount_work_around_keeps_none_alive(qapp):
    import hsiviewer.gui
    from hsiviewer.gui.qt_compat import pyside_drops_none_references

    if pyside_drops_none_references():
        assert hsiviewer.gui.PYSIDE_REFCOUNT_WORKAROUND and sys.getrefcount(None) > 1 << 39
