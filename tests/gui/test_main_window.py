"""The viewer driven as a user would: open, hover, click, pick bands, change opacity, export."""

import csv

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from hsiviewer.processing.stretch import apply_stretch, percentile_levels  # noqa: E402


@pytest.fixture
def window(qtbot, make_window):
    win = make_window()
    qtbot.wait(20)
    return win


def interior_pixel(labels, class_id):
    """A pixel of ``class_id`` whose 5 x 5 neighbourhood is all that class (no edge blending)."""
    rows, cols = np.nonzero(labels == class_id)
    for r, c in zip(rows, cols):
        if (
            2 <= r < labels.shape[0] - 2
            and 2 <= c < labels.shape[1] - 2
            and np.all(labels[r - 2 : r + 3, c - 2 : c + 3] == class_id)
        ):
            return int(r), int(c)
    raise AssertionError("no interior pixel")


def click_pixel(qtbot, win, row, col):
    qtbot.mouseClick(win.view.viewport(), Qt.MouseButton.LeftButton, pos=win.view.viewport_pos(row, col))


def test_demo_scene_opens_in_rgb_on_the_header_bands(window):
    scene = window.scene
    assert scene.shape == (145, 145, 200)
    assert window.display_state.mode == "rgb" and window.display_state.rgb == tuple(scene.default_bands)
    assert window.view.image_item.image.shape == (145, 145, 3)
    assert [layer.name for layer in window.layers.layers] == ["Ground truth"]
    legend = [window.layers_panel.legend.item(i).text() for i in range(window.layers_panel.legend.count())]
    assert len(legend) == 16 and "Corn-notill" in legend[1]


def test_click_pins_the_exact_spectrum_of_that_pixel(qtbot, window):
    scene = window.scene
    with qtbot.waitSignal(window.pixel_clicked) as clicked:
        click_pixel(qtbot, window, 40, 77)
    assert clicked.args == [40, 77]
    curve = window.spectrum_panel.pinned_curves[(40, 77)]
    np.testing.assert_array_equal(curve.yData, scene.spectrum(40, 77))
    np.testing.assert_array_equal(curve.xData, scene.wavelengths)
    assert [p.name for p in window.pins.pins] == ["40, 77"]
    assert window.spectrum_panel.legend.items[0][1].text == "40, 77"
    np.testing.assert_array_equal(window.view.pin_markers.getData()[0], [77.5])
    window.spectrum_panel.clear_button.click()
    assert not window.spectrum_panel.pinned_curves and len(window.view.pin_markers.getData()[0]) == 0


def test_hover_updates_the_live_curve_and_the_status_bar(qtbot, window):
    with qtbot.waitSignal(window.pixel_hovered) as hovered:
        qtbot.mouseMove(window.view.viewport(), window.view.viewport_pos(12, 100))
    assert hovered.args == [12, 100]
    np.testing.assert_array_equal(window.spectrum_panel.live_curve.yData, window.scene.spectrum(12, 100))
    text = window.status_text()
    assert "row 12, col 100" in text
    assert (
        "Ground truth: " + window.scene.classes.name(window.scene.labels[12, 100]) in text
        or window.scene.labels[12, 100] == 0
    )


def test_picking_three_bands_shows_them_stretched_2_98(qtbot, window):
    panel = window.display_panel
    spin = panel.rgb_spins[0]
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "50")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    panel.rgb_spins[1].setValue(30)
    panel.rgb_spins[2].setValue(10)
    assert window.display_state.rgb == (49, 29, 9)
    expected = []
    for band in (49, 29, 9):
        data = window.scene.band(band)
        low, high = percentile_levels(data, 2, 98)
        expected.append(apply_stretch(data, low, high))
    np.testing.assert_array_equal(window.view.image_item.image, np.dstack(expected))
    panel.rgb_nm_spins[2].setValue(862.0)  # by wavelength: the nearest band
    assert window.display_state.rgb[2] == window.scene.band_for_wavelength(862.0)


def test_presets_band_mode_colormap_and_manual_levels(qtbot, window):
    window.menus.presets.actions()[2].trigger()  # Colour infrared
    scene = window.scene
    assert window.display_state.rgb == tuple(scene.band_for_wavelength(nm) for nm in (860, 650, 550))
    window.display_panel.band_radio.click()
    window.display_panel.band_slider.setValue(120)
    assert window.display_panel.band_label.text() == scene.band_label(120)
    image = window.view.image_item.image
    np.testing.assert_array_equal(image, scene.band(120).astype(np.float32))
    assert tuple(window.view.image_item.levels) == pytest.approx(percentile_levels(scene.band(120)))
    window.display_panel.colormap_combo.setCurrentText("viridis")
    assert window.view.image_item.lut is not None
    window.display_panel.histogram.item.region.setRegion((1000, 3000))  # the user drags the levels
    assert window.display_state.stretch == "manual"
    assert tuple(window.view.image_item.levels) == pytest.approx((1000, 3000))


def grab_color(win, row, col):
    image = win.view.viewport().grab().toImage()
    pos = win.view.viewport_pos(row, col)
    color = image.pixelColor(pos.x(), pos.y())
    return color.red(), color.green(), color.blue()


def test_opacity_slider_changes_the_rendered_pixels(qtbot, window):
    scene = window.scene
    window.view.view.setRange(xRange=(0, 145), yRange=(0, 145), padding=0)
    qtbot.wait(20)
    class_id = 11
    row, col = interior_pixel(scene.labels, class_id)
    layer = window.layers.selected
    window.layers_panel.opacity_slider.setValue(100)
    qtbot.wait(20)
    assert layer.opacity == 1.0 and window.view.layer_items[layer].opacity() == 1.0
    assert grab_color(window, row, col) == scene.classes.color(class_id)
    window.layers_panel.opacity_slider.setValue(0)
    qtbot.wait(20)
    assert window.view.layer_items[layer].opacity() == 0.0
    expected = tuple(int(round(v * 255)) for v in window.view.image_item.image[row, col])
    seen = grab_color(window, row, col)
    assert seen != scene.classes.color(class_id)
    assert max(abs(a - b) for a, b in zip(seen, expected)) <= 2
    item = window.layers_panel.layer_list.item(0)
    item.setCheckState(Qt.CheckState.Unchecked)
    assert not layer.visible and not window.view.layer_items[layer].isVisible()


def test_export_class_map_from_the_menu_writes_the_labels(qtbot, window, tmp_path, monkeypatch):
    rasterio = pytest.importorskip("rasterio")
    out = tmp_path / "gt.tif"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "GeoTIFF (*.tif *.tiff)"))
    window.menus.export_class_map.trigger()
    with rasterio.open(out) as dataset:
        np.testing.assert_array_equal(dataset.read(1), window.scene.labels)


def test_export_pinned_spectra_as_csv(qtbot, window, tmp_path, monkeypatch, errors):
    out = tmp_path / "spectra"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "CSV"))
    window.spectrum_panel.export_button.click()
    assert errors and "no pinned spectra" in errors[-1][1]
    click_pixel(qtbot, window, 5, 6)
    click_pixel(qtbot, window, 100, 20)
    window.spectrum_panel.export_button.click()
    with open(tmp_path / "spectra.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["wavelength_nm", "r5_c6", "r100_c20"]
    table = np.array(rows[1:], float)
    np.testing.assert_allclose(table[:, 0], window.scene.wavelengths)
    np.testing.assert_array_equal(table[:, 1], window.scene.spectrum(5, 6))
    np.testing.assert_array_equal(table[:, 2], window.scene.spectrum(100, 20))


def test_bad_file_shows_an_error_and_the_window_stays_usable(qtbot, window, tmp_path, monkeypatch, errors):
    bad = tmp_path / "broken.npy"
    bad.write_bytes(b"this is not numpy")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    window.menus.open_scene.trigger()  # read on a worker: the dialog comes when the read has failed
    qtbot.waitUntil(lambda: len(errors) == 1)
    assert "broken.npy" in errors[0][1] and "Traceback" not in errors[0][1]
    assert window.scene.name == "indian_pines.npz" and not window.opener.busy
    wrong = tmp_path / "small.npy"
    np.save(wrong, np.ones((3, 4), np.uint8))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(wrong), ""))
    window.menus.open_class_map.trigger()  # read on the worker too
    qtbot.waitUntil(lambda: len(errors) == 2)
    assert "small.npy" in errors[1][1] and "145 x 145" in errors[1][1] and window.layers.get("small") is None
    click_pixel(qtbot, window, 3, 3)
    assert [p.name for p in window.pins.pins] == ["3, 3"]


def test_plug_in_api_class_layer_dock_and_inspector(qtbot, window):
    from PySide6.QtWidgets import QLabel

    prediction = (window.scene.labels > 0).astype(np.uint8) * 2
    layer = window.add_class_layer("Prediction", prediction, None)
    assert window.layers.get("Prediction") is layer and layer in window.view.layer_items
    assert window.add_class_layer("Prediction", prediction * 0, None) is layer  # updated in place
    dock = window.add_dock(QLabel("training"), "Training", Qt.DockWidgetArea.RightDockWidgetArea)
    assert dock.toggleViewAction() in window.menus.panels.actions()
    window.set_inspector_extra(lambda r, c: f"<b>p={r + c}</b>")
    window.inspect_pixel(2, 3)
    assert window.spectrum_panel.extra_label.text() == "<b>p=5</b>"
    with pytest.raises(ValueError, match="scene is 145 x 145"):
        window.add_class_layer("bad", np.zeros((3, 3), np.uint8))


def test_dropping_a_scene_file_opens_it(qtbot, window, tmp_path):
    cube = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    path = tmp_path / "tiny.npy"
    np.save(path, cube)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.scene.shape == (4, 5, 6))  # read on a worker, then shown
    assert not window.layers.layers
    assert window.spectrum_panel.plot.getAxis("bottom").labelText == "Band"


def test_georeferenced_scene_shows_map_coordinates(qtbot, window, georef_dir):
    window.open_scene(georef_dir / "EnMAP_BerlinUrbanGradient.hdr")
    assert window.scene.shape == (80, 60, 177)
    qtbot.mouseMove(window.view.viewport(), window.view.viewport_pos(0, 0))
    qtbot.waitUntil(lambda: "row 0, col 0" in window.status_text())
    assert "x 383487.37, y 5818287.35" in window.status_text()
    window.inspect_pixel(2, 1)
    assert "x 383517.37, y 5818227.35" in window.status_text()
