"""A screenshot of drawn training regions and their statistics, made by driving the app as a user would.

Run with ``HSIVIEWER_SHOTS=/tmp/shots QT_QPA_PLATFORM=offscreen python3 -m pytest -q -s
tests/gui/test_regions_screens.py``: it writes ``regions.png``; ``docs/screenshot-regions.png`` is that file.
"""

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402
from scipy.ndimage import minimum_filter  # noqa: E402

from hsiviewer import demo_scene_path  # noqa: E402
from hsiviewer.gui import MainWindow  # noqa: E402
from hsiviewer.gui.widgets.region_tools import viewport_point  # noqa: E402

SHOTS = os.environ.get("HSIVIEWER_SHOTS")
LEFT = Qt.MouseButton.LeftButton
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SHOTS, reason="set HSIVIEWER_SHOTS to a folder to make the screenshot"),
]


def inside(labels, class_id, size, skip=0):
    """Top-left (row, col) of the ``skip``-th ``size`` x ``size`` window wholly of ``class_id``."""
    full = minimum_filter((labels == class_id).astype(np.uint8), size=size, origin=-(size // 2)) > 0
    rows, cols = np.nonzero(full[: labels.shape[0] - size, : labels.shape[1] - size])
    order = np.lexsort((cols, rows))
    return int(rows[order[skip]]), int(cols[order[skip]])


def test_screenshot_of_regions_and_statistics(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("HSIVIEWER_SETTINGS", str(tmp_path / "settings.ini"))
    shots = Path(SHOTS)
    shots.mkdir(parents=True, exist_ok=True)
    win = MainWindow()
    win.error_dialog = lambda title, text: pytest.fail(f"{title}: {text}")
    qtbot.addWidget(win)
    win.resize(1500, 950)
    win.show()
    qtbot.waitExposed(win)
    assert win.open_scene(demo_scene_path()) is not None
    win.layers.layers[0].set_visible(False)  # the ground truth: the drawn regions are what is shown
    win.docks["Spectrum"].hide()
    rt = win.region_tools
    rt.ask_unsaved = lambda: "discard"
    labels = win.scene.labels
    port = win.view.viewport()
    names = win.scene.classes.names
    for cid in (2, 11, 14, 6):
        rt.add_class(names[cid])
    # Corn-notill: a rectangle and a polygon; Soybean-mintill: rectangles; Woods: brush strokes; Grass-trees: lasso
    rt.panel.select_class(1)
    rt.tools.set_tool("rectangle")
    for skip in (0, 40):
        r, c = inside(labels, 2, 8, skip)
        qtbot.mousePress(port, LEFT, pos=viewport_point(win.view, c + 0.5, r + 0.5))
        qtbot.mouseRelease(port, LEFT, pos=viewport_point(win.view, c + 7.5, r + 7.5))
    rt.panel.select_class(2)
    for skip in (20, 300):
        r, c = inside(labels, 11, 10, skip)
        qtbot.mousePress(port, LEFT, pos=viewport_point(win.view, c + 0.5, r + 0.5))
        qtbot.mouseRelease(port, LEFT, pos=viewport_point(win.view, c + 9.5, r + 9.5))
    rt.panel.select_class(3)
    rt.tools.set_tool("brush")
    rt.panel.brush_radius.setValue(2.0)
    for skip in (0, 60):
        r, c = inside(labels, 14, 7, skip)
        qtbot.mousePress(port, LEFT, pos=viewport_point(win.view, c + 2.5, r + 3.5))
        for k in range(3, 6):
            qtbot.mouseMove(port, pos=viewport_point(win.view, c + k + 0.5, r + 3.5 + (k % 2)))
        qtbot.mouseRelease(port, LEFT, pos=viewport_point(win.view, c + 4.5, r + 3.5))
    rt.panel.select_class(4)
    rt.tools.set_tool("polygon")
    r, c = inside(labels, 6, 5, 0)
    for x, y in ((c, r), (c + 5, r), (c + 5, r + 5), (c + 2, r + 5)):
        qtbot.mouseClick(port, LEFT, pos=viewport_point(win.view, x, y))
    qtbot.keyClick(port, Qt.Key.Key_Return)
    assert len(rt.regions) == 7
    rt.tools.set_tool("select")
    r, c = inside(labels, 11, 10, 300)
    qtbot.mouseClick(port, LEFT, pos=viewport_point(win.view, c + 4.5, r + 4.5))
    assert rt.tools.selected == 4
    rt.update_statistics()
    win.view.view.setRange(xRange=(0, 145), yRange=(0, 145), padding=0.01)
    qtbot.wait(200)
    assert len(rt.panel.stats) == 4
    path = shots / "regions.png"
    assert win.grab().save(str(path))
