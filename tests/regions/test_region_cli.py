"""``hsiviewer rasterize`` and ``hsiviewer train --labels REGIONS --split regions``, run as a user would."""

from __future__ import annotations

import json

import numpy as np
import pyogrio.raw
import rasterio
import shapely
from shapely.geometry import box

from hsiviewer.cli import main
from hsiviewer.regions.model import RegionSet
from hsiviewer.regions.vector import write_regions


def _demo_regions(scene) -> RegionSet:
    """Two fields of each of three classes drawn on the demo scene (Indian Pines), away from each other."""
    regions = RegionSet()
    # (class id, name, boxes as col0, row0, col1, row1) over areas the ground truth gives these classes
    fields = {
        2: ("Corn-notill", [(30, 22, 36, 30), (62, 100, 68, 104)]),
        11: ("Soybean-mintill", [(42, 52, 50, 60), (122, 36, 128, 42)]),
        14: ("Woods", [(130, 110, 138, 122), (100, 132, 108, 140)]),
    }
    for cid, (name, boxes) in fields.items():
        regions.add_class(name, class_id=cid)
        for b in boxes:
            regions.add_region(box(*b), cid)
    return regions


def test_rasterize_writes_the_export_map_geotiff(tmp_path, capsys, demo_scene):
    path = write_regions(tmp_path / "fields.gpkg", _demo_regions(demo_scene), demo_scene)
    out = tmp_path / "labels.tif"
    assert (
        main(
            [
                "rasterize",
                str(path),
                "--like",
                str(demo_scene.path),
                "--out",
                str(out),
                "--region-ids",
                str(tmp_path / "ids.tif"),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "6 regions" in text and "Corn-notill" in text
    with rasterio.open(out) as src:
        labels = src.read(1)
        tags = json.loads(src.tags()["HSIVIEWER_CLASSES"])
        assert src.colormap(1)[2][:3] == tuple(_demo_regions(demo_scene).get_class(2).color)
    assert np.count_nonzero(labels == 2) == 6 * 8 + 6 * 4
    assert labels[22, 30] == 2 and labels[21, 30] == 0 and labels[29, 35] == 2 and labels[30, 35] == 0
    assert {c["name"] for c in tags["classes"]} >= {"Corn-notill", "Soybean-mintill", "Woods"}
    assert (tmp_path / "labels.qml").exists() and (tmp_path / "labels.tif.aux.xml").exists()
    with rasterio.open(tmp_path / "ids.tif") as src:
        assert sorted(np.unique(src.read(1)).tolist()) == [0, 1, 2, 3, 4, 5, 6]


def test_rasterize_all_touched_takes_more_pixels(tmp_path, capsys, demo_scene):
    regions = RegionSet()
    regions.add_class("thin")
    regions.add_region(box(10.6, 10.6, 12.4, 11.4), 1)  # no pixel centre inside; touches 3 x 2 pixels
    path = write_regions(tmp_path / "thin.gpkg", regions, demo_scene)
    out = tmp_path / "labels.tif"
    assert main(["rasterize", str(path), "--like", str(demo_scene.path), "--out", str(out)]) == 2
    assert "cover no pixel centre (ids 1)" in capsys.readouterr().err
    assert main(["rasterize", str(path), "--like", str(demo_scene.path), "--out", str(out), "--all-touched"]) == 0
    with rasterio.open(out) as src:
        assert {tuple(p) for p in np.argwhere(src.read(1) == 1)} == {
            (10, 10),
            (10, 11),
            (10, 12),
            (11, 10),
            (11, 11),
            (11, 12),
        }


def test_bad_region_files_exit_2_with_one_line(tmp_path, capsys, demo_scene):
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
    assert main(["rasterize", str(lines), "--like", str(demo_scene.path), "--out", str(tmp_path / "x.tif")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(lines) in err[0] and "holds lines" in err[0]
    good = write_regions(tmp_path / "fields.gpkg", _demo_regions(demo_scene), demo_scene)
    assert (
        main(
            [
                "rasterize",
                str(good),
                "--class-field",
                "nope",
                "--like",
                str(demo_scene.path),
                "--out",
                str(tmp_path / "x.tif"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "has no attribute 'nope'" in err and "region_id, class_id, class_name, class_color" in err
    assert (
        main(
            ["train", str(demo_scene.path), "--model", "svm_rbf", "--split", "regions", "--out", str(tmp_path / "m.pt")]
        )
        == 2
    )
    assert "--split regions needs training regions" in capsys.readouterr().err


def test_train_on_regions_with_the_region_split(tmp_path, capsys, demo_scene):
    path = write_regions(tmp_path / "fields.gpkg", _demo_regions(demo_scene), demo_scene)
    report = tmp_path / "report.json"
    assert (
        main(
            [
                "train",
                str(demo_scene.path),
                "--labels",
                str(path),
                "--split",
                "regions",
                "--model",
                "svm_rbf",
                "--out",
                str(tmp_path / "m.pt"),
                "--report",
                str(report),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "split regions" in out and "train regions" in out
    summary = json.loads(report.read_text())
    assert summary["split"] == "regions" and summary["leakage"] == 0
    per = summary["regions"]["per_class"]
    assert all(per[c]["train_regions"] == 1 and per[c]["test_regions"] == 1 for c in ("2", "11", "14"))
    # svm_rbf looks at one pixel (patch 1): no guard band, every pixel of the six fields trains or tests
    assert summary["n_train"] + summary["n_test"] == 48 + 24 + 64 + 36 + 96 + 64
    assert summary["regions"]["guard_dropped"] == 0
