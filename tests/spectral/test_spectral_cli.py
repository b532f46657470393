"""The spectral commands: library convert, match, index, and --mask / --mask-expr on train and predict."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import spectral
from spectral.io import envi

from hsiviewer import open_labels, open_scene
from hsiviewer.cli import main
from hsiviewer.spectral.library import SpectralLibrary
from hsiviewer.spectral.library_io import write_library

PICKS = [(5, 3), (20, 10), (40, 30)]


@pytest.fixture
def berlin_files(georef_dir, tmp_path):
    scene_path = georef_dir / "EnMAP_BerlinUrbanGradient.hdr"
    scene = open_scene(scene_path)
    cube = scene.to_array().astype(float)
    lib = SpectralLibrary(
        ["vegetation", "roof", "water"],
        np.array([cube[r, c] for r, c in PICKS]) / 1e4,
        scene.wavelengths,
        scene.fwhm,
        1.0,
    )
    write_library(lib, tmp_path / "refs.csv")
    return scene_path, scene, cube, tmp_path


def test_library_convert_csv_to_sli_resampled_like_a_scene(berlin_files, demo_scene, capsys):
    from hsiviewer import demo_scene_path

    _, _, _, folder = berlin_files
    out = folder / "ip.sli"
    assert (
        main(
            [
                "library",
                "convert",
                str(folder / "refs.csv"),
                str(out),
                "--like",
                str(demo_scene_path()),
                "--rescale",
                "10000",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "read 3 spectra of 177 bands, 460-2409 nm, reflectance 0-1 (detected)" in text
    assert "rescaled to reflectance 0-10000" in text
    sli = envi.open(str(out.with_suffix(".hdr")), str(out))
    assert sli.names == ["vegetation", "roof", "water"] and sli.spectra.shape == (3, 200)
    np.testing.assert_allclose(sli.bands.centers, demo_scene.wavelengths)


def test_match_writes_the_class_map_and_score(berlin_files, capsys):
    scene_path, scene, cube, folder = berlin_files
    out, score = folder / "sam.tif", folder / "score.tif"
    assert (
        main(
            [
                "match",
                str(scene_path),
                "--library",
                str(folder / "refs.csv"),
                "--out",
                str(out),
                "--score",
                str(score),
                "--threshold",
                "0.08",
            ]
        )
        == 0
    )
    angles = spectral.spectral_angles(cube, np.array([cube[r, c] for r, c in PICKS]))
    expected = np.where(angles.min(axis=2) <= 0.08, angles.argmin(axis=2) + 1, 0)
    class_map, classes = open_labels(out)
    np.testing.assert_array_equal(class_map, expected)
    assert classes.name(2) == "roof"
    with rasterio.open(score) as src:
        assert src.descriptions == ("spectral angle (rad)",) and src.crs == scene.crs and src.dtypes[0] == "float32"
        np.testing.assert_allclose(src.read(1), angles.min(axis=2), atol=1e-6)
    assert "unclassified" in capsys.readouterr().out


def test_index_writes_ndvi_as_float_geotiff(berlin_files):
    scene_path, scene, cube, folder = berlin_files
    out = folder / "ndvi.tif"
    assert main(["index", str(scene_path), "--preset", "NDVI", "--out", str(out)]) == 0
    nir = cube[:, :, np.argmin(np.abs(scene.wavelengths - 860))]
    red = cube[:, :, np.argmin(np.abs(scene.wavelengths - 650))]
    with rasterio.open(out) as src:
        assert src.descriptions == ("NDVI",) and np.isnan(src.nodata) and src.transform == scene.transform
        np.testing.assert_allclose(src.read(1), (nir - red) / (nir + red), rtol=1e-6)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--expr", "R3000 / R650"], "R3000: the scene covers 460-2409 nm"),
        (["--expr", "(R860 - R650"], "syntax error at column 1"),
        (["--expr", "NIR - R650"], "unknown name 'NIR'"),
        (["--preset", "FOO"], "unknown index preset 'FOO'"),
    ],
)
def test_index_bad_input_exits_2_with_one_message(berlin_files, capsys, args, message):
    scene_path, _, _, folder = berlin_files
    assert main(["index", str(scene_path), *args, "--out", str(folder / "x.tif")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (folder / "x.tif").exists()


def test_match_refuses_a_library_without_wavelengths_of_another_band_count(berlin_files, capsys):
    scene_path, _, _, folder = berlin_files
    (folder / "bands.csv").write_text("band,a\n1,0.1\n2,0.2\n3,0.3\n")
    assert main(["match", str(scene_path), "--library", str(folder / "bands.csv"), "--out", str(folder / "m.tif")]) == 2
    assert "the library has no wavelengths and 3 bands but the scene has 177" in capsys.readouterr().err


def test_predict_and_train_honour_a_mask(tmp_path, capsys):
    from hsiviewer import demo_scene_path

    full = open_scene(demo_scene_path())
    scene = tmp_path / "crop.npz"
    rows, cols = slice(30, 60), slice(0, 40)
    np.savez(scene, data=full.read_subregion(rows, cols), labels=full.labels[rows, cols])
    model = tmp_path / "svm.hsim"
    expr = "B30 > 4500"
    assert (
        main(
            [
                "train",
                str(scene),
                "--model",
                "svm_rbf",
                "--train-fraction",
                "0.3",
                "--out",
                str(model),
                "--mask-expr",
                expr,
            ]
        )
        == 0
    )
    assert "mask:" in capsys.readouterr().out
    from hsiviewer.engine.bundle import load_model
    from hsiviewer.spectral.mask import mask_from_expression, write_mask

    crop = open_scene(scene)
    mask = mask_from_expression(crop, expr)
    split = load_model(model).split
    used = np.concatenate([split.train, split.val, split.test])
    assert mask.ravel()[used].all() and used.size == int(((crop.labels > 0) & mask).sum())
    write_mask(tmp_path / "mask.tif", mask)
    out = tmp_path / "map.tif"
    assert (
        main(["predict", str(scene), "--model", str(model), "--out", str(out), "--mask", str(tmp_path / "mask.tif")])
        == 0
    )
    class_map, _ = open_labels(out)
    assert (class_map[~mask] == 0).all() and (class_map[mask] > 0).all()
