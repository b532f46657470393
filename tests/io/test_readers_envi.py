"""ENVI reader: every interleave and byte order, header metadata, georeferencing, bad input, real data."""

import warnings

import numpy as np
import pytest
import rasterio
from _synth_files import envi_list, write_envi
from affine import Affine

from hsiviewer.errors import SceneReadError
from hsiviewer.io import open_scene
from hsiviewer.io.envi import read_envi, wavelengths_to_nm

BERLIN_WKT = (
    '{PROJCS["UTM_Zone_33N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",'
    '6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
    'PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],'
    'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",15.0],'
    'PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]}'
)


@pytest.fixture
def cube(rng):
    """A 5 x 7 x 4 int16 cube with negative values, so byte-order mistakes cannot hide."""
    return rng.integers(-3000, 3000, size=(5, 7, 4)).astype(np.int16)


@pytest.mark.parametrize("byte_order", [0, 1])
@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
def test_every_interleave_and_byte_order(tmp_path, cube, interleave, byte_order):
    header, data = write_envi(tmp_path, cube, interleave, byte_order, data_suffix=f".{interleave}")
    for given in (header, data):  # the user may pick either file
        scene = open_scene(given)
        assert scene.shape == (5, 7, 4)
        assert scene.dtype == np.int16 and scene.dtype.isnative
        assert scene.interleave == interleave
        np.testing.assert_array_equal(scene.to_array(), cube)
        np.testing.assert_array_equal(scene.spectrum(3, 6), cube[3, 6])
        np.testing.assert_array_equal(scene.band(2), cube[:, :, 2])
        np.testing.assert_array_equal(
            scene.read_subregion(slice(1, 4), slice(2, 5), [3, 0]), cube[1:4, 2:5][:, :, [3, 0]]
        )
    assert scene.metadata["byte_order"] == byte_order
    assert scene.metadata["description"] == f"synthetic {interleave} test cube"
    assert scene.metadata["sensor type"] == "TestSensor"


@pytest.mark.parametrize("dtype", ["uint16", "float32", "uint8", "int32", "float64"])
def test_header_offset_and_other_types(tmp_path, rng, dtype):
    cube = (rng.random((4, 3, 6)) * 200).astype(dtype)
    header, _ = write_envi(tmp_path, cube, "bil", byte_order=1, offset=137)
    scene = read_envi(header)
    assert scene.dtype == np.dtype(dtype)
    assert scene.metadata["header_offset"] == 137
    np.testing.assert_array_equal(scene.to_array(), cube)


def test_data_file_found_by_any_usual_name(tmp_path, cube):
    header, data = write_envi(tmp_path, cube, "bip", data_suffix=".img")
    np.testing.assert_array_equal(open_scene(header).to_array(), cube)
    # GDAL's naming: "scene.dat" with "scene.dat.hdr"
    header, data = write_envi(tmp_path, cube, "bsq", name="other", data_suffix=".dat", header_name="other.dat.hdr")
    np.testing.assert_array_equal(open_scene(data).to_array(), cube)
    np.testing.assert_array_equal(open_scene(header).to_array(), cube)


@pytest.mark.parametrize(
    "units, values, expected",
    [
        ("Micrometers", [0.45, 0.55, 0.65, 0.75], [450, 550, 650, 750]),
        ("um", [0.45, 0.55, 0.65, 0.75], [450, 550, 650, 750]),
        ("Nanometers", [450, 550, 650, 750], [450, 550, 650, 750]),
        ("nm", [450.5, 550, 650, 750], [450.5, 550, 650, 750]),
        (None, [0.45, 0.55, 0.65, 0.75], [450, 550, 650, 750]),  # no units: small values are µm
        (None, [450, 550, 650, 750], [450, 550, 650, 750]),
    ],
)
def test_wavelengths_normalised_to_nm(tmp_path, cube, units, values, expected):
    widths = [v / 50 for v in values]
    extra = f"wavelength = {envi_list(values)}\nfwhm = {envi_list(widths)}\n"
    if units:
        extra += f"wavelength units = {units}\n"
    header, _ = write_envi(tmp_path, cube, extra=extra)
    scene = read_envi(header)
    np.testing.assert_allclose(scene.wavelengths, expected)
    np.testing.assert_allclose(scene.fwhm, np.asarray(expected) / 50)


def test_unit_helper():
    assert wavelengths_to_nm([1.2], "Micrometers")[0] == 1200
    assert wavelengths_to_nm([1.2], "µm")[0] == 1200
    assert wavelengths_to_nm([3, 4], "Index") is None
    np.testing.assert_allclose(wavelengths_to_nm([0.01], None, like=[0.4, 2.5]), [10])


def test_bbl_default_bands_band_names_and_nodata(tmp_path, cube):
    cube = cube.copy()
    cube[0, 0, :] = -99
    extra = (
        "bbl = {1, 0, 1, 0}\ndefault bands = {3, 2, 1}\ndata ignore value = -99\n"
        "band names = {red edge, nir, swir 1, swir 2, }\n"
    )
    header, _ = write_envi(tmp_path, cube, "bil", extra=extra)
    scene = read_envi(header)
    np.testing.assert_array_equal(scene.bad_bands, [False, True, False, True])
    assert scene.default_bands == (2, 1, 0)
    assert scene.band_names == ["red edge", "nir", "swir 1", "swir 2"]
    assert scene.nodata == -99
    mask = scene.valid_mask()
    assert not mask[0, 0] and mask.sum() == 5 * 7 - 1


def test_bad_metadata_is_ignored_with_a_warning(tmp_path, cube):
    header, _ = write_envi(tmp_path, cube, extra="wavelength = {1, 2}\ndefault bands = {9, 1, 1}\n")
    scene = read_envi(header)
    assert scene.wavelengths is None and scene.default_bands is None
    assert len(scene.metadata["warnings"]) == 2
    assert not scene.bad_bands.any()


def test_map_info_and_esri_wkt(tmp_path, cube):
    extra = (
        "map info = {UTM, 1.000, 1.000, 383472.370, 5818302.350, 3.0000000000e+001, "
        "3.0000000000e+001, 33, North, WGS-84, units=Meters}\n"
        f"coordinate system string = {BERLIN_WKT}\n"
    )
    header, _ = write_envi(tmp_path, cube, extra=extra)
    scene = read_envi(header)
    assert scene.crs.to_epsg() == 32633 and scene.crs == rasterio.crs.CRS.from_epsg(32633)
    assert scene.transform.almost_equals(Affine(30, 0, 383472.37, 0, -30, 5818302.35))
    assert scene.is_georeferenced


def test_map_info_alone_with_reference_pixel(tmp_path, cube):
    extra = "map info = {UTM, 3.5, 2.0, 500000.0, 7000000.0, 10.0, 20.0, 17, South, WGS-84, units=Meters}\n"
    header, _ = write_envi(tmp_path, cube, extra=extra)
    scene = read_envi(header)
    assert scene.crs.to_epsg() == 32717
    # pixel corner (2.5, 1.0) (0-based) is the reference point
    assert scene.transform @ (2.5, 1.0) == pytest.approx((500000.0, 7000000.0))
    assert scene.transform.almost_equals(Affine(10, 0, 500000 - 25, 0, -20, 7000000 + 20))


@pytest.mark.parametrize("rotation", ["", ", rotation=30.0", ", rotation=-12.5"])
def test_transform_matches_gdal(tmp_path, cube, rotation):
    extra = f"map info = {{UTM, 1.0, 1.0, 500000.0, 4000000.0, 10.0, 10.0, 33, North, WGS-84{rotation}}}\n"
    header, data = write_envi(tmp_path, cube, extra=extra)
    scene = read_envi(header)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(data) as src:
            assert scene.transform.almost_equals(src.transform, precision=1e-6)
            assert scene.crs == src.crs


def test_geographic_map_info(tmp_path, cube):
    header, _ = write_envi(
        tmp_path, cube, extra="map info = {Geographic Lat/Lon, 1, 1, 13.1, 52.6, 0.001, 0.001, WGS-84, units=Degrees}\n"
    )
    scene = read_envi(header)
    assert scene.crs.to_epsg() == 4326
    assert scene.transform.almost_equals(Affine(0.001, 0, 13.1, 0, -0.001, 52.6))


def test_no_map_info_means_not_georeferenced(tmp_path, cube):
    scene = read_envi(write_envi(tmp_path, cube)[0])
    assert scene.crs is None and scene.transform is None and not scene.is_georeferenced


# --- bad input ------------------------------------------------------------------------------------
def test_missing_data_file(tmp_path, cube):
    header, data = write_envi(tmp_path, cube)
    data.unlink()
    with pytest.raises(SceneReadError, match="no ENVI data file") as info:
        open_scene(header)
    assert str(header) in str(info.value)


def test_truncated_data_file(tmp_path, cube):
    header, data = write_envi(tmp_path, cube, offset=10)
    data.write_bytes(data.read_bytes()[:-3])
    with pytest.raises(SceneReadError, match="truncated") as info:
        open_scene(header)
    assert str(data) in str(info.value) and "5 lines x 7 samples x 4 bands" in str(info.value)


def test_missing_required_key(tmp_path, cube):
    header, _ = write_envi(tmp_path, cube)
    header.write_text(header.read_text().replace("byte order = 0\n", "").replace("lines   = 5\n", ""))
    with pytest.raises(SceneReadError, match="lacks required key.*lines.*byte order") as info:
        open_scene(header)
    assert str(header) in str(info.value)


@pytest.mark.parametrize("code", ["6", "7", "abc"])
def test_unknown_data_type(tmp_path, cube, code):
    header, _ = write_envi(tmp_path, cube)
    header.write_text(header.read_text().replace("data type = 2", f"data type = {code}"))
    with pytest.raises(SceneReadError, match=f"data type {code}") as info:
        open_scene(header)
    assert str(header) in str(info.value)


@pytest.mark.parametrize(
    "line, bad, problem",
    [
        ("interleave = bsq", "interleave = Bil", "unknown interleave 'Bil'"),
        ("byte order = 0", "byte order = 2", "byte order must be 0"),
        ("file type = ENVI Standard", "file type = ENVI Spectral Library", "spectral library"),
    ],
)
def test_layouts_spectral_would_misread(tmp_path, cube, line, bad, problem):
    header, _ = write_envi(tmp_path, cube)
    header.write_text(header.read_text().replace(line, bad))
    with pytest.raises(SceneReadError, match=problem):
        open_scene(header)


def test_not_an_envi_header(tmp_path, cube):
    header, _ = write_envi(tmp_path, cube)
    header.write_text("hello\nsamples = 3\n")
    with pytest.raises(SceneReadError, match="not an ENVI header"):
        open_scene(header)


# --- the real Berlin scene ---------------------------------------------------------------------------
def test_berlin_envi(georef_dir):
    scene = open_scene(georef_dir / "EnMAP_BerlinUrbanGradient.hdr")
    assert scene.shape == (80, 60, 177) and scene.dtype == np.int16
    assert scene.crs.to_epsg() == 32633
    assert scene.transform.almost_equals(Affine(30, 0, 383472.37, 0, -30, 5818302.35))
    assert len(scene.wavelengths) == 177
    assert scene.wavelengths[0] == pytest.approx(460) and scene.wavelengths[-1] == pytest.approx(2409)
    assert scene.fwhm[0] == pytest.approx(5.8)
    assert scene.nodata == -99 and scene.valid_mask().all()
    assert scene.band_names[0] == "band 8"
    raw = np.fromfile(georef_dir / "EnMAP_BerlinUrbanGradient.bsq", "<i2").reshape(177, 80, 60)
    np.testing.assert_array_equal(scene.spectrum(41, 17), raw[:, 41, 17])
    np.testing.assert_array_equal(scene.to_array(), raw.transpose(1, 2, 0))
    assert scene.to_array().min() == 21 and scene.to_array().max() == 5218


def test_berlin_envi_equals_geotiff(georef_dir):
    envi = open_scene(georef_dir / "EnMAP_BerlinUrbanGradient.bsq")
    tiff = open_scene(georef_dir / "EnMAP_BerlinUrbanGradient.tif")
    np.testing.assert_array_equal(envi.to_array(), tiff.to_array())
    np.testing.assert_allclose(envi.wavelengths, tiff.wavelengths)
    assert envi.crs == tiff.crs and envi.transform.almost_equals(tiff.transform)
    assert envi.nodata == tiff.nodata
