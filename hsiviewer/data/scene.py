"""The scene: a hyperspectral cube with its metadata, read lazily.

Arrays are (rows, cols, bands) throughout. Pixel data come from a *source*
that a reader provides (see :class:`PixelSource`); the scene never loads the
whole cube unless :meth:`Scene.to_array` is called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Protocol

import numpy as np

from hsiviewer.data.classes import ClassTable
from hsiviewer.data.validity import valid_pixels


class PixelSource(Protocol):
    """What a reader hands to a :class:`Scene`: lazy access to a (rows, cols, bands) cube."""

    @property
    def shape(self) -> tuple[int, ...]:
        """(rows, cols, bands) of the file."""

    @property
    def dtype(self) -> np.dtype:
        """The file's sample type."""

    def read_subregion(self, rows: slice, cols: slice, bands: Sequence[int] | None = None) -> np.ndarray:
        """Return the (r, c, b) block ``[rows, cols, bands]`` in the file's dtype."""
        ...


class ArraySource:
    """A source over an array-like (rows, cols, bands): an ndarray, a memmap or an h5py dataset."""

    def __init__(self, array: Any) -> None:
        if array.ndim != 3:
            raise ValueError(f"expected a 3-D array, got shape {array.shape}")
        self.array = array
        self.shape = tuple(int(s) for s in array.shape)
        self.dtype = np.dtype(array.dtype)

    def read_subregion(self, rows: slice, cols: slice, bands: Sequence[int] | None = None) -> np.ndarray:
        block = self.array[rows, cols, :] if bands is None else self.array[rows, cols][:, :, list(bands)]
        return np.asarray(block)


@dataclass
class Scene:
    """A hyperspectral scene.

    Attributes
    ----------
    path : Path or None
        The file it was read from.
    source : PixelSource
        Lazy pixel access; prefer the methods below.
    wavelengths : ndarray or None
        Band centres in nanometres.
    fwhm : ndarray or None
        Band widths in nanometres.
    bad_bands : ndarray of bool
        True where a band is flagged bad (ENVI ``bbl`` = 0); all False when unknown.
    band_names : list of str or None
    default_bands : tuple of three band indices (0-based) or None
        The RGB bands the file suggests (ENVI ``default bands``).
    crs : rasterio.crs.CRS or None
    transform : affine.Affine or None
        Pixel (col, row) -> map (x, y) of the pixel's upper-left corner.
    nodata : float or None
    labels : ndarray (rows, cols) of int or None
        Ground truth, 0 = unlabelled.
    classes : ClassTable or None
        Names and colours of the label classes.
    interleave : str
        ``"bsq"``, ``"bil"``, ``"bip"`` or ``"array"``.
    metadata : dict
        Anything else the reader found (description, sensor, ...).
    """

    path: Optional[Path]
    source: PixelSource
    wavelengths: Optional[np.ndarray] = None
    fwhm: Optional[np.ndarray] = None
    bad_bands: Optional[np.ndarray] = None
    band_names: Optional[list[str]] = None
    default_bands: Optional[tuple[int, int, int]] = None
    crs: Any = None
    transform: Any = None
    nodata: Optional[float] = None
    labels: Optional[np.ndarray] = None
    classes: Optional[ClassTable] = None
    interleave: str = "array"
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.bad_bands is None:
            self.bad_bands = np.zeros(self.n_bands, bool)
        if self.labels is not None and self.classes is None:
            self.classes = ClassTable.from_labels(self.labels)

    # --- shape -----------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """(rows, cols, bands)."""
        rows, cols, bands = self.source.shape
        return (int(rows), int(cols), int(bands))

    @property
    def n_rows(self) -> int:
        return self.shape[0]

    @property
    def n_cols(self) -> int:
        return self.shape[1]

    @property
    def n_bands(self) -> int:
        return self.shape[2]

    @property
    def dtype(self) -> np.dtype:
        """The pixel data type as stored in the file."""
        return np.dtype(self.source.dtype)

    @property
    def name(self) -> str:
        """A short display name (the file name, or ``"scene"``)."""
        return self.path.name if self.path is not None else "scene"

    @property
    def is_georeferenced(self) -> bool:
        """True when the scene has a CRS or a transform."""
        return self.crs is not None or self.transform is not None

    # --- pixel access ------------------------------------------------------------
    def spectrum(self, row: int, col: int) -> np.ndarray:
        """The values of pixel (row, col) across all bands, as a 1-D array in the file's dtype."""
        self._check_pixel(row, col)
        return self.source.read_subregion(slice(row, row + 1), slice(col, col + 1))[0, 0, :]

    def band(self, index: int) -> np.ndarray:
        """Band ``index`` (0-based) as a (rows, cols) array."""
        if not 0 <= index < self.n_bands:
            raise IndexError(f"band {index} out of range 0..{self.n_bands - 1}")
        return self.source.read_subregion(slice(None), slice(None), [index])[:, :, 0]

    def read_bands(self, indices: Sequence[int]) -> np.ndarray:
        """Several bands as a (rows, cols, len(indices)) array."""
        return self.source.read_subregion(slice(None), slice(None), list(indices))

    def read_subregion(self, rows: slice, cols: slice, bands: Sequence[int] | None = None) -> np.ndarray:
        """A (r, c, b) block of the cube."""
        return self.source.read_subregion(rows, cols, bands)

    def to_array(self) -> np.ndarray:
        """The whole cube in memory, (rows, cols, bands), in the file's dtype."""
        return self.source.read_subregion(slice(None), slice(None))

    def valid_mask(self) -> np.ndarray:
        """(rows, cols) bool: False where every band equals ``nodata``, or any band is NaN or ±inf.

        See :mod:`hsiviewer.data.validity`: non-finite values count as nodata everywhere.
        """
        if self.nodata is None and not np.issubdtype(self.dtype, np.inexact):
            return np.ones((self.n_rows, self.n_cols), bool)
        mask = np.zeros((self.n_rows, self.n_cols), bool)
        step = max(1, 2_000_000 // max(1, self.n_cols * self.n_bands))
        for r0 in range(0, self.n_rows, step):
            block = self.read_subregion(slice(r0, r0 + step), slice(None))
            mask[r0 : r0 + step] = valid_pixels(block, self.nodata)
        return mask

    # --- bands by wavelength ---------------------------------------------------------
    def band_for_wavelength(self, nm: float) -> int:
        """The index of the good band whose centre is nearest ``nm``."""
        if self.wavelengths is None:
            raise ValueError("the scene has no wavelengths")
        distance = np.abs(self.wavelengths - nm).astype(float)
        distance[self.bad_bands] = np.inf
        return int(np.argmin(distance))

    def band_label(self, index: int) -> str:
        """How to show band ``index`` to a user, e.g. ``"band 30 (650.2 nm)"`` (1-based)."""
        text = f"band {index + 1}"
        if self.wavelengths is not None:
            text += f" ({self.wavelengths[index]:.1f} nm)"
        return text

    def map_coordinates(self, row: float, col: float) -> Optional[tuple[float, float]]:
        """Map (x, y) of the centre of pixel (row, col), or None when not georeferenced."""
        if self.transform is None:
            return None
        x, y = self.transform @ (col + 0.5, row + 0.5)
        return float(x), float(y)

    def _check_pixel(self, row: int, col: int) -> None:
        if not (0 <= row < self.n_rows and 0 <= col < self.n_cols):
            raise IndexError(f"pixel ({row}, {col}) outside the scene of {self.n_rows} x {self.n_cols}")
