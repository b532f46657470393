"""Reading and writing region files: round trips, reprojection, pixel space and bad input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import transform as warp
from shapely.geometry import Point, box

from hsiviewer import open_scene, read_regions
from hsiviewer.data.scene import ArraySource, Scene
from hsiviewer.errors import RegionError
from hsiviewer.regions.model import RegionSet
from hsiviewer.regions.rasterize import rasterize_regions
from hsiviewer.regions.vector import write_regions


def _scene(crs=None, transform=None, shape=(20, 30)):
    cube = np.random.default_rng(0).random((*shape, 4)).astype(np.float32)
    return Scene(path=None, source=ArraySource(cube), crs=crs, transform=transform)


def _drawn() -> RegionSet:
    regions = RegionSet()
    regions.add_class("water", (0, 90, 200))
    regions.add_class("meadow", (40, 180, 40))
    regions.add_class("unused", (9, 9, 9))  # a class without regions must survive the round trip
    regions.add_region(box(2.3, 3.1, 9.7, 8.4), 1)
    regions.add_region(shapely.Polygon([(12, 2), (20.5, 4), (15, 11.2)]), 2)
    regions.add_region(Point(25.5, 15.5), 1)
    regions.add_region(box(5, 5, 14, 7), 2)  # overlaps both
    return regions


def _write_wkb(path, geoms, fields: dict, crs=None, driver="GeoJSON"):
    warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
    pyogrio.raw.write(
        path,
        shapely.to_wkb(np.array(geoms, dtype=object)),
        [np.asarray(v) for v in fields.values()],
        list(fields),
        crs=crs,
        driver=driver,
        geometry_type="Unknown",
    )


@pytest.mark.parametrize("georef", [True, False])
def test_save_and_open_give_identical_regions_and_rasters(tmp_path, georef):
    scene = _scene(CRS.from_epsg(32633), Affine(30, 0, 383000, 0, -30, 5818000)) if georef else _scene()
    regions = _drawn()
    path = write_regions(tmp_path / "r.gpkg", regions, scene)
    back = read_regions(path).to_scene(scene)
    assert [(c.class_id, c.name, c.color) for c in back.classes] == [
        (c.class_id, c.name, c.color) for c in regions.classes
    ]
    assert [(r.region_id, r.class_id) for r in back.regions] == [(r.region_id, r.class_id) for r in regions.regions]
    for a, b in zip(regions.regions, back.regions):
        assert a.geometry.equals_exact(b.geometry, 1e-6)
    before = rasterize_regions(regions.regions, scene.shape[:2])
    after = rasterize_regions(back.regions, scene.shape[:2])
    assert np.array_equal(before.labels, after.labels) and np.array_equal(before.region_ids, after.region_ids)
    assert (tmp_path / "r.qml").read_text().count("<category ") == 3
    info = pyogrio.read_info(path)
    if georef:
        assert CRS.from_user_input(info["crs"]).to_epsg() == 32633
        # map coordinates: the first box starts at x = 383000 + 2.3 * 30
        assert shapely.from_wkb(pyogrio.raw.read(path)[2][0]).bounds[0] == pytest.approx(383069.0)
    else:
        assert info["crs"] is None
        assert "PIXEL coordinates" in info["layer_metadata"]["DESCRIPTION"]


def test_regions_in_wgs84_land_on_the_right_pixels_of_the_utm_scene(tmp_path, georef_dir):
    scene = open_scene(georef_dir / "EnMAP_BerlinUrbanGradient.tif")
    # pixel-space corners of a block over rows 10..14, cols 5..9, and a point in pixel (40, 30)
    cols, rows = np.array([5.2, 9.8, 9.8, 5.2]), np.array([10.2, 10.2, 14.8, 14.8])
    xs, ys = scene.transform @ (cols, rows)
    lon, lat = warp(scene.crs, "EPSG:4326", list(xs), list(ys))
    px, py = scene.transform @ (30.5, 40.5)
    plon, plat = warp(scene.crs, "EPSG:4326", [px], [py])
    path = tmp_path / "wgs84.geojson"
    _write_wkb(
        path,
        [shapely.Polygon(zip(lon, lat)), Point(plon[0], plat[0])],
        {"class": np.array(["grass", "roof"], dtype=object)},
        crs="EPSG:4326",
    )
    placed = read_regions(path).to_scene(scene)
    labels = rasterize_regions(placed.regions, scene.shape[:2]).labels
    expected = np.zeros(scene.shape[:2], np.uint16)
    expected[10:15, 5:10] = 1
    expected[40, 30] = 2
    assert np.array_equal(labels, expected)
    assert [c.name for c in placed.classes] == ["grass", "roof"]


def test_a_file_without_crs_is_taken_in_the_scene_crs_and_says_so(tmp_path):
    scene = _scene(CRS.from_epsg(32633), Affine(30, 0, 1000, 0, -30, 2000))
    path = tmp_path / "nocrs.gpkg"  # (GeoJSON is WGS 84 by definition: GDAL gives it that CRS)
    _write_wkb(
        path,
        [box(1000 + 30 * 2.1, 2000 - 30 * 3.9, 1000 + 30 * 3.9, 2000 - 30 * 2.1)],
        {"label": np.array([7])},
        driver="GPKG",
    )
    region_file = read_regions(path)
    placed = region_file.to_scene(scene)
    labels = rasterize_regions(placed.regions, scene.shape[:2]).labels
    assert {tuple(p) for p in np.argwhere(labels == 7)} == {(2, 2), (2, 3), (3, 2), (3, 3)}
    assert any("taken to be the scene's" in n for n in region_file.notes)


def test_invalid_polygons_are_repaired_and_counted(tmp_path):
    bowtie = shapely.Polygon([(0, 0), (4, 4), (4, 0), (0, 4)])
    path = tmp_path / "bowtie.geojson"
    _write_wkb(path, [bowtie, box(5, 5, 6, 6)], {"class": np.array(["a", "b"], dtype=object)})
    region_file = read_regions(path)
    assert region_file.repaired == 1 and "1 invalid polygon(s) repaired" in region_file.notes[0]
    assert all(g.is_valid for g in region_file.geometries)
    assert region_file.geometries[0].area == pytest.approx(8.0)


@pytest.mark.parametrize(
    "case, message",
    [
        ("lines", "holds lines"),
        ("empty", "holds no features"),
        ("unknown_field", "has no attribute 'kind' for the class; its attributes are: class, other"),
        ("no_class_field", "has no class attribute"),
        ("missing_class", "feature(s) have no value in the class attribute 'class' (features 2)"),
        ("not_vector", "cannot be read as a vector file"),
    ],
)
def test_bad_files_give_one_clear_message_naming_the_file(tmp_path, case, message):
    path = tmp_path / f"{case}.geojson"
    if case == "lines":
        _write_wkb(path, [shapely.LineString([(0, 0), (3, 3)])], {"class": np.array(["a"], dtype=object)})
    elif case == "empty":
        path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    elif case in ("unknown_field", "no_class_field"):
        _write_wkb(
            path,
            [box(0, 0, 1, 1)],
            {"class" if case == "unknown_field" else "foo": np.array(["a"], dtype=object), "other": np.array([1])},
        )
    elif case == "missing_class":
        _write_wkb(path, [box(0, 0, 1, 1), box(2, 2, 3, 3)], {"class": np.array(["a", None], dtype=object)})
    else:
        path.write_text("this is not GeoJSON")
    with pytest.raises(RegionError) as err:
        read_regions(path, "kind" if case == "unknown_field" else None)
    assert message in str(err.value) and str(path) in str(err.value)


def test_crs_that_cannot_be_placed_on_the_scene(tmp_path):
    path = tmp_path / "utm.geojson"
    _write_wkb(path, [box(0, 0, 1, 1)], {"class": np.array(["a"], dtype=object)}, crs="EPSG:32633")
    with pytest.raises(RegionError, match="has no coordinate reference system to place it by"):
        read_regions(path).to_scene(_scene())
    weird = tmp_path / "weird.gpkg"
    # a local engineering CRS has no transformation to a projected one
    local = (
        'ENGCRS["local",EDATUM["site"],CS[Cartesian,2],AXIS["x",east,LENGTHUNIT["metre",1]],'
        'AXIS["y",north,LENGTHUNIT["metre",1]]]'
    )
    _write_wkb(weird, [box(0, 0, 1, 1)], {"class": np.array(["a"], dtype=object)}, crs=local, driver="GPKG")
    with pytest.raises(RegionError, match="cannot be transformed"):
        read_regions(weird).to_scene(_scene(CRS.from_epsg(32633), Affine(30, 0, 0, 0, -30, 0)))


def test_an_interrupted_save_leaves_the_previous_file(tmp_path, monkeypatch):
    scene = _scene()
    path = write_regions(tmp_path / "r.gpkg", _drawn(), scene)
    before = path.read_bytes()
    more = _drawn()
    more.add_region(box(1, 1, 2, 2), 1)

    def half_write(tmp, *args, **kwargs):
        tmp.write_bytes(b"half a GeoPackage")
        raise KeyboardInterrupt  # the user's Ctrl-C (or a crash) in the middle of the write

    monkeypatch.setattr(pyogrio.raw, "write", half_write)
    with pytest.raises(KeyboardInterrupt):
        write_regions(path, more, scene)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.gpkg", "r.qml"]
