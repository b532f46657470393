"""GeoTIFF export of class and confidence maps: values, georeferencing, colours, names, atomicity."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning

import hsiviewer.io.export as export
from hsiviewer.data.classes import ClassTable
from hsiviewer.data.scene import ArraySource, Scene
from hsiviewer.errors import ExportError
from hsiviewer.io.export import CLASSES_TAG, write_class_map, write_confidence_map

GDALINFO = shutil.which("gdalinfo") or "/usr/bin/gdalinfo"
BERLIN_TRANSFORM = Affine(30.0, 0.0, 383472.37, 0.0, -30.0, 5818302.35)


def georef_scene(rows=40, cols=30, bands=3) -> Scene:
    cube = np.zeros((rows, cols, bands), np.int16)
    return Scene(path=None, source=ArraySource(cube), crs=rasterio.crs.CRS.from_epsg(32633), transform=BERLIN_TRANSFORM)


def three_classes() -> ClassTable:
    return ClassTable.from_ids(
        [1, 2, 3], {1: "Corn", 2: "Grass & trees", 3: "Water"}, {1: (255, 0, 0), 2: (0, 128, 0), 3: (0, 0, 255)}
    )


def class_map(rows=40, cols=30, n=3, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n + 1, (rows, cols)).astype(np.uint8)


def gdalinfo(path: Path) -> str:
    if not Path(GDALINFO).exists():
        pytest.skip("gdalinfo is not installed")
    return subprocess.run([GDALINFO, str(path)], capture_output=True, text=True, check=True).stdout


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_round_trip_synthetic_georeferenced(tmp_path):
    scene, ids = georef_scene(), class_map()
    out = write_class_map(tmp_path / "map.tif", ids, three_classes(), like=scene)
    assert out == tmp_path / "map.tif"
    assert files_in(tmp_path) == {"map.tif", "map.tif.aux.xml", "map.qml"}
    with rasterio.open(out) as src:
        assert src.count == 1 and src.dtypes[0] == "uint8"
        np.testing.assert_array_equal(src.read(1), ids)
        assert src.crs.to_epsg() == 32633
        assert src.transform.almost_equals(BERLIN_TRANSFORM)
        assert src.nodata == 0
        assert src.descriptions[0] == "class"
        assert src.compression.name.lower() == "deflate"
        assert src.profile["tiled"] and src.block_shapes[0][0] % 16 == 0
        cmap = src.colormap(1)
        tags = src.tags()
    assert cmap[1] == (255, 0, 0, 255) and cmap[2] == (0, 128, 0, 255) and cmap[3] == (0, 0, 255, 255)
    table = ClassTable.from_dict(json.loads(tags[CLASSES_TAG]))
    assert table.names == {0: "Unclassified", 1: "Corn", 2: "Grass & trees", 3: "Water"}
    assert table.colors[2] == (0, 128, 0)


def test_sidecars_name_the_classes(tmp_path):
    write_class_map(tmp_path / "map.tif", class_map(), three_classes(), like=georef_scene())
    aux = (tmp_path / "map.tif.aux.xml").read_text()
    assert "<Category>Corn</Category>" in aux and "<Category>Grass &amp; trees</Category>" in aux
    assert '<GDALRasterAttributeTable tableType="thematic">' in aux
    qml = (tmp_path / "map.qml").read_text()
    assert '<rasterrenderer type="paletted" band="1"' in qml
    assert '<paletteEntry value="1" color="#ff0000" label="Corn" alpha="255" />' in qml
    assert 'value="0"' not in qml


def test_gdalinfo_shows_crs_colours_and_categories(tmp_path):
    write_class_map(tmp_path / "map.tif", class_map(), three_classes(), like=georef_scene())
    text = gdalinfo(tmp_path / "map.tif")
    assert "Coordinate System is:" in text and 'ID["EPSG",32633]' in text
    assert "Origin = (383472.3699" in text and "Pixel Size = (30.0000" in text
    assert "Color Table (RGB with 256 entries)" in text and "1: 255,0,0,255" in text
    categories = text.split("Categories:")[1].split("Color Table")[0]
    assert [line.strip() for line in categories.strip().splitlines()] == [
        "0: Unclassified",
        "1: Corn",
        "2: Grass & trees",
        "3: Water",
    ]
    assert "NoData Value=0" in text and "Description = class" in text


def test_berlin_georeferencing_from_rasterio(tmp_path, georef_dir):
    with rasterio.open(georef_dir / "EnMAP_BerlinUrbanGradient.tif") as src:
        crs, transform, shape = src.crs, src.transform, src.shape
    ids = class_map(*shape, n=5, seed=1)
    out = write_class_map(tmp_path / "berlin.tif", ids, ClassTable.from_labels(ids), crs=crs, transform=transform)
    with rasterio.open(out) as dst:
        assert (
            dst.crs == crs
            and dst.transform == transform
            and dst.bounds == rasterio.open(georef_dir / "EnMAP_BerlinUrbanGradient.tif").bounds
        )
        np.testing.assert_array_equal(dst.read(1), ids)


@pytest.mark.parametrize("name", ["EnMAP_BerlinUrbanGradient.tif", "EnMAP_BerlinUrbanGradient.hdr"])
def test_berlin_like_open_scene(tmp_path, georef_dir, name):
    from hsiviewer import open_scene

    try:
        scene = open_scene(georef_dir / name)
    except ImportError as exc:  # the reader of this format is not there yet
        pytest.skip(f"no reader yet: {exc}")
    ids = class_map(scene.n_rows, scene.n_cols, n=4, seed=2)
    out = write_class_map(tmp_path / "berlin.tif", ids, ClassTable.from_labels(ids), like=scene)
    with rasterio.open(out) as dst:
        assert dst.crs.to_epsg() == 32633
        assert dst.transform.almost_equals(BERLIN_TRANSFORM, precision=1e-6)
        assert dst.shape == (80, 60)


def test_ungeoreferenced_export_has_no_crs_and_no_transform(tmp_path):
    plain = Scene(path=None, source=ArraySource(np.zeros((20, 25, 2), np.uint16)))
    out = write_class_map(tmp_path / "plain.tif", class_map(20, 25), three_classes(), like=plain)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(out) as src:
            assert src.crs is None
            assert src.transform == Affine.identity()
    text = gdalinfo(out)
    assert "Coordinate System" not in text and "Origin =" not in text
    assert "Categories:" in text


def test_explicit_georeferencing_overrides_like(tmp_path):
    out = write_class_map(
        tmp_path / "m.tif",
        class_map(),
        three_classes(),
        like=georef_scene(),
        crs="EPSG:4326",
        transform=(0.001, 0, 13.0, 0, -0.001, 52.5),
    )
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 4326
        assert src.transform == Affine(0.001, 0, 13.0, 0, -0.001, 52.5)


def test_more_than_255_classes_is_uint16(tmp_path):
    ids = np.arange(12 * 30, dtype=np.int64).reshape(12, 30) % 301
    out = write_class_map(tmp_path / "many.tif", ids, ClassTable.from_labels(ids))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(out) as src:
            assert src.dtypes[0] == "uint16"
            np.testing.assert_array_equal(src.read(1), ids)
            assert src.colormap(1)[300][3] == 255
    aux = (tmp_path / "many.tif.aux.xml").read_text()
    assert aux.count("<Category>") == 301 and "<Category>Class 300</Category>" in aux


def test_wrong_shape_is_refused_and_leaves_the_old_file(tmp_path):
    target = tmp_path / "map.tif"
    write_class_map(target, class_map(), three_classes(), like=georef_scene())
    before = {name: (tmp_path / name).read_bytes() for name in files_in(tmp_path)}
    with pytest.raises(ExportError, match=r"map.tif: the class map is 10 x 30 but the scene .* 40 x 30"):
        write_class_map(target, class_map(10, 30), three_classes(), like=georef_scene())
    assert {name: (tmp_path / name).read_bytes() for name in files_in(tmp_path)} == before


def test_failure_mid_write_leaves_old_files_and_no_temporaries(tmp_path, monkeypatch):
    target = tmp_path / "map.tif"
    write_class_map(target, class_map(seed=1), three_classes(), like=georef_scene())
    before = {name: (tmp_path / name).read_bytes() for name in files_in(tmp_path)}

    def broken_style(classes):
        raise RuntimeError("disk full while writing the style")

    # The tif and the aux.xml are complete in their temporary files when the style fails.
    monkeypatch.setattr(export, "qgis_style", broken_style)
    with pytest.raises(RuntimeError, match="disk full"):
        write_class_map(target, class_map(seed=2), three_classes(), like=georef_scene())
    assert {name: (tmp_path / name).read_bytes() for name in files_in(tmp_path)} == before


def test_bad_ids_are_refused(tmp_path):
    with pytest.raises(ExportError, match="integer class ids"):
        write_class_map(tmp_path / "f.tif", np.zeros((4, 4), np.float32), three_classes())
    with pytest.raises(ExportError, match="negative"):
        write_class_map(tmp_path / "n.tif", -np.ones((4, 4), np.int32), three_classes())
    with pytest.raises(ExportError, match="2-D"):
        write_class_map(tmp_path / "3d.tif", np.zeros((4, 4, 2), np.uint8), three_classes())
    assert files_in(tmp_path) == set()


def test_unwritable_folder_names_the_path(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    target = blocker / "map.tif"
    with pytest.raises(ExportError, match="not_a_folder/map.tif: the folder .*not_a_folder does not exist"):
        write_class_map(target, class_map(), three_classes())
    with pytest.raises(ExportError, match="is a folder"):
        write_class_map(tmp_path, class_map(), three_classes())


def test_confidence_map_round_trip(tmp_path):
    confidence = np.random.default_rng(3).random((40, 30)).astype(np.float64)
    confidence[:5] = np.nan
    target = tmp_path / "conf.tif"
    (tmp_path / "conf.tif.aux.xml").write_text("<PAMDataset/>")  # stale, from an older class map
    write_confidence_map(target, confidence, like=georef_scene())
    assert files_in(tmp_path) == {"conf.tif"}
    with rasterio.open(target) as src:
        assert src.dtypes[0] == "float32" and np.isnan(src.nodata)
        assert src.crs.to_epsg() == 32633 and src.transform.almost_equals(BERLIN_TRANSFORM)
        assert src.compression.name.lower() == "deflate" and src.profile["tiled"]
        np.testing.assert_allclose(src.read(1), confidence.astype(np.float32), equal_nan=True)
    with pytest.raises(ExportError, match="confidence map is 4 x 4"):
        write_confidence_map(target, np.zeros((4, 4)), like=georef_scene())


def test_open_labels_reads_an_exported_map_back(tmp_path):
    pytest.importorskip("hsiviewer.io.labels")
    from hsiviewer import open_labels

    ids = class_map()
    out = write_class_map(tmp_path / "map.tif", ids, three_classes(), like=georef_scene())
    labels, classes = open_labels(out)
    np.testing.assert_array_equal(labels, ids)
    assert classes.names[2] == "Grass & trees" and tuple(classes.colors[3]) == (0, 0, 255)
