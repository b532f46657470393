"""GeoTIFF / GDAL reader: lazy windowed reads, georeferencing, wavelength metadata, real data."""

import threading
import warnings

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from hsiviewer.errors import SceneReadError
from hsiviewer.io import open_scene
from hsiviewer.io.gdal import RasterioSource, read_gdal

TRANSFORM = Affine(30, 0, 383472.37, 0, -30, 5818302.35)


def write_tiff(
    path,
    cube,
    crs=None,
    transform=None,
    nodata=None,
    band_tags=None,
    imagery=None,
    dataset_tags=None,
    descriptions=None,
    interleave="pixel",
):
    """Write (rows, cols, bands) ``cube`` as a GeoTIFF with the given metadata."""
    rows, cols, bands = cube.shape
    profile = dict(
        driver="GTiff",
        width=cols,
        height=rows,
        count=bands,
        dtype=cube.dtype.name,
        interleave=interleave,
        crs=crs,
        transform=transform or Affine.identity(),
        nodata=nodata,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(np.moveaxis(cube, -1, 0))
            for i in range(bands):
                if band_tags:
                    dst.update_tags(i + 1, **{k: v[i] for k, v in band_tags.items()})
                if imagery:
                    dst.update_tags(i + 1, ns="IMAGERY", **{k: v[i] for k, v in imagery.items()})
                if descriptions:
                    dst.set_band_description(i + 1, descriptions[i])
            for ns, tags in (dataset_tags or {}).items():
                dst.update_tags(ns=ns, **tags) if ns else dst.update_tags(**tags)
    return path


@pytest.fixture
def cube(rng):
    return rng.integers(-500, 5000, size=(9, 11, 5)).astype(np.int16)


def test_georeferenced_tiff_with_band_tags(tmp_path, cube):
    microns = [0.45, 0.5, 0.55, 0.6, 0.65]
    path = write_tiff(
        tmp_path / "geo.tif",
        cube,
        crs=CRS.from_epsg(32633),
        transform=TRANSFORM,
        nodata=-99,
        descriptions=[f"b{i}" for i in range(5)],
        band_tags={
            "wavelength": [str(w) for w in microns],
            "wavelength_units": ["Micrometers"] * 5,
            "fwhm": ["0.01"] * 5,
        },
    )
    scene = open_scene(path)
    assert scene.shape == (9, 11, 5) and scene.dtype == np.int16
    assert scene.crs.to_epsg() == 32633 and scene.transform == TRANSFORM
    assert scene.nodata == -99
    assert scene.band_names == ["b0", "b1", "b2", "b3", "b4"]
    np.testing.assert_allclose(scene.wavelengths, [450, 500, 550, 600, 650])
    np.testing.assert_allclose(scene.fwhm, [10] * 5)
    np.testing.assert_array_equal(scene.to_array(), cube)
    np.testing.assert_array_equal(scene.spectrum(8, 10), cube[8, 10])
    np.testing.assert_array_equal(scene.band(3), cube[:, :, 3])
    assert scene.interleave == "bip"


@pytest.mark.parametrize("bands", [1, 2])
def test_plain_tiff_without_georeferencing(tmp_path, rng, bands):
    cube = rng.integers(0, 60000, size=(6, 4, bands)).astype(np.uint16)
    scene = open_scene(write_tiff(tmp_path / "plain.tif", cube, interleave="band"))
    assert scene.crs is None and scene.transform is None and not scene.is_georeferenced
    assert scene.wavelengths is None and scene.band_names is None and scene.nodata is None
    assert scene.dtype == np.uint16 and scene.n_bands == bands
    assert scene.interleave == "bsq"
    np.testing.assert_array_equal(scene.to_array(), cube)


def test_transform_without_crs_is_kept(tmp_path, cube):
    scene = open_scene(write_tiff(tmp_path / "t.tif", cube, transform=Affine(2, 0, 100, 0, -2, 50)))
    assert scene.crs is None and scene.transform == Affine(2, 0, 100, 0, -2, 50)


def test_imagery_domain_wavelengths(tmp_path, cube):
    path = write_tiff(
        tmp_path / "img.tif",
        cube,
        imagery={"CENTRAL_WAVELENGTH_UM": ["0.400", "0.500", "0.600", "0.700", "0.800"], "FWHM_UM": ["0.010"] * 5},
    )
    scene = read_gdal(path)
    np.testing.assert_allclose(scene.wavelengths, [400, 500, 600, 700, 800])
    np.testing.assert_allclose(scene.fwhm, [10] * 5)


@pytest.mark.parametrize("ns", ["ENVI", ""])
def test_envi_style_dataset_tags(tmp_path, cube, ns):
    tags = {
        "wavelength": "{ 410.5, 520, 630, 740, 850}",
        "wavelength_units": "Nanometers",
        "fwhm": "{5, 5, 6, 6, 7}",
        "bbl": "{1, 1, 0, 1, 1}",
        "default_bands": "{4, 3, 2}",
    }
    scene = read_gdal(write_tiff(tmp_path / "envi_tags.tif", cube, dataset_tags={ns: tags}))
    np.testing.assert_allclose(scene.wavelengths, [410.5, 520, 630, 740, 850])
    np.testing.assert_allclose(scene.fwhm, [5, 5, 6, 6, 7])
    np.testing.assert_array_equal(scene.bad_bands, [False, False, True, False, False])
    assert scene.default_bands == (3, 2, 1)


def test_band_tags_win_over_rounded_imagery_values(tmp_path, cube):
    path = write_tiff(
        tmp_path / "both.tif",
        cube,
        band_tags={"wavelength": ["451.25", "500", "550", "600", "650"]},
        imagery={"CENTRAL_WAVELENGTH_UM": ["0.451", "0.500", "0.550", "0.600", "0.650"]},
    )
    assert read_gdal(path).wavelengths[0] == 451.25


def test_windowed_reads(tmp_path, cube):
    source = RasterioSource(write_tiff(tmp_path / "w.tif", cube))
    np.testing.assert_array_equal(source.read_subregion(slice(2, 7), slice(3, 9), [4, 0]), cube[2:7, 3:9][:, :, [4, 0]])
    np.testing.assert_array_equal(source.read_subregion(slice(None, None, 2), slice(8, 1, -3)), cube[::2, 8:1:-3])
    assert source.read_subregion(slice(5, 5), slice(None), [1]).shape == (0, 11, 1)
    with pytest.raises(IndexError):
        source.read_subregion(slice(None), slice(None), [5])
    source.close()
    np.testing.assert_array_equal(source.read_subregion(slice(0, 1), slice(0, 1))[0, 0], cube[0, 0])


def test_reads_from_several_threads(tmp_path, cube):
    scene = open_scene(write_tiff(tmp_path / "threads.tif", cube))
    results, errors = {}, []

    def work(band):
        try:
            for _ in range(20):
                results[band] = scene.band(band)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(b,)) for b in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for band, values in results.items():
        np.testing.assert_array_equal(values, cube[:, :, band])


def test_text_file_renamed_tif(tmp_path):
    path = tmp_path / "fake.tif"
    path.write_text("this is not a raster\n")
    with pytest.raises(SceneReadError, match="does not recognise") as info:
        open_scene(path)
    assert str(path) in str(info.value)


def test_berlin_geotiff(georef_dir):
    scene = open_scene(georef_dir / "EnMAP_BerlinUrbanGradient.tif")
    assert scene.shape == (80, 60, 177) and scene.dtype == np.int16
    assert scene.crs == CRS.from_epsg(32633)
    assert scene.transform.almost_equals(TRANSFORM)
    assert scene.nodata == -99
    assert len(scene.wavelengths) == 177
    assert scene.wavelengths[0] == pytest.approx(460) and scene.wavelengths[-1] == pytest.approx(2409)
    assert scene.band_names[0] == "band 8 (0.460000 Micrometers)"
    with rasterio.open(georef_dir / "EnMAP_BerlinUrbanGradient.tif") as src:
        raw = src.read()
    np.testing.assert_array_equal(scene.spectrum(79, 59), raw[:, 79, 59])
    np.testing.assert_array_equal(scene.band(100), raw[100])


def test_berlin_envi_through_gdal(georef_dir):
    """GDAL's own ENVI driver puts centres in band tags and widths in the ENVI domain."""
    scene = read_gdal(georef_dir / "EnMAP_BerlinUrbanGradient.bsq")
    assert scene.crs.to_epsg() == 32633 and scene.nodata == -99
    assert scene.wavelengths[0] == pytest.approx(460) and scene.fwhm[0] == pytest.approx(5.8)
    assert scene.interleave == "bsq"
