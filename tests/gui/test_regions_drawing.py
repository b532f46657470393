"""Drawing training regions with the mouse, as a user would, and checking the exact pixels labelled."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402

from hsiviewer.gui.widgets.region_tools import viewport_point  # noqa: E402
from hsiviewer.regions.rasterize import rasterize_regions  # noqa: E402

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def window(qtbot, make_window):
    win = make_window()
    win.region_tools.stats_enabled = False  # the statistics have their own test
    win.region_tools.ask_unsaved = lambda: "discard"  # closing at the end of a test drops the regions
    qtbot.wait(20)
    return win


def labelled(win) -> np.ndarray:
    """The class at each pixel, as the core rasterises the window's regions (and as the map shows them)."""
    core = rasterize_regions(win.region_tools.regions.regions, win.scene.shape[:2]).labels
    shown = win.region_tools.overlay.class_of_pixels()
    assert np.array_equal(core, shown)
    return core


def at(win, x, y):
    return viewport_point(win.view, x, y)


def test_polygon_clicks_then_enter_labels_the_pixels_inside(qtbot, window):
    rt = window.region_tools
    rt.add_class("field")
    rt.tools.set_tool("polygon")
    port = window.view.viewport()
    corners = [(10, 10), (30, 10), (30, 20), (20, 40), (10, 40)]  # pixel corners (x = col, y = row)
    for x, y in corners:
        qtbot.mouseClick(port, LEFT, pos=at(window, x, y))
    qtbot.keyClick(port, Qt.Key.Key_Return)
    # by hand: centre (c + .5, r + .5) inside when 10 <= c < 30, 10 <= r < 40, and below row 20 left of
    # the edge from (30, 20) to (20, 40), where x = 30 - (y - 20) / 2
    rows, cols = np.mgrid[0:145, 0:145]
    x, y = cols + 0.5, rows + 0.5
    expected = (x > 10) & (x < 30) & (y > 10) & (y < 40) & ((y < 20) | (x < 30 - (y - 20) / 2))
    assert np.array_equal(labelled(window) == 1, expected)
    assert len(rt.regions) == 1


def test_polygon_double_click_closes_and_escape_cancels(qtbot, window):
    rt = window.region_tools
    rt.tools.set_tool("polygon")
    port = window.view.viewport()
    for x, y in [(50, 50), (60, 50)]:
        qtbot.mouseClick(port, LEFT, pos=at(window, x, y))
    qtbot.keyClick(port, Qt.Key.Key_Escape)
    assert len(rt.regions) == 0
    for x, y in [(50, 50), (60, 50), (60, 55)]:
        qtbot.mouseClick(port, LEFT, pos=at(window, x, y))
    qtbot.mouseDClick(port, LEFT, pos=at(window, 60, 55))
    assert len(rt.regions) == 1
    # a class was made for the first region: drawing never needs a class set up first
    assert [c.name for c in rt.regions.classes] == ["Class 1"]
    rows, cols = np.mgrid[0:145, 0:145]
    x, y = cols + 0.5, rows + 0.5
    expected = (y > 50) & (x < 60) & (y < 50 + (x - 50) / 2)  # triangle (50,50) (60,50) (60,55)
    assert np.array_equal(labelled(window) > 0, expected)


def test_rectangle_drag_labels_the_pixels_from_first_to_last(qtbot, window):
    rt = window.region_tools
    rt.add_class("a")
    rt.add_class("b")
    rt.panel.select_class(2)
    rt.tools.set_tool("rectangle")
    port = window.view.viewport()
    qtbot.mousePress(port, LEFT, pos=at(window, 60.5, 50.5))
    qtbot.mouseMove(port, pos=at(window, 64.5, 52.5))
    qtbot.mouseMove(port, pos=at(window, 70.5, 55.5))
    qtbot.mouseRelease(port, LEFT, pos=at(window, 70.5, 55.5))
    expected = np.zeros((145, 145), np.uint16)
    expected[50:56, 60:71] = 2
    assert np.array_equal(labelled(window), expected)


def test_brush_stroke_labels_the_pixels_within_the_radius(qtbot, window):
    rt = window.region_tools
    rt.add_class("paint")
    rt.panel.brush_radius.setValue(2.5)
    rt.tools.set_tool("brush")
    port = window.view.viewport()
    qtbot.mousePress(port, LEFT, pos=at(window, 20.5, 80.5))
    for col in range(21, 31):
        qtbot.mouseMove(port, pos=at(window, col + 0.5, 80.5))
    qtbot.mouseRelease(port, LEFT, pos=at(window, 30.5, 80.5))
    # by hand: centres closer than 2.5 to the segment from (20.5, 80.5) to (30.5, 80.5)
    rows, cols = np.mgrid[0:145, 0:145]
    dx = np.clip(cols + 0.5, 20.5, 30.5) - (cols + 0.5)
    dy = rows + 0.5 - 80.5
    expected = np.hypot(dx, dy) < 2.5
    got = labelled(window) == 1
    assert np.array_equal(got, expected)
    assert got.sum() == 11 * 5 + 2 * 5 + 2 * 3  # the band, the round ends


def test_eraser_select_move_delete_and_undo_redo_with_keys(qtbot, window):
    rt = window.region_tools
    rt.add_class("a")
    rt.tools.set_tool("rectangle")
    port = window.view.viewport()
    qtbot.mousePress(port, LEFT, pos=at(window, 10.5, 100.5))
    qtbot.mouseRelease(port, LEFT, pos=at(window, 29.5, 109.5))  # cols 10..29, rows 100..109
    before = labelled(window).copy()
    rt.panel.brush_radius.setValue(0.7)  # takes the centres of column 20 only
    rt.tools.set_tool("eraser")
    qtbot.mousePress(port, LEFT, pos=at(window, 20.5, 95.5))
    qtbot.mouseMove(port, pos=at(window, 20.5, 105.5))
    qtbot.mouseRelease(port, LEFT, pos=at(window, 20.5, 115.5))
    after_erase = labelled(window)
    assert after_erase[100:110, 20].sum() == 0 and after_erase[100:110, 19].all() and after_erase[100:110, 21].all()
    rt.tools.set_tool("select")
    qtbot.mousePress(port, LEFT, pos=at(window, 12.5, 102.5))
    assert rt.tools.selected == 1
    qtbot.mouseMove(port, pos=at(window, 14.5, 102.5))
    qtbot.mouseRelease(port, LEFT, pos=at(window, 17.5, 97.5))  # 5 right, 5 up
    moved = labelled(window)
    assert np.array_equal(moved[95:105, 15:35], after_erase[100:110, 10:30])
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(labelled(window), after_erase)
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(labelled(window), before)
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(labelled(window), after_erase)
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(labelled(window), moved)
    rt.tools.select(1)
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Delete)
    assert len(rt.regions) == 0 and not labelled(window).any()
    # the map's tiles show nothing once the last region is gone
    assert not any(item.isVisible() for item in rt.overlay._tiles.values())


def test_pan_tool_leaves_the_map_to_pan_and_pin(qtbot, window):
    rt = window.region_tools
    assert rt.tools.tool == "pan"
    qtbot.mouseClick(window.view.viewport(), LEFT, pos=window.view.viewport_pos(40, 40))
    assert len(rt.regions) == 0 and [(p.row, p.col) for p in window.pins.pins] == [(40, 40)]


def test_lasso_drag_labels_the_pixels_inside_the_loop(qtbot, window):
    rt = window.region_tools
    rt.tools.set_tool("lasso")
    port = window.view.viewport()
    loop = [(70, 70), (75, 70), (80, 70), (80, 76), (78, 80), (70, 80), (70, 74)]
    qtbot.mousePress(port, LEFT, pos=at(window, *loop[0]))
    for x, y in loop[1:]:
        qtbot.mouseMove(port, pos=at(window, x, y))
    qtbot.mouseRelease(port, LEFT, pos=at(window, 70, 72))
    rows, cols = np.mgrid[0:145, 0:145]
    x, y = cols + 0.5, rows + 0.5
    # by hand: the box 70..80 x 70..80 without the corner cut by the edge from (80, 76) to (78, 80): 2x + y < 236
    expected = (x > 70) & (x < 80) & (y > 70) & (y < 80) & (2 * x + y < 236)
    assert np.array_equal(labelled(window) > 0, expected)


def test_regions_beyond_the_scene_are_kept_but_draw_nothing(qtbot, window, errors):
    # a region file of a neighbouring flight line: some regions lie wholly left of, right of or below
    # the 145 x 145 scene; they stay in the set, cover no pixel, and the others draw as usual
    from shapely.geometry import box

    from hsiviewer.regions.model import Region, RegionClass

    rt = window.region_tools
    outside = [box(5000, 10, 5100, 40), box(-300, 10, -200, 40), box(10, 900, 40, 950)]
    inside = box(20, 30, 26, 35)
    regions = [Region(i + 1, 1, g) for i, g in enumerate([*outside, inside])]
    rt.regions.load([RegionClass(1, "field", (200, 30, 30))], regions)
    assert errors == [] and len(rt.regions) == 4
    expected = np.zeros((145, 145), np.uint16)
    expected[30:35, 20:26] = 1
    assert np.array_equal(labelled(window), expected)
    assert set(rt.overlay._tiles) == {(0, 0)} and rt.overlay.labelled_window() == (0, 145, 0, 145)
    # only regions beyond the scene: nothing drawn, nothing raised
    rt.regions.load([RegionClass(1, "field", (200, 30, 30))], regions[:1])
    assert errors == [] and len(rt.regions) == 1 and not labelled(window).any()
    assert not any(item.isVisible() for item in rt.overlay._tiles.values())
