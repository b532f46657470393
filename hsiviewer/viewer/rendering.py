"""From a scene and a :class:`DisplayState` to the array the image view shows (no widgets here).

Only the one or three bands on screen are read, and stretch levels are cached per band and
stretch setting, so moving the band slider back and forth or switching modes stays quick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from hsiviewer.data.scene import Scene
from hsiviewer.processing.stretch import apply_stretch, compute_levels


@dataclass
class Rendering:
    """What the image view shows.

    Attributes
    ----------
    image : ndarray
        Band mode: the band as float32 (rows, cols), NaN where nodata. RGB mode: the three
        stretched bands, float32 (rows, cols, 3) in [0, 1], NaN where nodata.
    levels : (float, float)
        The display levels of ``image`` (band mode: the stretch levels; RGB: (0, 1)).
    colormap : str or None
        The colour map of band mode; None in RGB mode.
    band_levels : list of (float, float)
        The stretch levels of each band shown, in the band's own units.
    """

    image: np.ndarray
    levels: tuple[float, float]
    colormap: Optional[str]
    band_levels: list[tuple[float, float]]


class DisplayRenderer:
    """Reads bands of one scene and stretches them for display.

    Parameters
    ----------
    scene : Scene
    """

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self._levels: dict[tuple, tuple[float, float]] = {}
        self._bands: dict[int, np.ndarray] = {}

    def band_data(self, index: int) -> np.ndarray:
        """Band ``index`` as float32 with NaN where nodata (the last four read are kept)."""
        if index not in self._bands:
            data = self.scene.band(index).astype(np.float32)
            if self.scene.nodata is not None:
                data[data == np.float32(self.scene.nodata)] = np.nan
            data[np.isinf(data)] = np.nan  # ±inf is nodata too (hsiviewer.data.validity)
            if len(self._bands) >= 4:
                self._bands.pop(next(iter(self._bands)))
            self._bands[index] = data
        return self._bands[index]

    def band_levels(self, index: int, params: dict) -> tuple[float, float]:
        """The stretch levels of band ``index`` for ``params`` (see ``DisplayState.stretch_params``)."""
        if params["kind"] == "manual":
            low, high = params["levels"]
            return float(low), float(high)
        key = (index, params["kind"], params["low"], params["high"], params["k"])
        if key not in self._levels:
            low, high = compute_levels(
                self.band_data(index), params["kind"], low=params["low"], high=params["high"], k=params["k"]
            )
            self._levels[key] = (float(low), float(high))
        return self._levels[key]

    def render(self, state) -> Rendering:
        """The image for the current ``state`` (a :class:`DisplayState`)."""
        params = state.stretch_params()
        if state.mode == "band":
            levels = self.band_levels(state.band, params)
            return Rendering(self.band_data(state.band), levels, state.colormap, [levels])
        if params["kind"] == "manual":
            # manual levels belong to one band; RGB falls back to the percentile stretch
            params = dict(params, kind="percentile")
        channels, band_levels = [], []
        for index in state.rgb:
            low, high = self.band_levels(index, params)
            channels.append(apply_stretch(self.band_data(index), low, high))
            band_levels.append((low, high))
        return Rendering(np.dstack(channels), (0.0, 1.0), None, band_levels)

    def values_at(self, state, row: int, col: int) -> list[float]:
        """The raw values shown at (row, col): one in band mode, three in RGB mode."""
        bands = [state.band] if state.mode == "band" else list(state.rgb)
        return [float(self.band_data(b)[row, col]) for b in bands]
