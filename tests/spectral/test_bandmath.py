"""Band math by wavelength: values equal NumPy on the nearest bands; bad input refused in plain words."""

from __future__ import annotations

import numpy as np
import pytest

from hsiviewer import open_scene
from hsiviewer.errors import Cancelled
from hsiviewer.progress import CancelToken
from hsiviewer.spectral.bandmath import (
    PRESETS,
    BandMathError,
    evaluate,
    parse_expression,
    preset_expression,
)


@pytest.fixture
def berlin(georef_dir):
    return open_scene(georef_dir / "EnMAP_BerlinUrbanGradient.hdr")


def _nearest(scene, nm):
    return int(np.argmin(np.abs(np.asarray(scene.wavelengths) - nm)))


def test_ndvi_by_wavelength_equals_numpy_on_the_nearest_bands(berlin):
    cube = berlin.to_array().astype(np.float32)
    nir, red = cube[:, :, _nearest(berlin, 860)], cube[:, :, _nearest(berlin, 650)]
    values = evaluate(berlin, preset_expression("ndvi"), tile_pixels=700)
    np.testing.assert_allclose(values, (nir - red) / (nir + red), rtol=1e-6)


def test_ndvi_on_indian_pines_with_its_real_wavelengths(demo_scene):
    cube = demo_scene.to_array().astype(np.float32)
    nir, red = cube[:, :, _nearest(demo_scene, 860)], cube[:, :, _nearest(demo_scene, 650)]
    np.testing.assert_allclose(
        evaluate(demo_scene, "(R860 - R650) / (R860 + R650)"), (nir - red) / (nir + red), rtol=1e-6
    )


def test_band_numbers_functions_and_comparisons(berlin):
    cube = berlin.to_array().astype(np.float32)
    b1, b2, b3 = cube[:, :, 0], cube[:, :, 1], cube[:, :, 2]
    got = evaluate(berlin, "where(B1 > B2, sqrt(abs(B1 - B3)), max(B1, B2, 0) / 2) + log(B3) * (B2 <= 500)")
    expected = np.where(b1 > b2, np.sqrt(np.abs(b1 - b3)), np.maximum(np.maximum(b1, b2), 0) / 2) + np.log(b3) * (
        b2 <= 500
    )
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    both = evaluate(berlin, "(B1 > 500) & ~(B2 > 900) | (B3 < 100)")
    np.testing.assert_array_equal(both, (((b1 > 500) & ~(b2 > 900)) | (b3 < 100)).astype(np.float32))


def test_division_by_zero_is_nodata_and_nodata_stays_nodata(demo_scene):
    values = evaluate(demo_scene, "B1 / (B2 - B2)")
    assert np.isnan(values).all()
    cube = demo_scene.to_array()
    cube[3, 4, 10] = 9999
    from hsiviewer.data.scene import ArraySource

    demo_scene.source, demo_scene.nodata = ArraySource(cube), 9999
    values = evaluate(demo_scene, "B11 + B12")
    assert np.isnan(values[3, 4]) and np.isfinite(values).sum() == values.size - 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("R3000 + R650", "R3000: the scene covers 460-2409 nm"),
        ("(R860 - R650", "syntax error at column 1"),
        ("R860 +* R650", "syntax error at column 7"),
        ("foo + R650", "unknown name 'foo' at column 1"),
        ("R650 + exp(R860)", "unknown function 'exp' at column 8"),
        ("__import__('os').system('true')", "not allowed|unknown function"),
        ("R860.real", "not allowed"),
        ("R860[0]", "not allowed"),
        ("R860 % 2", "operator at column 1 is not allowed"),
        ("'a' + R860", "only numbers"),
        ("B178", "B178: the scene has bands 1-177"),
        ("1 + 2", "uses no band"),
        ("where(R860, 1)", "where\\(\\) at column 1 takes 3"),
        ("", "empty"),
    ],
)
def test_bad_expressions_are_refused_with_a_clear_message(berlin, text, message):
    with pytest.raises(BandMathError, match=message):
        parse_expression(text, berlin)


def test_wavelength_in_a_gap_names_the_nearest_band(demo_scene):
    # Indian Pines lacks the water-absorption bands around 1400 nm.
    with pytest.raises(BandMathError, match=r"R1400: no band lies within .* the nearest is band \d+ \(1\d{3}\.\d nm\)"):
        parse_expression("R1400", demo_scene)
    assert parse_expression("R1400", demo_scene, tolerance=100).bands["R1400"] >= 0


def test_every_preset_parses_on_indian_pines(demo_scene):
    for expr, _title in PRESETS.values():
        parse_expression(expr, demo_scene)
    with pytest.raises(BandMathError, match="unknown index preset 'XYZ'; known: NDVI"):
        preset_expression("XYZ")


def test_cancel_stops_between_tiles(berlin):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        evaluate(berlin, "B1", cancel=token)
