"""Streaming prediction: the streamed GeoTIFFs equal predict_scene + write_class_map, block by block."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from hsiviewer import demo_scene_path, open_scene
from hsiviewer.engine.inference import predict_scene
from hsiviewer.engine.streaming import predict_to_file
from hsiviewer.engine.training import TrainConfig, train_model
from hsiviewer.errors import ModelFileError
from hsiviewer.io.export import write_class_map, write_confidence_map
from hsiviewer.io.numpy_io import scene_from_array
from hsiviewer.io.tiled_export import ClassMapWriter, overview_factors
from hsiviewer.progress import CancelToken

SMALL = {"pca_components": 16, "patch_size": 9}


def crop_scene(rows=slice(30, 60), cols=slice(0, 40), nodata=None):
    """A georeferenced crop of the demo scene (int32 so that a nodata value can be planted)."""
    full = open_scene(demo_scene_path())
    cube = np.ascontiguousarray(full.read_subregion(rows, cols)).astype(np.int32)
    meta = {"classes": full.classes.to_dict()["classes"], "nodata": nodata}
    scene = scene_from_array(None, cube, full.labels[rows, cols].copy(), meta)
    scene.crs, scene.transform = "EPSG:32616", Affine(20.0, 0, 500_000.0, 0, -20.0, 4_500_000.0)
    return scene


@pytest.fixture(scope="module")
def scene():
    return crop_scene()


@pytest.fixture(scope="module")
def hybridsn(scene):
    config = TrainConfig(
        model="hybridsn", epochs=1, batch_size=32, train_fraction=0.3, seed=0, device="cpu", hyper=dict(SMALL)
    )
    return train_model(scene, config)


@pytest.fixture(scope="module")
def svm(scene):
    return train_model(scene, TrainConfig(model="svm_rbf", train_fraction=0.3, seed=0))


def in_memory(model, scene, tmp_path, method, tile_rows=None):
    """Today's path: predict_scene, then write_class_map and write_confidence_map."""
    pred = predict_scene(model, scene, method=method, device="cpu", tile_rows=tile_rows)
    ref = tmp_path / "ref"
    ref.mkdir(exist_ok=True)
    write_class_map(ref / "map.tif", pred.class_map, model.classes, like=scene)
    write_confidence_map(ref / "conf.tif", pred.confidence, like=scene)
    return ref / "map.tif", ref / "conf.tif"


def assert_same_files(streamed, conf, ref, ref_conf):
    with rasterio.open(streamed) as a, rasterio.open(ref) as b:
        np.testing.assert_array_equal(a.read(1), b.read(1))
        assert a.dtypes == b.dtypes and a.nodata == b.nodata
        assert a.crs == b.crs and a.transform == b.transform
        assert a.colormap(1) == b.colormap(1)
        assert a.tags() == b.tags() and a.descriptions == b.descriptions
        assert (
            a.profile["compress"] == b.profile["compress"] and a.profile["tiled"] and a.block_shapes == b.block_shapes
        )
    assert (streamed.parent / (streamed.name + ".aux.xml")).read_text() == (
        ref.parent / (ref.name + ".aux.xml")
    ).read_text()
    assert streamed.with_suffix(".qml").read_text() == ref.with_suffix(".qml").read_text()
    with rasterio.open(conf) as a, rasterio.open(ref_conf) as b:
        np.testing.assert_array_equal(a.read(1), b.read(1))
        assert a.descriptions == b.descriptions and a.dtypes == b.dtypes


def no_temporaries(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("method", ["dense", "patch"])
def test_streamed_files_equal_the_in_memory_path(hybridsn, scene, tmp_path, method):
    ref, ref_conf = in_memory(hybridsn, scene, tmp_path, method, tile_rows=3)
    # Small blocks: many blocks, halos crossing block edges, the last block shorter.
    events = []
    result = predict_to_file(
        hybridsn,
        scene,
        tmp_path / "map.tif",
        tmp_path / "conf.tif",
        method=method,
        device="cpu",
        tile_rows=3,
        block_rows=7,
        progress=events.append,
    )
    assert len(events) == 5  # blocks of 6 rows: whole tiles of 3
    assert result.method == method and not result.cancelled and result.rows_done == scene.n_rows
    assert_same_files(tmp_path / "map.tif", tmp_path / "conf.tif", ref, ref_conf)
    assert no_temporaries(tmp_path) == []


def test_given_tile_rows_follow_predict_scene_with_those_tiles(hybridsn, scene, tmp_path):
    ref, ref_conf = in_memory(hybridsn, scene, tmp_path, "dense", tile_rows=4)
    predict_to_file(
        hybridsn,
        scene,
        tmp_path / "map.tif",
        tmp_path / "conf.tif",
        method="dense",
        device="cpu",
        tile_rows=4,
        block_rows=10,
    )
    assert_same_files(tmp_path / "map.tif", tmp_path / "conf.tif", ref, ref_conf)


def test_sklearn_model_streams_the_same_classes(svm, scene, tmp_path):
    ref, ref_conf = in_memory(svm, scene, tmp_path, "auto", tile_rows=5)
    result = predict_to_file(svm, scene, tmp_path / "map.tif", tmp_path / "conf.tif", tile_rows=5, block_rows=5)
    assert result.method == "spectrum"
    assert_same_files(tmp_path / "map.tif", tmp_path / "conf.tif", ref, ref_conf)


def test_nodata_pixels_stay_nodata(hybridsn, tmp_path):
    scene = crop_scene(nodata=-1)
    cube = scene.source.array
    cube[3:6, 10:20] = -1  # a nodata hole whose fill value must not leak into its neighbours' patches
    ref, ref_conf = in_memory(hybridsn, scene, tmp_path, "dense", tile_rows=4)
    predict_to_file(
        hybridsn,
        scene,
        tmp_path / "map.tif",
        tmp_path / "conf.tif",
        method="dense",
        device="cpu",
        tile_rows=4,
        block_rows=4,
    )
    assert_same_files(tmp_path / "map.tif", tmp_path / "conf.tif", ref, ref_conf)
    with rasterio.open(tmp_path / "map.tif") as f:
        assert (f.read(1)[3:6, 10:20] == 0).all()


def test_progress_carries_each_finished_block(hybridsn, scene, tmp_path):
    events = []
    predict_to_file(
        hybridsn,
        scene,
        tmp_path / "map.tif",
        method="dense",
        device="cpu",
        tile_rows=4,
        block_rows=8,
        progress=events.append,
    )
    assert [e.done for e in events] == list(range(1, len(events) + 1)) and events[-1].total == len(events)
    rows = [e.metrics["rows"] for e in events]
    assert [(r.start, r.stop) for r in rows] == [(0, 8), (8, 16), (16, 24), (24, 30)]
    assert all(r.confidence is None for r in rows)
    with rasterio.open(tmp_path / "map.tif") as f:
        np.testing.assert_array_equal(np.concatenate([r.class_map for r in rows]), f.read(1))


def test_cancel_leaves_no_file(hybridsn, scene, tmp_path):
    (tmp_path / "map.tif").write_bytes(b"an older map")
    token = CancelToken()

    def stop_after_first(event):
        token.cancel()

    result = predict_to_file(
        hybridsn,
        scene,
        tmp_path / "map.tif",
        tmp_path / "conf.tif",
        method="dense",
        device="cpu",
        tile_rows=4,
        block_rows=8,
        progress=stop_after_first,
        cancel=token,
    )
    assert result.cancelled and result.path is None and result.rows_done == 8
    assert (tmp_path / "map.tif").read_bytes() == b"an older map"  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.tif"]


def test_cancel_with_keep_partial_keeps_the_finished_rows(hybridsn, scene, tmp_path):
    token = CancelToken()
    full = predict_scene(hybridsn, scene, method="dense", device="cpu", tile_rows=4)
    result = predict_to_file(
        hybridsn,
        scene,
        tmp_path / "map.tif",
        tmp_path / "conf.tif",
        method="dense",
        device="cpu",
        tile_rows=4,
        block_rows=8,
        progress=lambda e: token.cancel(),
        cancel=token,
        keep_partial=True,
    )
    assert result.cancelled and result.path == tmp_path / "map.tif"
    with rasterio.open(tmp_path / "map.tif") as f, rasterio.open(tmp_path / "conf.tif") as c:
        classes, conf = f.read(1), c.read(1)
    np.testing.assert_array_equal(classes[:8], full.class_map[:8])
    assert (classes[8:] == 0).all() and np.isnan(conf[8:]).all()
    np.testing.assert_array_equal(conf[:8], full.confidence[:8])
    assert no_temporaries(tmp_path) == []


def test_wrong_band_count_writes_nothing(hybridsn, tmp_path):
    other = scene_from_array(None, np.zeros((10, 10, 5), np.float32), None, {})
    with pytest.raises(ModelFileError, match="bands"):
        predict_to_file(hybridsn, other, tmp_path / "map.tif")
    assert list(tmp_path.iterdir()) == []


def test_writer_adds_overviews_and_abort_removes_everything(tmp_path, scene):
    assert overview_factors(600, 700) == [2, 4] and overview_factors(200, 5000) == []
    writer = ClassMapWriter(tmp_path / "big.tif", (600, 600), scene.classes, [1, 2], tmp_path / "c.tif")
    for a in range(0, 600, 100):
        writer.write_rows(a, np.full((100, 600), 1 + (a // 100) % 2, np.uint8), np.full((100, 600), 0.5))
    writer.finish()
    with rasterio.open(tmp_path / "big.tif") as f, rasterio.open(tmp_path / "c.tif") as c:
        assert f.overviews(1) == [2, 4] and c.overviews(1) == [2, 4]
        assert (f.read(1)[100:200] == 2).all()
    aborted = ClassMapWriter(tmp_path / "other.tif", (50, 50), scene.classes, [1, 2], tmp_path / "oc.tif")
    aborted.write_rows(0, np.ones((10, 50), np.uint8))
    assert len(aborted.temporary_paths) == 2
    aborted.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.qml", "big.tif", "big.tif.aux.xml", "c.tif"]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["dense", "patch", "svm"])
def test_indian_pines_streams_the_same_classes(tmp_path, method):
    scene = open_scene(demo_scene_path())
    if method == "svm":
        model = train_model(scene, TrainConfig(model="svm_rbf", train_fraction=0.05, seed=0))
    else:
        model = train_model(
            scene,
            TrainConfig(
                model="hybridsn", epochs=1, batch_size=64, train_fraction=0.05, seed=0, device="cpu", hyper=dict(SMALL)
            ),
        )
    method = "auto" if method == "svm" else method
    ref, ref_conf = in_memory(model, scene, tmp_path, method)
    # The default tiles, two of them per block: several blocks over the 145 rows.
    events = []
    predict_to_file(
        model,
        scene,
        tmp_path / "map.tif",
        tmp_path / "conf.tif",
        method=method,
        device="cpu",
        block_rows=60,
        progress=events.append,
    )
    assert len(events) >= 3
    assert_same_files(tmp_path / "map.tif", tmp_path / "conf.tif", ref, ref_conf)
