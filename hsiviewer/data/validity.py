"""Which pixels hold usable values: not nodata, and finite in every band.

A float cube may hold NaN or ±inf without declaring a nodata value (a failed retrieval, a division
by zero in an index). One such value poisons everything it touches: a PCA fit, a standardisation,
the patches of its neighbours, a scikit-learn fit (which refuses it). So every consumer treats a
pixel with any non-finite band as nodata; this module is the one place that decides.
"""

from __future__ import annotations

from typing import Optional

import numpy as np


def finite_pixels(block: np.ndarray) -> np.ndarray:
    """(rows, cols) bool: True where every band of the (rows, cols, bands) ``block`` is finite.

    Integer cubes are finite everywhere, so they are not scanned.
    """
    block = np.asarray(block)
    if not np.issubdtype(block.dtype, np.inexact):
        return np.ones(block.shape[:2], bool)
    return np.isfinite(block).all(axis=2)


def valid_pixels(block: np.ndarray, nodata: Optional[float]) -> np.ndarray:
    """(rows, cols) bool: False where every band equals ``nodata`` or any band is NaN or ±inf."""
    block = np.asarray(block)
    valid = finite_pixels(block)
    if nodata is not None and not np.isnan(nodata):
        valid &= ~np.all(block == nodata, axis=2)
    return valid


def count_nonfinite(block: np.ndarray) -> int:
    """The number of pixels of ``block`` with at least one NaN or infinite band."""
    return int(np.count_nonzero(~finite_pixels(block)))
