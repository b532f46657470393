"""Contrast stretches: from band values to display levels, and from levels to [0, 1].

Pure NumPy (no Qt), so the viewer, the CLI and a notebook share one definition of
"2-98 % stretch". Every function ignores NaN and the nodata value. A 2-D array is one
channel and gives scalar levels; a 3-D (rows, cols, channels) array gives one (low, high)
pair per channel.
"""

from __future__ import annotations

from typing import Optional

# np.percentile imports numpy.ma on its first call (through np.unique): 14-33 ms of module code that,
# on the first render of a scene, held the interpreter lock on the render thread while the window
# painted. Imported with this module, it is part of start-up instead.
import numpy as np
import numpy.ma  # noqa: F401

#: The stretch kinds the viewer offers, in menu order.
STRETCH_KINDS = ("percentile", "minmax", "stddev", "manual")

#: Above this many valid pixels, levels are computed on an even subsample (a regular stride,
#: so the result is the same every time) to keep big scenes interactive.
MAX_SAMPLES = 2_000_000


def valid_values(array: np.ndarray, nodata: Optional[float] = None, max_samples: int = MAX_SAMPLES) -> np.ndarray:
    """The finite values of a single channel that are not ``nodata``, as a flat float64 array.

    Parameters
    ----------
    array : ndarray
        Any shape; treated as one channel.
    nodata : float, optional
        A value to leave out.
    max_samples : int
        When there are more values than this, a regular stride keeps about this many.

    Returns
    -------
    ndarray (n,) of float64
    """
    flat = np.asarray(array).ravel()
    step = max(1, flat.size // max_samples)
    values = flat[::step].astype(np.float64)
    keep = np.isfinite(values)
    if nodata is not None:
        keep &= values != nodata
    return values[keep]


def _per_channel(array: np.ndarray, nodata, func):
    array = np.asarray(array)
    if array.ndim == 3:
        pairs = [func(valid_values(array[:, :, c], nodata)) for c in range(array.shape[2])]
        return (np.array([p[0] for p in pairs], dtype=np.float64), np.array([p[1] for p in pairs], dtype=np.float64))
    return func(valid_values(array, nodata))


def percentile_levels(array: np.ndarray, low: float = 2.0, high: float = 98.0, nodata: Optional[float] = None):
    """Levels at the ``low`` and ``high`` percentiles of the valid values.

    Parameters
    ----------
    array : ndarray (rows, cols) or (rows, cols, channels)
    low, high : float
        Percentiles in 0..100, ``low < high``.
    nodata : float, optional

    Returns
    -------
    (low, high)
        Floats for a 2-D array, arrays of one value per channel for a 3-D array.
        (0.0, 1.0) for a channel without any valid value.
    """
    if not 0.0 <= low < high <= 100.0:
        raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100, got {low} and {high}")

    def levels(values):
        if values.size == 0:
            return 0.0, 1.0
        lo, hi = np.percentile(values, [low, high])
        return float(lo), float(hi)

    return _per_channel(array, nodata, levels)


def minmax_levels(array: np.ndarray, nodata: Optional[float] = None):
    """Levels at the minimum and maximum valid value (see :func:`percentile_levels` for shapes)."""

    def levels(values):
        if values.size == 0:
            return 0.0, 1.0
        return float(values.min()), float(values.max())

    return _per_channel(array, nodata, levels)


def stddev_levels(array: np.ndarray, k: float = 2.0, nodata: Optional[float] = None):
    """Levels at mean - k·σ and mean + k·σ of the valid values (see :func:`percentile_levels`)."""
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")

    def levels(values):
        if values.size == 0:
            return 0.0, 1.0
        mean, std = float(values.mean()), float(values.std())
        return mean - k * std, mean + k * std

    return _per_channel(array, nodata, levels)


def compute_levels(
    array: np.ndarray,
    kind: str = "percentile",
    nodata: Optional[float] = None,
    low: float = 2.0,
    high: float = 98.0,
    k: float = 2.0,
    levels=None,
):
    """Levels of any stretch kind, by name.

    Parameters
    ----------
    array : ndarray (rows, cols) or (rows, cols, channels)
    kind : {"percentile", "minmax", "stddev", "manual"}
    nodata : float, optional
    low, high : float
        Percentiles for ``"percentile"``.
    k : float
        Number of standard deviations for ``"stddev"``.
    levels : (low, high), optional
        The levels for ``"manual"`` (returned as given).

    Returns
    -------
    (low, high)

    Raises
    ------
    ValueError
        For an unknown kind, or ``"manual"`` without levels.
    """
    if kind == "percentile":
        return percentile_levels(array, low, high, nodata)
    if kind == "minmax":
        return minmax_levels(array, nodata)
    if kind == "stddev":
        return stddev_levels(array, k, nodata)
    if kind == "manual":
        if levels is None:
            raise ValueError("a manual stretch needs levels (low, high)")
        return levels[0], levels[1]
    raise ValueError(f"unknown stretch '{kind}' (known: {', '.join(STRETCH_KINDS)})")


def apply_stretch(array: np.ndarray, low, high, nodata: Optional[float] = None, dtype=np.float32) -> np.ndarray:
    """Map ``low`` -> 0 and ``high`` -> 1 linearly, clipping outside.

    Parameters
    ----------
    array : ndarray (rows, cols) or (rows, cols, channels)
    low, high : float or per-channel arrays
        As returned by the ``*_levels`` functions. Where ``high <= low`` the output is 0.
    nodata : float, optional
        Pixels equal to it become NaN (float output) or 0 (uint8 output), like NaN and ±inf inputs.
    dtype : {numpy.float32, numpy.float64, numpy.uint8}
        Float output lies in [0, 1]; uint8 output in 0..255 (rounded).

    Returns
    -------
    ndarray of ``dtype``, same shape as ``array``.
    """
    values = np.asarray(array, dtype=np.float64)
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    span = high - low
    safe_span = np.where(span > 0, span, 1.0)
    out = np.clip((values - low) / safe_span, 0.0, 1.0)
    out = np.where(span > 0, out, 0.0)
    out[~np.isfinite(values)] = np.nan  # NaN and ±inf are nodata, not "darkest" or "brightest"
    if nodata is not None:
        out[values == nodata] = np.nan
    if np.dtype(dtype) == np.uint8:
        return np.nan_to_num(np.round(out * 255.0), nan=0.0).astype(np.uint8)
    return out.astype(dtype)
