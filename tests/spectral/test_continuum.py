"""Continuum removal and derivative on unevenly spaced wavelengths with gaps, against SciPy's hull."""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull

from hsiviewer import open_scene
from hsiviewer.spectral.continuum import continuum, continuum_removed, first_derivative


def _scipy_upper_hull(x, y):
    """The upper hull from scipy's Qhull: the hull vertices on or above the chord from first to last point."""
    hull = ConvexHull(np.column_stack([x, y]))
    vertices = np.unique(hull.vertices)
    chord = y[0] + (y[-1] - y[0]) * (x[vertices] - x[0]) / (x[-1] - x[0])
    upper = vertices[y[vertices] >= chord - 1e-12]
    return np.union1d(upper, [0, len(x) - 1])


def _check_against_scipy(wl, values):
    good = np.isfinite(values)
    x, y = wl[good], values[good]
    hull = _scipy_upper_hull(x, y)
    expected = y / np.interp(x, x[hull], y[hull])
    out = continuum_removed(wl, values)
    np.testing.assert_allclose(out[good], expected, rtol=1e-12)
    assert np.isnan(out[~good]).all()
    assert np.all(out[good] <= 1 + 1e-12)


def test_continuum_on_real_uneven_spectra_with_gaps(georef_dir, rng):
    scene = open_scene(georef_dir / "EnMAP_BerlinUrbanGradient.hdr")
    cube = scene.to_array().astype(float)
    wl = np.asarray(scene.wavelengths, float)
    keep = np.sort(rng.choice(len(wl), 120, replace=False))  # uneven spacing
    for r, c in [(5, 3), (40, 30), (70, 50)]:
        values = cube[r, c, keep].copy()
        values[40:48] = np.nan  # a bad-band gap
        _check_against_scipy(wl[keep], values)


def test_continuum_of_a_synthetic_absorption():
    wl = np.array([400.0, 410.0, 430.0, 470.0, 480.0, 490.0, 600.0, 605.0, 900.0])
    values = np.array([0.5, 0.52, 0.4, 0.3, 0.35, 0.6, 0.62, np.nan, 0.64])
    _check_against_scipy(wl, values)
    hull = continuum(wl, values)
    assert hull[0] == 0.5 and hull[-1] == 0.64 and np.isnan(hull[7])


def test_unsorted_wavelengths_give_the_same_result(rng):
    wl = np.sort(rng.uniform(400, 2500, 50))
    values = rng.uniform(0.1, 0.5, 50)
    order = rng.permutation(50)
    np.testing.assert_allclose(continuum_removed(wl[order], values[order]), continuum_removed(wl, values)[order])


def test_first_derivative_is_exact_for_a_quadratic_on_uneven_spacing(rng):
    wl = np.sort(rng.uniform(400, 2500, 60))
    values = 3e-7 * wl**2 - 1e-3 * wl + 2
    values[20:25] = np.nan
    deriv = first_derivative(wl, values)
    good = np.isfinite(values)
    interior = good.copy()
    interior[[0, -1]] = False  # one-sided differences at the ends are first order
    np.testing.assert_allclose(deriv[interior], (6e-7 * wl - 1e-3)[interior], rtol=1e-6, atol=1e-12)
    assert np.isnan(deriv[20:25]).all()
