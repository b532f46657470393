"""The spectral tools driven as a user would: library panel, plot modes, matching, band math, mask."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")
import rasterio
import spectral
from PySide6.QtCore import Qt

from hsiviewer import demo_scene_path
from hsiviewer.spectral.continuum import continuum_removed, first_derivative
from hsiviewer.spectral.library import SpectralLibrary
from hsiviewer.spectral.library_io import write_library
from hsiviewer.viewer.continuous import ContinuousLayer
from hsiviewer.viewer.spectra import spectrum_values

PICKS = [(30, 30), (100, 80), (70, 120)]


@pytest.fixture
def library_file(window, tmp_path):
    scene = window.scene
    cube = scene.to_array().astype(float)
    lib = SpectralLibrary(
        ["corn", "soy", "woods"], np.array([cube[r, c] for r, c in PICKS]) / 10000.0, scene.wavelengths, scene.fwhm, 1.0
    )
    return write_library(lib, tmp_path / "refs.sli")


def _run(qtbot, tools, start):
    with qtbot.waitSignal(tools_job_ended(tools, start), timeout=60000):
        pass


def tools_job_ended(tools, start):
    start()
    assert tools.job is not None
    return tools.job.ended


def test_library_is_drawn_in_the_spectrum_plot_on_the_scene_scale(qtbot, window, library_file, errors):
    tools = window.spectral_tools
    tools.open_library(library_file)
    assert not errors
    assert [tools.panel.spectra.item(i).text() for i in range(3)] == ["corn", "soy", "woods"]
    curves = window.spectrum_panel.reference_curves
    assert len(curves) == 3
    cube = window.scene.to_array().astype(float)
    # read at 0-1, shown on the scene's 0-10000 scale: the curve is the pixel again
    np.testing.assert_allclose(curves[0].yData, cube[30, 30], rtol=1e-5)
    tools.panel.spectra.item(1).setCheckState(Qt.CheckState.Unchecked)  # hide "soy"
    assert [c.name() for c in window.spectrum_panel.reference_curves] == ["corn", "woods"]
    item = tools.panel.spectra.item(2)
    item.setText("forest")  # what an edit in place does
    assert tools.library.names[2] == "forest"
    tools.panel.spectra.setCurrentRow(0)
    qtbot.mouseClick(tools.panel.delete_button, Qt.MouseButton.LeftButton)
    assert tools.library.names == ["soy", "forest"]


def test_pins_are_added_and_saved_as_sli(qtbot, window, tmp_path, errors):
    tools = window.spectral_tools
    window.pin_pixel(10, 20)
    window.pin_pixel(50, 60)
    qtbot.mouseClick(tools.panel.add_button, Qt.MouseButton.LeftButton)
    assert tools.library.names == ["pixel 10, 20", "pixel 50, 60"]
    path = tools.save_library(tmp_path / "pins.sli")
    back = spectral.io.envi.open(str(path.with_suffix(".hdr")), str(path))
    np.testing.assert_allclose(back.spectra[1], spectrum_values(window.scene, 50, 60), rtol=1e-6)
    assert not errors


def test_plot_modes_show_continuum_removed_and_derivative(qtbot, window):
    panel = window.spectrum_panel
    window.pin_pixel(40, 40)
    wl, values = window.scene.wavelengths, spectrum_values(window.scene, 40, 40)
    panel.mode_box.setCurrentIndex(panel.mode_box.findData("continuum"))
    np.testing.assert_allclose(panel.pinned_curves[(40, 40)].yData, continuum_removed(wl, values))
    assert panel.plot.getAxis("left").labelText == "Continuum removed"
    panel.mode_box.setCurrentIndex(panel.mode_box.findData("derivative"))
    np.testing.assert_allclose(panel.pinned_curves[(40, 40)].yData, first_derivative(wl, values))
    panel.mode_box.setCurrentIndex(panel.mode_box.findData("reflectance"))
    np.testing.assert_allclose(panel.pinned_curves[(40, 40)].yData, values)


def test_matching_gives_a_class_layer_and_a_score_layer_with_a_live_threshold(
    qtbot, window, library_file, errors, tmp_path
):
    tools = window.spectral_tools
    tools.open_library(library_file)
    tools.show_match()
    dialog = tools.match_dialog
    dialog.threshold.setValue(0.05)
    _run(qtbot, tools, lambda: qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton))
    assert not errors
    cube = window.scene.to_array().astype(float)
    angles = spectral.spectral_angles(cube, np.array([cube[r, c] for r, c in PICKS]))
    classes = window.layers.get("SAM classes")
    expected = np.where(angles.min(2) <= 0.05, angles.argmin(2) + 1, 0)
    np.testing.assert_array_equal(classes.labels, expected)
    assert classes.classes.name(3) == "woods"
    score = window.layers.get("SAM score")
    assert isinstance(score, ContinuousLayer)
    np.testing.assert_allclose(score.values, angles.min(2), atol=1e-6)
    dialog.threshold.setValue(0.2)  # re-classified at once, without matching again
    np.testing.assert_array_equal(classes.labels, np.where(angles.min(2) <= 0.2, angles.argmin(2) + 1, 0))
    window.layers.select(score)
    path = tools.export_layer(tmp_path / "score.tif")
    with rasterio.open(path) as src:
        assert src.descriptions == ("spectral angle (rad)",)


def test_band_math_preset_adds_an_index_layer_with_a_legend(qtbot, window, errors):
    tools = window.spectral_tools
    tools.show_band_math()
    dialog = tools.band_math_dialog
    dialog.choose_preset("NDVI")
    assert dialog.expression.text() == "(R860 - R650) / (R860 + R650)"
    assert "Normalized Difference Vegetation Index" in dialog.formula.text()
    _run(qtbot, tools, lambda: qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton))
    assert not errors
    layer = window.layers.get("NDVI")
    scene = window.scene
    cube = scene.to_array().astype(np.float32)
    nir = cube[:, :, np.argmin(np.abs(scene.wavelengths - 860))]
    red = cube[:, :, np.argmin(np.abs(scene.wavelengths - 650))]
    np.testing.assert_allclose(layer.values, (nir - red) / (nir + red), rtol=1e-6)
    legend = window.layers_panel.legend
    assert window.layers.selected is layer and legend.count() == 5
    assert sum(int(legend.item(i).text().split("(")[-1].split()[0].replace(",", "")) for i in range(5)) == 145 * 145
    image = window.view.layer_items[layer].image
    assert image.shape == (145, 145, 4) and image[..., 3].all()


def test_bad_expression_shows_one_dialog_and_changes_nothing(qtbot, window, errors):
    tools = window.spectral_tools
    dialog = tools.band_math_dialog
    before = [layer.name for layer in window.layers.layers]
    for text, message in [
        ("R3000 - R650", "R3000: the scene covers 400-2489 nm"),
        ("(R860 - R650", "syntax error at column 1"),
        ("nir + 1", "unknown name 'nir'"),
    ]:
        dialog.expression.setText(text)
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
        assert message in errors[-1][1]
    assert len(errors) == 3 and tools.job is None
    assert [layer.name for layer in window.layers.layers] == before


def test_mask_hides_pixels_and_restricts_training_and_prediction(qtbot, window, errors):
    tools = window.spectral_tools
    dialog = tools.band_math_dialog
    dialog.choose_preset("NDVI")
    _run(qtbot, tools, lambda: dialog.run_button.click())
    tools.masks.show()
    md = tools.masks.dialog
    assert md.layer.currentText() == "NDVI"
    md.operator.setCurrentIndex(md.operator.findData(">"))
    md.low.setValue(0.5)
    qtbot.mouseClick(md.apply_button, Qt.MouseButton.LeftButton)
    assert not errors
    ndvi = window.layers.get("NDVI").values
    mask = window.analysis_mask
    np.testing.assert_array_equal(mask, ndvi > 0.5)
    shown = window.view.layer_items[window.layers.get("Mask (outside hidden)")]
    assert (
        shown.opacity() == 1.0 and (shown.image[..., 3][~mask] == 255).all() and (shown.image[..., 3][mask] == 0).all()
    )
    assert "inside" in md.status.text()
    # combine: AND with NDVI < 0.8
    md.operator.setCurrentIndex(md.operator.findData("<"))
    md.low.setValue(0.8)
    md.combine.setCurrentIndex(md.combine.findData("and"))
    md.apply_button.click()
    np.testing.assert_array_equal(window.analysis_mask, (ndvi > 0.5) & (ndvi < 0.8))
    qtbot.mouseClick(md.clear_button, Qt.MouseButton.LeftButton)
    assert window.analysis_mask is None and window.layers.get("Mask (outside hidden)") is None


def test_training_and_prediction_in_the_gui_honour_the_mask(qtbot, window, errors, tmp_path):
    # a 30 x 30 crop with labels, so that training takes seconds
    from hsiviewer import open_scene

    with np.load(demo_scene_path()) as archive:
        np.savez(tmp_path / "crop.npz", data=archive["data"][30:60, 15:45], labels=archive["labels"][30:60, 15:45])
    assert window.open_scene(tmp_path / "crop.npz") is not None
    tools, models = window.spectral_tools, window.model_tools
    mask = np.zeros((30, 30), bool)
    mask[:, :18] = True
    tools.masks.set(mask)
    models.actions["train"].trigger()
    qtbot.waitUntil(lambda: models.ready, timeout=120_000)  # the engine loads in the background
    panel = models.panel
    panel.architecture.setCurrentIndex(panel.architecture.findData("svm_rbf"))
    panel.train_fraction.setValue(0.3)
    panel.train_button.click()
    qtbot.waitUntil(lambda: models.controller.job is None, timeout=60_000)
    model = models.controller.session.model
    assert not errors and model is not None
    crop = open_scene(tmp_path / "crop.npz")
    used = np.concatenate([model.split.train, model.split.val, model.split.test])
    assert mask.ravel()[used].all() and used.size == int(((crop.labels > 0) & mask).sum())
    panel.predict_button.click()
    qtbot.waitUntil(lambda: models.controller.job is None, timeout=60_000)
    layer = window.layers.get("Prediction (svm_rbf)")
    assert (layer.labels[~mask] == 0).all() and (layer.labels[mask] > 0).all()
    models.controller.shutdown()


def test_library_without_wavelengths_of_another_band_count_is_one_dialog(qtbot, window, errors, tmp_path):
    (tmp_path / "bands.csv").write_text("band,a\n1,0.1\n2,0.2\n3,0.3\n")
    (tmp_path / "broken.sli").write_text("not a library")
    tools = window.spectral_tools
    tools.open_library(tmp_path / "broken.sli")
    assert "has no matching header" in errors[-1][1]
    tools.open_library(tmp_path / "bands.csv")
    assert "the library has no wavelengths and 3 bands but the scene has 200" in errors[-1][1]
    assert window.spectrum_panel.reference_curves == []
    tools.show_match()
    tools.run_match()
    assert "the library has no wavelengths" in errors[-1][1] and tools.job is None
    assert window.layers.get("SAM classes") is None
