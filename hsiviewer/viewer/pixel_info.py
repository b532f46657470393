"""The status-bar description of the pixel under the cursor (plain text, no widgets)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Optional

import numpy as np

from hsiviewer.data.scene import Scene
from hsiviewer.viewer.display import DisplayState
from hsiviewer.viewer.layers import ClassLayer
from hsiviewer.viewer.rendering import DisplayRenderer
from hsiviewer.viewer.spectra import spectrum_values
from hsiviewer.viewer.tiles import ViewSettings

SEPARATOR = "   |   "


def format_value(value: float) -> str:
    """A pixel value as a user reads it: integers without decimals, NaN as "nodata"."""
    if math.isnan(value):
        return "nodata"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def map_text(scene: Scene, row: int, col: int) -> str:
    """``"x 383487.37, y 5818287.35"`` for a georeferenced scene, else ""."""
    xy = scene.map_coordinates(row, col)
    if xy is None:
        return ""
    geographic = bool(getattr(scene.crs, "is_geographic", False))
    digits = 6 if geographic else 2
    return f"x {xy[0]:.{digits}f}, y {xy[1]:.{digits}f}"


def describe_pixel(
    scene: Scene,
    row: int,
    col: int,
    state: DisplayState | ViewSettings,
    renderer: DisplayRenderer,
    layers: Iterable[ClassLayer],
) -> str:
    """Everything the status bar says about pixel (row, col).

    Row and column, map coordinates when georeferenced, the displayed value(s) (one band in
    band mode, three in RGB mode) and the class of every class layer.
    """
    parts = [f"row {row}, col {col}"]
    coordinates = map_text(scene, row, col)
    if coordinates:
        parts.append(coordinates)
    values = [format_value(v) for v in renderer.values_at(state, row, col)]
    if state.mode == "band":
        parts.append(f"{scene.band_label(state.band)}: {values[0]}")
    else:
        parts.append("RGB " + " / ".join(values))
    for layer in layers:
        class_id, name = layer.class_at(row, col)
        parts.append(f"{layer.name}: {name}" if class_id else f"{layer.name}: –")
    return SEPARATOR.join(parts)


@dataclass(frozen=True)
class PixelInfo:
    """What hovering over pixel (row, col) of ``scene`` shows: the status-bar text and the spectrum."""

    scene: Scene
    row: int
    col: int
    text: str
    spectrum: np.ndarray


def read_pixel_info(
    scene: Scene,
    row: int,
    col: int,
    state: DisplayState | ViewSettings,
    renderer: DisplayRenderer,
    layers: Iterable[ClassLayer],
    cancel: Optional[Callable[[], bool]] = None,
) -> PixelInfo:
    """Read (row, col): its description (:func:`describe_pixel`) and its spectrum (float64, NaN gaps).

    Both come from the file (one pixel of every band), so the GUI calls this on a worker for scenes
    whose reads may wait on the disk; ``cancel`` is accepted for that worker and not needed here
    (a pixel is one read).
    """
    text = describe_pixel(scene, row, col, state, renderer, layers)
    return PixelInfo(scene, row, col, text, spectrum_values(scene, row, col))
