"""The viewer on a file that fails to read: errors shown once, no traceback, the window stays usable;
and the reader's warnings are visible in the status bar."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from _synth_files import write_envi  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from hsiviewer import open_scene  # noqa: E402
from hsiviewer.data.scene import ArraySource  # noqa: E402
from hsiviewer.io.numpy_io import scene_from_array  # noqa: E402


class FlakySource(ArraySource):
    """Whole bands read fine (the image draws); a single pixel's spectrum fails, as a damaged
    block of a file on a network drive might. ``fail_bands`` makes band reads fail too."""

    def __init__(self, array, fail_bands=False):
        super().__init__(array)
        self.fail_bands = fail_bands

    def read_subregion(self, rows, cols, bands=None):
        one_pixel = rows.stop is not None and rows.stop - rows.start == 1
        if one_pixel or self.fail_bands:
            raise OSError("read error: the file is damaged at this block")
        return super().read_subregion(rows, cols, bands)


def _window(qtbot, make_window, scene):
    win = make_window(demo=False)
    win.set_scene(scene)
    qtbot.wait(50)
    win.view.reset_zoom()  # after the docks took their room
    qtbot.wait(20)
    return win


def _flaky_scene(fail_bands=False):
    cube = np.random.default_rng(0).uniform(0, 100, (24, 12, 6)).astype(np.float32)  # tall: fits the narrow view
    scene = scene_from_array(None, cube, None, {})
    scene.source = FlakySource(cube, fail_bands)
    return scene


def test_hovering_a_pixel_that_fails_to_read_reports_once_and_keeps_working(qtbot, make_window, errors):
    win = _window(qtbot, make_window, _flaky_scene())
    assert errors == []  # the image itself was drawn
    image_before = win.view.image_item.image.copy()
    for row, col in [(2, 3), (5, 7), (9, 10), (15, 5)]:
        qtbot.wait(100)  # pyqtgraph drops mouse moves that come faster than its rate limit
        qtbot.mouseMove(win.view.viewport(), win.view.viewport_pos(row, col))
        expected = f"read pixel ({row}, {col})"
        qtbot.waitUntil(lambda: expected in win.status_text(), timeout=2000)  # noqa: B023 (used at once)
    assert len(errors) == 1 and errors[0][0].startswith("Cannot read pixel")
    assert "damaged at this block" in errors[0][1]
    assert "damaged at this block" in win.status_text()
    qtbot.mouseClick(win.view.viewport(), Qt.MouseButton.LeftButton, pos=win.view.viewport_pos(4, 4))
    assert win.pins.pins == [] and len(errors) == 1  # nothing pinned, no second dialog
    # the window still works: switch to one band and back
    win.display_state.set_mode("band")
    assert win.view.image_item.image.shape == (24, 12)
    win.display_state.set_mode("rgb")
    np.testing.assert_array_equal(win.view.image_item.image, image_before)


def test_a_scene_whose_bands_fail_to_read_reports_once(qtbot, make_window, errors):
    win = _window(qtbot, make_window, _flaky_scene(fail_bands=True))
    win.display_state.set_mode("band")
    win.display_state.set_band(2)
    qtbot.mouseMove(win.view.viewport(), win.view.viewport_pos(3, 3))
    assert len(errors) == 1 and errors[0][0] == "Cannot display the scene"
    # a good scene afterwards is shown, and its errors would be reported again
    good = scene_from_array(None, np.ones((5, 6, 3), np.float32), None, {})
    win.set_scene(good)
    assert win.view.image_item.image.shape[:2] == (5, 6) and len(errors) == 1


def test_reader_warnings_are_shown_in_the_status_bar(qtbot, make_window, errors, tmp_path):
    header, _ = write_envi(
        tmp_path, np.ones((4, 5, 3), np.uint16), extra="wavelength units = GHz\nwavelength = {1, 2, 3}\n"
    )
    scene = open_scene(header)
    win = _window(qtbot, make_window, scene)
    assert win.warnings_label.isVisible()
    assert "1 reader warning" in win.warnings_label.text()
    assert "'GHz'" in win.warnings_label.toolTip()
    win.set_scene(scene_from_array(None, np.ones((5, 6, 3), np.float32), None, {}))
    assert not win.warnings_label.isVisible()
