"""Label rasters in every format, with class names and colours, and the real Indian Pines ground truth."""

import json
import warnings

import numpy as np
import pytest
import rasterio
import scipy.io
from _synth_files import write_envi, write_mat73

from hsiviewer.data.classes import ClassTable
from hsiviewer.errors import SceneReadError
from hsiviewer.io import attach_labels, open_labels, open_scene

INDIAN_PINES_COUNTS = [46, 1428, 830, 237, 483, 730, 28, 478, 20, 972, 2455, 593, 205, 1265, 386, 93]


@pytest.fixture
def labels(rng):
    return rng.integers(0, 4, size=(6, 8)).astype(np.uint8)


def write_label_tiff(path, labels, colormap=None, tags=None, nodata=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=labels.shape[1],
            height=labels.shape[0],
            count=1,
            dtype=labels.dtype.name,
            nodata=nodata,
        ) as dst:
            dst.write(labels, 1)
            if colormap:
                dst.write_colormap(1, colormap)
            if tags:
                dst.update_tags(**tags)
    return path


def write_pam_categories(path, names):
    """The ``.aux.xml`` GDAL writes beside a GeoTIFF whose band has category names."""
    items = "".join(f"<Category>{n}</Category>" if n else "<Category />" for n in names)
    path.with_name(path.name + ".aux.xml").write_text(
        f'<PAMDataset>\n  <PAMRasterBand band="1">\n    <CategoryNames>{items}</CategoryNames>\n'
        "  </PAMRasterBand>\n</PAMDataset>\n"
    )


def test_envi_classification_header(tmp_path, labels):
    extra = (
        "file type = ENVI Classification\nclasses = 4\n"
        "class lookup = {\n 0, 0, 0, 255, 0, 0,\n 0, 255, 0, 0, 0, 255}\n"
        "class names = {Unclassified, Water, Grass, Roofs}\n"
    )
    header, _ = write_envi(tmp_path, labels[:, :, None], extra=extra, data_suffix="")
    got, classes = open_labels(header)
    np.testing.assert_array_equal(got, labels)
    assert got.dtype == np.uint8
    assert classes.name(1) == "Water" and classes.name(3) == "Roofs" and classes.name(0) == "Unclassified"
    assert classes.color(1) == (255, 0, 0) and classes.color(3) == (0, 0, 255)


@pytest.mark.parametrize("byte_order", [0, 1])
def test_envi_int16_labels_and_nodata(tmp_path, labels, byte_order):
    raw = labels.astype(np.int16)
    raw[0, 0] = -1
    header, _ = write_envi(tmp_path, raw[:, :, None], byte_order=byte_order, extra="data ignore value = -1\n")
    got, classes = open_labels(header)
    expected = labels.copy()
    expected[0, 0] = 0
    np.testing.assert_array_equal(got, expected)
    assert classes.name(2) == "Class 2"


def test_envi_with_several_bands_is_refused(tmp_path, rng):
    header, _ = write_envi(tmp_path, rng.integers(0, 3, (3, 3, 2)).astype(np.uint8))
    with pytest.raises(SceneReadError, match="2 bands; a label image has one"):
        open_labels(header)


def test_geotiff_colour_table_and_category_names(tmp_path, labels):
    path = write_label_tiff(
        tmp_path / "classes.tif",
        labels,
        colormap={0: (0, 0, 0, 0), 1: (10, 20, 30, 255), 2: (40, 50, 60, 255), 3: (70, 80, 90, 255)},
    )
    write_pam_categories(path, ["", "Asphalt", "Meadows", "Gravel"])
    got, classes = open_labels(path)
    np.testing.assert_array_equal(got, labels)
    assert classes.ids == [0, 1, 2, 3]
    assert classes.name(0) == "Unclassified" and classes.name(2) == "Meadows"
    assert classes.color(3) == (70, 80, 90)


def test_hsiviewer_classes_tag_is_preferred(tmp_path, labels):
    table = ClassTable.from_ids([1, 2, 3], {0: "Nothing", 1: "Trees", 2: "Roads", 3: "Water"}, {1: (1, 2, 3)})
    path = write_label_tiff(
        tmp_path / "map.tif", labels, colormap={1: (200, 200, 200, 255)}, tags={"HSIVIEWER_CLASSES": table.to_json()}
    )
    write_pam_categories(path, ["", "Asphalt", "Meadows", "Gravel"])
    _, classes = open_labels(path)
    assert classes.name(0) == "Nothing" and classes.name(1) == "Trees" and classes.name(3) == "Water"
    assert classes.color(1) == (1, 2, 3)


def test_geotiff_nodata_becomes_unlabelled(tmp_path, labels):
    raw = labels.copy()
    raw[2, 3] = 255
    got, _ = open_labels(write_label_tiff(tmp_path / "nd.tif", raw, nodata=255))
    assert got[2, 3] == 0 and got.max() <= 3


def test_npy_float_labels_with_sidecar(tmp_path, labels):
    path = tmp_path / "gt.npy"
    np.save(path, labels.astype(np.float32))
    (tmp_path / "gt.json").write_text(json.dumps({"classes": [{"id": 1, "name": "Corn", "color": [9, 8, 7]}]}))
    got, classes = open_labels(path)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, labels)
    assert classes.name(1) == "Corn" and classes.color(1) == (9, 8, 7) and classes.name(2) == "Class 2"


@pytest.mark.parametrize(
    "value, problem", [(-1, "negative"), (1.5, "not whole numbers"), (np.nan, "not whole numbers")]
)
def test_bad_values_are_refused(tmp_path, labels, value, problem):
    raw = labels.astype(np.float64)
    raw[1, 1] = value
    path = tmp_path / "bad.npy"
    np.save(path, raw)
    with pytest.raises(SceneReadError, match=problem) as info:
        open_labels(path)
    assert str(path) in str(info.value)


def test_dtype_fits_the_largest_id(tmp_path):
    for high, dtype in ((255, np.uint8), (300, np.uint16), (70000, np.int32)):
        np.save(tmp_path / "ids.npy", np.array([[0, high]], np.int64))
        assert open_labels(tmp_path / "ids.npy")[0].dtype == dtype


def test_npz_labels_key_and_3d_refused(tmp_path, labels):
    np.savez(tmp_path / "s.npz", data=np.zeros((6, 8, 3)), labels=labels, other=labels + 1)
    np.testing.assert_array_equal(open_labels(tmp_path / "s.npz")[0], labels)
    np.testing.assert_array_equal(open_labels(tmp_path / "s.npz", variable="other")[0], labels + 1)
    np.savez(tmp_path / "two.npz", a=labels, b=labels)
    with pytest.raises(SceneReadError, match="2 2-D arrays"):
        open_labels(tmp_path / "two.npz")
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(SceneReadError, match="3-D array"):
        open_labels(tmp_path / "cube.npy")


def test_mat_v5_and_v73(tmp_path, labels, rng):
    scipy.io.savemat(tmp_path / "v5.mat", {"cube": rng.random((6, 8, 3)), "truth": labels.astype(float)})
    np.testing.assert_array_equal(open_labels(tmp_path / "v5.mat")[0], labels)
    write_mat73(tmp_path / "v73.mat", {"truth": labels, "cube": rng.random((6, 8, 3))})
    got, _ = open_labels(tmp_path / "v73.mat")
    assert got.shape == (6, 8)
    np.testing.assert_array_equal(got, labels)


def test_attach_labels_checks_the_size(tmp_path, labels, rng):
    np.save(tmp_path / "cube.npy", rng.random((6, 8, 2)).astype(np.float32))
    np.save(tmp_path / "gt.npy", labels)
    np.save(tmp_path / "small.npy", labels[:3])
    scene = open_scene(tmp_path / "cube.npy", labels=tmp_path / "gt.npy")
    np.testing.assert_array_equal(scene.labels, labels)
    with pytest.raises(SceneReadError, match="labels are 3 x 8 but the scene is 6 x 8"):
        attach_labels(scene, tmp_path / "small.npy")


def test_indian_pines_ground_truth(indian_pines_dir):
    labels, classes = open_labels(indian_pines_dir / "Indian_pines_gt.mat")
    scene = open_scene(indian_pines_dir / "indian_pines.npz")
    assert scene.shape == (145, 145, 200) and scene.dtype == np.uint16
    np.testing.assert_array_equal(labels, scene.labels)
    assert labels.dtype == np.uint8
    assert np.bincount(labels.ravel()).tolist() == [10776] + INDIAN_PINES_COUNTS
    assert classes.ids == list(range(17)) and classes.name(0) == "Unclassified"
    with np.load(indian_pines_dir / "indian_pines.npz") as archive:
        np.testing.assert_array_equal(scene.spectrum(17, 42), archive["data"][17, 42])


def test_round_trip_with_the_class_map_writer(tmp_path, labels):
    from hsiviewer.io.export import write_class_map

    table = ClassTable.from_ids([1, 2, 3], {1: "Trees", 2: "Roads", 3: "Water"}, {2: (5, 6, 7)})
    path = tmp_path / "map.tif"
    write_class_map(path, labels, table)
    got, classes = open_labels(path)
    np.testing.assert_array_equal(got, labels)
    assert classes.names == table.names and classes.color(2) == (5, 6, 7)
    (tmp_path / "map.tif.aux.xml").unlink(missing_ok=True)
    assert open_labels(path)[1].name(3) == "Water"  # the tag alone is enough
