"""The Regions panel and files in the app: classes, save -> open, unsaved prompt, statistics, training."""

from __future__ import annotations

import csv

import numpy as np
import pyogrio.raw
import pytest
import shapely

pytest.importorskip("pytestqt")
from shapely.geometry import box  # noqa: E402

from hsiviewer import demo_scene_path  # noqa: E402
from hsiviewer.regions.rasterize import rasterize_regions  # noqa: E402


@pytest.fixture
def window(make_window, tmp_path, monkeypatch):
    monkeypatch.setenv("HSIVIEWER_SETTINGS", str(tmp_path / "settings.ini"))
    win = make_window((1300, 850))
    win.region_tools.ask_unsaved = lambda: "discard"
    yield win
    win.model_tools.controller.shutdown()


def draw_fields(rt):
    rt.add_class("corn")
    rt.add_class("woods")
    rt.regions.add_region(box(30, 22, 36, 30), 1)
    rt.regions.add_region(box(62, 100, 68, 104), 1)
    rt.regions.add_region(box(130, 110, 138, 122), 2)
    rt.regions.add_region(box(100, 132, 108, 140), 2)


def test_draw_save_open_gives_identical_regions_and_rasters(qtbot, window, tmp_path, errors):
    rt = window.region_tools
    draw_fields(rt)
    rt.recolor_class((10, 200, 30))  # the selected class: corn
    assert rt.regions.dirty
    path = rt.save(tmp_path / "fields.gpkg")
    assert path is not None and not rt.regions.dirty and (tmp_path / "fields.qml").exists()
    before = [(r.region_id, r.class_id, r.geometry.wkt) for r in rt.regions.regions]
    classes = [(c.class_id, c.name, c.color) for c in rt.regions.classes]
    raster = rasterize_regions(rt.regions.regions, window.scene.shape[:2])
    rt.regions.delete_class(1)
    assert rt.open(path)
    assert [(r.region_id, r.class_id, r.geometry.wkt) for r in rt.regions.regions] == before
    assert [(c.class_id, c.name, c.color) for c in rt.regions.classes] == classes
    again = rasterize_regions(rt.regions.regions, window.scene.shape[:2])
    assert np.array_equal(raster.labels, again.labels) and np.array_equal(raster.region_ids, again.region_ids)
    assert np.array_equal(rt.overlay.class_of_pixels(), raster.labels)
    assert not rt.regions.dirty and not errors


def test_unsaved_regions_prompt_before_another_scene_opens(qtbot, window, tmp_path):
    rt = window.region_tools
    draw_fields(rt)
    asked = []
    rt.ask_unsaved = lambda: asked.append(1) or "cancel"
    scene = window.scene
    assert window.open_scene(demo_scene_path()) is None
    assert window.scene is scene and len(rt.regions) == 4 and asked == [1]
    rt.ask_unsaved = lambda: "save"
    rt.path = tmp_path / "kept.gpkg"
    assert window.open_scene(demo_scene_path()) is not None
    assert (tmp_path / "kept.gpkg").exists() and len(rt.regions) == 0
    assert window.open_scene(demo_scene_path()) is not None  # nothing drawn: no question


def test_class_editing_visibility_and_counts(qtbot, window):
    rt = window.region_tools
    draw_fields(rt)
    rt.update_statistics()
    panel = rt.panel
    assert [panel.table.item(r, 0).text() for r in range(2)] == ["corn", "woods"]
    assert [(panel.table.item(r, 1).text(), panel.table.item(r, 2).text()) for r in range(2)] == [
        ("2", str(6 * 8 + 6 * 4)),
        ("2", str(8 * 12 + 8 * 8)),
    ]
    panel.select_class(2)
    rt.rename_class("forest")
    assert rt.regions.get_class(2).name == "forest" and panel.table.item(1, 0).text() == "forest"
    # unticking a class hides its fill and outlines on the map
    tile = rt.overlay._tiles[(0, 0)]
    assert tile.image[115, 134, 3] > 0
    panel.table.item(1, 0).setCheckState(panel.table.item(1, 0).checkState().__class__.Unchecked)
    assert not rt.regions.get_class(2).visible and tile.image[115, 134, 3] == 0
    rt.add_class("spare")
    panel.select_class(1)
    rt.merge_class("forest")
    assert [c.name for c in rt.regions.classes] == ["forest", "spare"]
    assert {r.class_id for r in rt.regions.regions} == {2}
    panel.select_class(2)
    rt.delete_class()
    assert len(rt.regions) == 0
    rt.regions.undo()
    rt.regions.undo()
    assert {r.class_id for r in rt.regions.regions} == {1, 2}


def test_statistics_are_the_class_means_and_export_as_csv(qtbot, window, tmp_path):
    rt = window.region_tools
    draw_fields(rt)
    rt.tools.select(3)
    rt.update_statistics()
    cube = window.scene.to_array().astype(np.float64)
    corn = np.concatenate([cube[22:30, 30:36].reshape(-1, 200), cube[100:104, 62:68].reshape(-1, 200)])
    stats = {s.key: s for s in rt.panel.stats}
    assert stats[1].n_pixels == 72 and stats[1].n_regions == 2
    assert np.allclose(stats[1].mean, corn.mean(axis=0)) and np.allclose(stats[1].std, corn.std(axis=0))
    assert np.allclose(rt.panel.region_stats.mean, cube[110:122, 130:138].reshape(-1, 200).mean(axis=0))
    curves = [item for item in rt.panel.plot.getPlotItem().listDataItems() if item.name()]
    assert [c.name() for c in curves] == ["corn (72 px, 2 reg.)", "woods (160 px, 2 reg.)", "region 3 (96 px)"]
    out = rt.export_statistics(tmp_path / "stats.csv")
    rows = [r for r in csv.reader(line for line in out.read_text().splitlines() if not line.startswith("#"))]
    assert rows[0][:5] == ["band", "wavelength_nm", "bad_band", "corn mean", "corn std"]
    assert len(rows) == 201 and float(rows[10][3]) == pytest.approx(corn.mean(axis=0)[9], rel=1e-5)


def test_open_a_foreign_file_choosing_the_class_attribute_and_bad_files(qtbot, window, tmp_path, errors):
    rt = window.region_tools
    # pixel coordinates in a file without a CRS (GeoJSON would always be WGS 84): a GeoPackage
    path = tmp_path / "survey.gpkg"
    pyogrio.raw.write(
        path,
        shapely.to_wkb(np.array([box(5, 5, 10, 9), box(40, 40, 44, 50)], dtype=object)),
        [np.array(["wet", "dry"], dtype=object), np.array([3, 4])],
        ["habitat", "plot"],
        driver="GPKG",
        geometry_type="Polygon",
    )
    asked = []
    rt.ask_item = lambda title, label, items: asked.append(items) or "habitat"
    field = rt._choose_class_field(str(path))
    assert field == "habitat" and asked == [["habitat", "plot"]]
    assert rt.open(path, field)
    assert [c.name for c in rt.regions.classes] == ["wet", "dry"]
    assert rasterize_regions(rt.regions.regions, (145, 145)).labels[5:9, 5:10].tolist() == [[1] * 5] * 4
    lines = tmp_path / "lines.geojson"
    pyogrio.raw.write(
        lines,
        shapely.to_wkb(np.array([shapely.LineString([(0, 0), (1, 1)])])),
        [np.array(["a"], dtype=object)],
        ["class"],
        crs="EPSG:4326",
        driver="GeoJSON",
        geometry_type="LineString",
    )
    assert not rt.open(lines)
    assert errors[-1][0] == "Cannot open the regions" and "holds lines" in errors[-1][1]
    assert [c.name for c in rt.regions.classes] == ["wet", "dry"]  # nothing lost


def test_training_panel_trains_on_the_drawn_regions(qtbot, window, errors):
    rt = window.region_tools
    draw_fields(rt)
    tools = window.model_tools
    tools.actions["train"].trigger()
    qtbot.waitUntil(lambda: tools.ready, timeout=120_000)  # the engine loads in the background
    panel = tools.panel
    panel.architecture.setCurrentIndex(panel.architecture.findData("svm_rbf"))
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    panel.split_method.setCurrentIndex(panel.split_method.findData("regions"))
    panel.train_button.click()
    assert errors[-1][1].startswith("The whole-regions split needs drawn regions")
    panel.label_source.setCurrentIndex(panel.label_source.findData("regions"))
    panel.train_fraction.setValue(0.5)
    panel.train_button.click()
    qtbot.waitUntil(lambda: tools.controller.job is None, timeout=120_000)
    model = tools.controller.session.model
    assert model is not None and model.split.method == "regions"
    per = model.metrics["regions"]["per_class"]
    assert per["1"]["train_regions"] == 1 and per["1"]["test_regions"] == 1
    assert model.classes.name(2) == "woods"
    summary = tools.results.summary.text()  # the Results panel: regions and pixels per class on each side
    assert "train regions" in summary and "untested" not in summary


def test_closing_with_unsaved_regions_asks_first(qtbot, window):
    rt = window.region_tools
    draw_fields(rt)
    rt.ask_unsaved = lambda: "cancel"
    assert not window.close() and window.isVisible() and len(rt.regions) == 4
    rt.ask_unsaved = lambda: "discard"
    assert window.close()


def test_region_means_go_into_the_spectral_library(qtbot, window, errors):
    """Library panel ▸ Add region means: one spectrum per class, the mean of its regions' pixels."""
    panel = window.spectral_tools.panel
    panel.add_means_button.click()
    assert "no training regions" in errors[-1][1]  # nothing drawn yet: one clear message
    draw_fields(window.region_tools)
    panel.add_means_button.click()
    library = window.spectral_tools.library.library
    assert library is not None and len(library) == 2
    assert library.names[0].startswith("corn (mean of") and library.names[1].startswith("woods (mean of")
    cube = window.scene.to_array().astype(np.float64)
    corn = np.concatenate(
        [cube[22:30, 30:36].reshape(-1, cube.shape[2]), cube[100:104, 62:68].reshape(-1, cube.shape[2])]
    )
    np.testing.assert_allclose(library.spectra[0], corn.mean(axis=0), rtol=1e-9)
    assert window.spectrum_panel.reference_curves  # shown in the spectrum plot at once
