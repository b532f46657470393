"""Spectrum transforms by wavelength: continuum removal and the first derivative.

Both work on the finite values only: bad bands and nodata (NaN) stay NaN in the result and are
bridged, not zero-filled, so a removed water-absorption band does not pull the hull down or
spike the derivative. Both use the real wavelengths, so unevenly spaced bands (two detectors,
a dropped band) are handled as they are.
"""

from __future__ import annotations

import numpy as np


def upper_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the points on the upper convex hull of (x, y), x increasing (monotone chain).

    Parameters
    ----------
    x : ndarray
        Strictly increasing.
    y : ndarray
        Finite.

    Returns
    -------
    ndarray of int
        From the first point to the last.
    """
    hull: list[int] = []
    for i in range(len(x)):
        # Pop the last point while it lies on or below the chord from the one before it to point i.
        while len(hull) >= 2:
            o, a = hull[-2], hull[-1]
            cross = (x[a] - x[o]) * (y[i] - y[o]) - (y[a] - y[o]) * (x[i] - x[o])
            if cross >= 0:
                hull.pop()
            else:
                break
        hull.append(i)
    return np.asarray(hull, int)


def continuum(wavelengths: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The continuum of a spectrum: its upper convex hull, interpolated at every wavelength.

    Returns
    -------
    ndarray
        NaN where ``values`` is NaN (and everywhere when fewer than two values are finite).
    """
    x, y = _finite_sorted(wavelengths, values)
    out = np.full(np.shape(values), np.nan)
    if x is None:
        return out
    keep, order = x
    xs, ys = np.asarray(wavelengths, float)[keep][order], y
    hull = upper_hull(xs, ys)
    out[np.flatnonzero(keep)[order]] = np.interp(xs, xs[hull], ys[hull])
    return out


def continuum_removed(wavelengths: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values / continuum``: 1 on the hull, below 1 inside absorption features; NaN at gaps.

    Parameters
    ----------
    wavelengths : ndarray (bands,)
        In any unit, any spacing; need not be sorted.
    values : ndarray (bands,)
        NaN at bad bands and nodata.
    """
    hull = continuum(wavelengths, values)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.asarray(values, float) / hull
    out[~np.isfinite(out)] = np.nan
    return out


def first_derivative(wavelengths: np.ndarray, values: np.ndarray) -> np.ndarray:
    """d(value)/d(wavelength) by second-order central differences on the actual spacing.

    Computed over the finite values in wavelength order (:func:`numpy.gradient` with coordinates,
    exact for quadratics on uneven spacing); NaN where ``values`` is NaN.
    """
    x, y = _finite_sorted(wavelengths, values)
    out = np.full(np.shape(values), np.nan)
    if x is None:
        return out
    keep, order = x
    xs = np.asarray(wavelengths, float)[keep][order]
    out[np.flatnonzero(keep)[order]] = np.gradient(y, xs)
    return out


def _finite_sorted(wavelengths, values):
    """((finite mask, order of the finite points by wavelength), their values sorted) or (None, None)."""
    wl = np.asarray(wavelengths, float)
    v = np.asarray(values, float)
    if wl.shape != v.shape:
        raise ValueError(f"{wl.size} wavelengths for {v.size} values")
    keep = np.isfinite(v) & np.isfinite(wl)
    if keep.sum() < 2:
        return None, None
    xs = wl[keep]
    order = np.argsort(xs, kind="stable")
    # Two bands at the same wavelength (overlapping detectors): keep the first of each.
    unique = np.ones(order.size, bool)
    unique[1:] = np.diff(xs[order]) > 0
    if not unique.all():
        dropped = np.flatnonzero(keep)[order[~unique]]
        keep = keep.copy()
        keep[dropped] = False
        return _finite_sorted(wl, np.where(keep, v, np.nan))
    return (keep, order), v[keep][order]


#: Display modes of a spectrum plot: name -> (label, y-axis title).
VIEW_MODES = {
    "reflectance": ("Reflectance", "Value"),
    "continuum": ("Continuum removed", "Continuum removed"),
    "derivative": ("First derivative", "d value / d nm"),
}


def spectrum_view(mode: str, wavelengths: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` as display mode ``mode`` shows them (a key of :data:`VIEW_MODES`)."""
    if mode == "reflectance":
        return np.asarray(values, float)
    if mode == "continuum":
        return continuum_removed(wavelengths, values)
    if mode == "derivative":
        return first_derivative(wavelengths, values)
    raise ValueError(f"unknown spectrum view '{mode}' (use {', '.join(VIEW_MODES)})")
