"""Masks: which pixels take part. True = inside (kept), False = outside (hidden, not sampled, class 0).

A mask comes from a threshold of any continuous layer (an index, a SAM score, a band), from a
band-math expression (true where the expression is non-zero), or from a raster file (non-zero,
non-nodata pixels), and masks combine with and / or / not. Training honours a mask by sampling
only labelled pixels inside it (:func:`masked_labels`); prediction gives 0 outside it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from hsiviewer.data.classes import ClassTable
from hsiviewer.errors import HsiError

#: Threshold operators: name -> what it keeps.
OPERATORS = {
    "<": "below",
    "<=": "at or below",
    ">": "above",
    ">=": "at or above",
    "between": "between low and high",
    "outside": "outside low..high",
}


class MaskError(HsiError):
    """A mask cannot be built, read or applied."""


def threshold(values: np.ndarray, op: str, low: float, high: float | None = None) -> np.ndarray:
    """Pixels of a continuous layer kept by a threshold; NaN (nodata) is never kept.

    Parameters
    ----------
    values : ndarray (rows, cols)
    op : {"<", "<=", ">", ">=", "between", "outside"}
        ``"between"`` keeps low <= v <= high, ``"outside"`` the rest of the finite values.
    low : float
    high : float, optional
        Needed by ``"between"`` and ``"outside"``.

    Returns
    -------
    ndarray (rows, cols) of bool

    Raises
    ------
    MaskError
        For an unknown operator or a missing / inverted range.
    """
    values = np.asarray(values, float)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        if op in ("<", "<=", ">", ">="):
            kept = {"<": values < low, "<=": values <= low, ">": values > low, ">=": values >= low}[op]
        elif op in ("between", "outside"):
            if high is None:
                raise MaskError(f"'{op}' needs a low and a high value")
            if high < low:
                raise MaskError(f"the range {low:g}..{high:g} is empty: the high value is below the low one")
            inside = (values >= low) & (values <= high)
            kept = inside if op == "between" else ~inside
        else:
            raise MaskError(f"unknown threshold '{op}' (use {', '.join(OPERATORS)})")
    return kept & finite


def combine(first: np.ndarray, second: np.ndarray, how: str = "and") -> np.ndarray:
    """``first`` and / or ``second`` (both (rows, cols) bool of one shape)."""
    first, second = np.asarray(first, bool), np.asarray(second, bool)
    if first.shape != second.shape:
        raise MaskError(f"cannot combine masks of {first.shape} and {second.shape}")
    if how == "and":
        return first & second
    if how == "or":
        return first | second
    raise MaskError(f"unknown combination '{how}' (use and / or)")


def invert(mask: np.ndarray) -> np.ndarray:
    """The pixels outside ``mask``."""
    return ~np.asarray(mask, bool)


def mask_from_expression(scene, expression: str, tolerance: float | None = None) -> np.ndarray:
    """A mask from band math: True where the expression is finite and non-zero (e.g. ``R860 > 2000``)."""
    from hsiviewer.spectral.bandmath import evaluate

    values = evaluate(scene, expression, tolerance)
    return np.isfinite(values) & (values != 0)


def read_mask(path: str | Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    """A mask raster: True where the first band is non-zero and not nodata.

    Parameters
    ----------
    path : str or Path
        Any raster GDAL reads (a mask written by :func:`write_mask`, a class map, a 0/1 GeoTIFF).
    shape : (rows, cols), optional
        The scene's size, checked.

    Raises
    ------
    MaskError
        When the file is missing, unreadable or of another size.
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioError

    path = Path(path)
    if not path.is_file():
        raise MaskError("no such file", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a plain 0/1 raster is fine
            with rasterio.open(path) as src:
                band = src.read(1, masked=True)
    except RasterioError as exc:
        raise MaskError(f"cannot be read as a mask raster ({exc})", path) from exc
    values = np.ma.filled(band.astype(float), 0.0)
    mask = np.isfinite(values) & (values != 0)
    if shape is not None and mask.shape != tuple(shape):
        raise MaskError(f"the mask is {mask.shape[0]} x {mask.shape[1]} but the scene is {shape[0]} x {shape[1]}", path)
    return mask


def write_mask(path: str | Path, mask: np.ndarray, like=None) -> Path:
    """Write a mask as a one-class map GeoTIFF: 1 = inside, 0 = outside (nodata), georeferenced like ``like``."""
    from hsiviewer.io.export import write_class_map

    table = ClassTable.from_ids([1], {1: "inside mask"}, {1: (255, 255, 255)})
    return write_class_map(path, np.asarray(mask, bool).astype(np.uint8), table, like=like)


def masked_labels(labels: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Ground truth with the labels outside ``mask`` set to 0 (unlabelled), so training never samples them."""
    labels = np.asarray(labels)
    if mask is None:
        return labels
    mask = np.asarray(mask, bool)
    if mask.shape != labels.shape:
        raise MaskError(
            f"the mask is {mask.shape[0]} x {mask.shape[1]} but the labels are {labels.shape[0]} x {labels.shape[1]}"
        )
    return np.where(mask, labels, 0).astype(labels.dtype)


def describe(mask: np.ndarray) -> str:
    """``"12,345 of 21,025 pixels (58.7 %) inside"``."""
    mask = np.asarray(mask, bool)
    inside = int(mask.sum())
    return f"{inside:,} of {mask.size:,} pixels ({inside / max(1, mask.size):.1%}) inside"
