"""Spectra as plot data and as a CSV table (no widgets here, so it is easy to test)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hsiviewer.data.scene import Scene
from hsiviewer.errors import ExportError
from hsiviewer.io.atomic import atomic_path


def spectrum_axis(scene: Scene) -> tuple[np.ndarray, str, str]:
    """The x values of a spectrum plot.

    Returns
    -------
    x : ndarray of float64
        Wavelengths in nm, or band numbers 1..n when the scene has no wavelengths.
    axis_label : str
        ``"Wavelength (nm)"`` or ``"Band"``.
    column : str
        The CSV column name: ``"wavelength_nm"`` or ``"band"``.
    """
    if scene.wavelengths is not None:
        return np.asarray(scene.wavelengths, np.float64), "Wavelength (nm)", "wavelength_nm"
    return np.arange(1, scene.n_bands + 1, dtype=np.float64), "Band", "band"


def spectrum_values(scene: Scene, row: int, col: int) -> np.ndarray:
    """Pixel (row, col) as float64 with NaN at bad bands and nodata (gaps in the plot)."""
    values = scene.spectrum(row, col).astype(np.float64)
    values[np.asarray(scene.bad_bands, bool)] = np.nan
    if scene.nodata is not None:
        values[values == scene.nodata] = np.nan
    return values


def spectrum_connect(x: np.ndarray, values: np.ndarray, gap_factor: float = 2.5) -> np.ndarray:
    """Which points of a spectrum plot join the next one (pyqtgraph's ``connect`` array).

    A line is drawn from band i to band i + 1 only when both values are finite (bad bands and
    nodata are gaps), the wavelength increases (overlapping detectors start a new segment) and
    the step is at most ``gap_factor`` times the typical step (removed absorption bands show as
    gaps instead of straight lines across them).
    """
    x = np.asarray(x, np.float64)
    values = np.asarray(values, np.float64)
    connect = np.zeros(len(x), bool)
    if len(x) < 2:
        return connect
    step = np.diff(x)
    if np.count_nonzero(step < 0) > np.count_nonzero(step > 0):
        step = -step  # a decreasing axis (a wavenumber scene in nm): the same rules, mirrored
    positive = step[step > 0]
    typical = float(np.median(positive)) if positive.size else 1.0
    finite = np.isfinite(values)
    connect[:-1] = finite[:-1] & finite[1:] & (step > 0) & (step <= gap_factor * typical)
    return connect


def write_spectra_csv(
    path: str | Path, x: np.ndarray, x_column: str, columns: Sequence[tuple[str, np.ndarray]]
) -> Path:
    """Write spectra as CSV: the x column, then one column per spectrum; NaN as empty cells.

    Parameters
    ----------
    path : str or Path
    x : ndarray (bands,)
    x_column : str
        Header of the first column (``"wavelength_nm"`` or ``"band"``).
    columns : sequence of (name, values)
        One spectrum per column, each of the same length as ``x``.

    Returns
    -------
    Path

    Raises
    ------
    ExportError
        When there is nothing to write, a column has the wrong length, or the file cannot be written.
    """
    path = Path(path)
    if not columns:
        raise ExportError("there are no pinned spectra to export (click pixels to pin them)", path)
    for name, values in columns:
        if len(values) != len(x):
            raise ExportError(f"spectrum {name} has {len(values)} values for {len(x)} bands", path)

    def cell(value: float) -> str:
        return "" if not np.isfinite(value) else repr(float(value)).removesuffix(".0")

    try:
        with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([x_column, *(name for name, _ in columns)])
            for i, xi in enumerate(x):
                writer.writerow([cell(xi), *(cell(values[i]) for _, values in columns)])
    except OSError as exc:
        raise ExportError(f"cannot be written ({exc.strerror or exc})", path) from exc
    return path
