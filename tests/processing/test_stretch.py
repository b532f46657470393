"""hsiviewer.processing.stretch: levels and the linear stretch (pure NumPy; the viewer's RGB/band maths)."""

import numpy as np
import pytest

from hsiviewer.processing.stretch import (
    apply_stretch,
    compute_levels,
    minmax_levels,
    percentile_levels,
    stddev_levels,
    valid_values,
)


def test_percentile_levels_match_numpy_and_ignore_nan_and_nodata():
    values = np.arange(100, dtype=float).reshape(10, 10)
    with_gaps = values.copy()
    with_gaps[0, :3] = np.nan
    with_gaps[9, 9] = -99
    low, high = percentile_levels(with_gaps, nodata=-99)
    kept = values.ravel()[3:-1]
    assert (low, high) == tuple(np.percentile(kept, [2, 98]))
    assert percentile_levels(values, 0, 100) == (0.0, 99.0)


def test_levels_are_per_channel_for_a_cube():
    cube = np.stack([np.arange(10.0), np.arange(10.0) * 2, np.full(10, 5.0)], axis=1).reshape(2, 5, 3)
    low, high = minmax_levels(cube)
    np.testing.assert_array_equal(low, [0, 0, 5])
    np.testing.assert_array_equal(high, [9, 18, 5])


def test_stddev_levels_are_mean_plus_minus_k_sigma():
    values = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, np.nan]])
    low, high = stddev_levels(values, k=1.5)
    assert low == pytest.approx(3 - 1.5 * np.std([1, 2, 3, 4, 5]))
    assert high == pytest.approx(3 + 1.5 * np.std([1, 2, 3, 4, 5]))


def test_compute_levels_by_name_and_manual():
    values = np.arange(50.0).reshape(5, 10)
    assert compute_levels(values, "minmax") == (0.0, 49.0)
    assert compute_levels(values, "manual", levels=(3, 7)) == (3, 7)
    with pytest.raises(ValueError, match="unknown stretch"):
        compute_levels(values, "gamma")
    with pytest.raises(ValueError, match="needs levels"):
        compute_levels(values, "manual")


def test_empty_channel_gets_unit_levels():
    assert percentile_levels(np.full((3, 3), np.nan)) == (0.0, 1.0)
    assert minmax_levels(np.full((3, 3), -99.0), nodata=-99) == (0.0, 1.0)


def test_apply_stretch_maps_levels_to_unit_range_and_clips():
    band = np.array([[0.0, 10.0, 15.0, 20.0, 30.0]])
    out = apply_stretch(band, 10, 20)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0, 0, 0.5, 1, 1]])
    np.testing.assert_array_equal(apply_stretch(band, 10, 20, dtype=np.uint8), [[0, 0, 128, 255, 255]])


def test_apply_stretch_per_channel_nodata_and_flat_band():
    cube = np.array([[[0.0, 5.0, -99.0], [10.0, 5.0, 1.0]]])
    out = apply_stretch(cube, np.array([0.0, 5.0, 0.0]), np.array([10.0, 5.0, 2.0]), nodata=-99)
    np.testing.assert_allclose(out[0, :, 0], [0, 1])
    np.testing.assert_array_equal(out[0, :, 1], [0, 0])  # high == low: black, no division by zero
    assert np.isnan(out[0, 0, 2]) and out[0, 1, 2] == pytest.approx(0.5)


def test_valid_values_subsamples_big_arrays_with_a_fixed_stride():
    values = valid_values(np.arange(1000.0), max_samples=100)
    np.testing.assert_array_equal(values, np.arange(0, 1000, 10))
