"""Continuous layers (an index, a matching score) drawn over the scene with a colour map.

A :class:`ContinuousLayer` has the interface of :class:`~hsiviewer.viewer.layers.ClassLayer` that the
image view, the layers panel and the pixel description use (``name``, ``visible``, ``opacity``,
``changed``, ``rgba``, ``present_classes``, ``class_at``), so it sits in the same
:class:`~hsiviewer.viewer.layers.LayerStack`. Its legend is the colour ramp cut into a few bins.
No Qt here: the colour maps are small tables interpolated with NumPy.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from psygnal import Signal

#: Anchor colours of the colour maps (evenly spaced from low to high), after matplotlib's.
COLORMAPS: dict[str, list[tuple[int, int, int]]] = {
    "viridis": [
        (68, 1, 84),
        (72, 40, 120),
        (62, 74, 137),
        (49, 104, 142),
        (38, 130, 142),
        (31, 158, 137),
        (53, 183, 121),
        (110, 206, 88),
        (181, 222, 43),
        (253, 231, 37),
    ],
    "RdYlGn": [
        (165, 0, 38),
        (215, 48, 39),
        (244, 109, 67),
        (253, 174, 97),
        (254, 224, 139),
        (217, 239, 139),
        (166, 217, 106),
        (102, 189, 99),
        (26, 152, 80),
        (0, 104, 55),
    ],
    "magma_r": [
        (252, 253, 191),
        (254, 202, 141),
        (253, 150, 104),
        (241, 96, 93),
        (205, 64, 113),
        (158, 47, 127),
        (114, 31, 129),
        (68, 15, 118),
        (24, 15, 62),
        (0, 0, 4),
    ],
    "grey": [(0, 0, 0), (255, 255, 255)],
}
LEGEND_BINS = 5


def colormap_table(name: str, size: int = 256) -> np.ndarray:
    """A (size, 3) uint8 table interpolating the anchors of colour map ``name``."""
    if name not in COLORMAPS:
        raise ValueError(f"unknown colour map '{name}' (known: {', '.join(COLORMAPS)})")
    anchors = np.asarray(COLORMAPS[name], float)
    at = np.linspace(0, 1, len(anchors))
    t = np.linspace(0, 1, size)
    return np.column_stack([np.interp(t, at, anchors[:, k]) for k in range(3)]).round().astype(np.uint8)


def robust_levels(values: np.ndarray, low: float = 2.0, high: float = 98.0) -> tuple[float, float]:
    """Percentile levels of the finite values ((0, 1) when there are none; widened when flat)."""
    finite = np.asarray(values)[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(finite, [low, high]))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


class ContinuousLayer:
    """A float raster drawn with a colour map; NaN (nodata) is transparent.

    Parameters
    ----------
    name : str
    values : ndarray (rows, cols) of float
    colormap : str
        A key of :data:`COLORMAPS`.
    levels : (low, high), optional
        The values at the two ends of the colour map (default: 2nd and 98th percentiles).
    description : str
        What the values are (an expression, ``"spectral angle (rad)"``): the GeoTIFF band description.
    """

    #: Emitted with ``"data"``, ``"visible"`` or ``"opacity"``.
    changed = Signal(str)

    def __init__(
        self,
        name: str,
        values: np.ndarray,
        colormap: str = "viridis",
        levels: tuple[float, float] | None = None,
        description: str = "",
        opacity: float = 0.8,
        visible: bool = True,
    ) -> None:
        self.name = name
        self.visible = bool(visible)
        self.opacity = float(opacity)
        self.description = description or name
        self.colormap = colormap
        self.values = np.zeros((0, 0), np.float32)
        self.levels = (0.0, 1.0)
        self._assign(values, levels)
        colormap_table(colormap)  # refuse an unknown name now

    def _assign(self, values: np.ndarray, levels: tuple[float, float] | None) -> None:
        values = np.asarray(values, np.float32)
        if values.ndim != 2:
            raise ValueError(f"a continuous layer needs a 2-D array, got shape {values.shape}")
        self.values = values
        self.levels = (float(levels[0]), float(levels[1])) if levels is not None else robust_levels(values)

    def set_data(self, values: np.ndarray, levels: tuple[float, float] | None = None) -> None:
        """Replace the values (levels recomputed unless given)."""
        self._assign(values, levels)
        self.changed.emit("data")

    def set_levels(self, low: float, high: float) -> None:
        """Set the values at the ends of the colour map."""
        self.levels = (float(low), float(high))
        self.changed.emit("data")

    def set_colormap(self, name: str) -> None:
        """Use colour map ``name``."""
        colormap_table(name)
        self.colormap = name
        self.changed.emit("data")

    def set_visible(self, visible: bool) -> None:
        """Show or hide the layer."""
        if bool(visible) != self.visible:
            self.visible = bool(visible)
            self.changed.emit("visible")

    def set_opacity(self, opacity: float) -> None:
        """Set the opacity, 0 (invisible) .. 1 (opaque)."""
        opacity = min(1.0, max(0.0, float(opacity)))
        if opacity != self.opacity:
            self.opacity = opacity
            self.changed.emit("opacity")

    @property
    def raster(self) -> np.ndarray:
        """The (rows, cols) array the layer draws (its values), as :attr:`ClassLayer.raster`."""
        return self.values

    def rgba(self, values: Optional[np.ndarray] = None) -> np.ndarray:
        """(rows, cols, 4) uint8 of the layer (or ``values``, a part of it): the colour map over
        :attr:`levels`, NaN transparent."""
        values = self.values if values is None else values
        table = colormap_table(self.colormap)
        low, high = self.levels
        finite = np.isfinite(values)
        with np.errstate(invalid="ignore"):
            t = np.clip((np.where(finite, values, low) - low) / (high - low), 0, 1)
        out = np.zeros(values.shape + (4,), np.uint8)
        out[..., :3] = table[(t * (len(table) - 1)).round().astype(int)]
        out[..., 3] = np.where(finite, 255, 0)
        return out

    def present_classes(self) -> list[tuple[int, str, tuple[int, int, int], int]]:
        """The legend: the levels cut into bins, each (bin, "low – high", colour at its centre, pixel count).

        The first and last bins also hold the values beyond the levels.
        """
        low, high = self.levels
        edges = np.linspace(low, high, LEGEND_BINS + 1)
        table = colormap_table(self.colormap)
        finite = self.values[np.isfinite(self.values)]
        index = np.clip(np.searchsorted(edges, finite, side="right") - 1, 0, LEGEND_BINS - 1)
        counts = np.bincount(index, minlength=LEGEND_BINS)
        rows = []
        for i in range(LEGEND_BINS):
            color = table[round((i + 0.5) / LEGEND_BINS * (len(table) - 1))]
            text = f"{_fmt(edges[i])} – {_fmt(edges[i + 1])}"
            text = ("≤ " + _fmt(edges[1])) if i == 0 else ("> " + _fmt(edges[i])) if i == LEGEND_BINS - 1 else text
            rows.append((i + 1, text, (int(color[0]), int(color[1]), int(color[2])), int(counts[i])))
        return rows

    def class_at(self, row: int, col: int) -> tuple[int, str]:
        """(1, the value as text), or (0, "") at nodata: what the status bar shows for this layer."""
        value = float(self.values[row, col])
        return (1, _fmt(value)) if np.isfinite(value) else (0, "")


def _fmt(value: float) -> str:
    return f"{value:.4g}"
