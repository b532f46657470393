"""How the scene is displayed: band or RGB mode, bands, colour map and stretch.

The state is a plain object that emits (psygnal) :attr:`DisplayState.changed` with the name
of the field that changed; the display panel and the image view only mirror it, so a
test or a script can drive the display without touching any widget.
"""

from __future__ import annotations

from typing import Optional

from psygnal import Signal

from hsiviewer.data.scene import Scene
from hsiviewer.processing.stretch import STRETCH_KINDS

#: Colour maps offered in band mode ("grey" is no colour map at all).
COLORMAPS = ("grey", "viridis", "magma", "inferno", "plasma", "cividis", "turbo")

#: Wavelength presets (red, green, blue in nm), offered when the scene knows its wavelengths.
WAVELENGTH_PRESETS = {
    "True colour (640/550/460 nm)": (640.0, 550.0, 460.0),
    "Colour infrared (860/650/550 nm)": (860.0, 650.0, 550.0),
}
HEADER_PRESET = "Header default bands"


def rgb_presets(scene: Scene) -> dict[str, tuple[int, int, int]]:
    """The RGB presets that make sense for ``scene``: name -> three band indices.

    The header's default bands come first when the file names them; the wavelength
    presets follow when the scene knows its wavelengths.
    """
    presets: dict[str, tuple[int, int, int]] = {}
    if scene.default_bands is not None:
        r, g, b = (int(band) for band in scene.default_bands)
        presets[HEADER_PRESET] = (r, g, b)
    if scene.wavelengths is not None:
        for name, nms in WAVELENGTH_PRESETS.items():
            r, g, b = (scene.band_for_wavelength(nm) for nm in nms)
            presets[name] = (r, g, b)
    return presets


def initial_rgb(scene: Scene) -> tuple[int, int, int]:
    """The RGB bands to start with: the header's, else true colour, else spread over the cube."""
    presets = rgb_presets(scene)
    if presets:
        return next(iter(presets.values()))
    n = scene.n_bands
    return (min(n - 1, (3 * n) // 4), n // 2, n // 4)


class DisplayState:
    """The display settings of the scene view.

    Attributes
    ----------
    mode : {"band", "rgb"}
    band : int
        The band shown in band mode (0-based).
    rgb : tuple of three int
        The bands shown as red, green, blue (0-based).
    colormap : str
        One of :data:`COLORMAPS`, used in band mode.
    stretch : str
        One of :data:`hsiviewer.processing.stretch.STRETCH_KINDS`.
    percentiles : (float, float)
        For the percentile stretch.
    k : float
        For the standard-deviation stretch.
    manual_levels : (float, float) or None
        For the manual stretch (band mode).
    """

    #: Emitted with the name of the field that changed (``"scene"`` after :meth:`reset`).
    changed = Signal(str)

    def __init__(self) -> None:
        self.mode = "rgb"
        self.band = 0
        self.rgb = (0, 0, 0)
        self.colormap = "grey"
        self.stretch = "percentile"
        self.percentiles = (2.0, 98.0)
        self.k = 2.0
        self.manual_levels: Optional[tuple[float, float]] = None
        self.n_bands = 1

    def reset(self, scene: Scene) -> None:
        """Start over for a newly opened scene (RGB mode on its initial bands)."""
        self.n_bands = scene.n_bands
        self.rgb = initial_rgb(scene)
        self.band = self.rgb[0]
        self.mode = "rgb" if scene.n_bands >= 3 else "band"
        self.manual_levels = None
        if self.stretch == "manual":
            self.stretch = "percentile"
        self.changed.emit("scene")

    def set_mode(self, mode: str) -> None:
        """Show one band (``"band"``) or three (``"rgb"``)."""
        if mode not in ("band", "rgb"):
            raise ValueError(f"unknown display mode '{mode}'")
        self._set("mode", mode)

    def set_band(self, index: int) -> None:
        """Show band ``index`` (0-based) in band mode; manual levels are dropped."""
        index = self._check_band(index)
        if index != self.band and self.stretch == "manual":
            self.stretch = "percentile"
            self.manual_levels = None
        self._set("band", index)

    def set_rgb(self, bands) -> None:
        """Show the three bands ``bands`` (0-based) as red, green and blue."""
        bands = tuple(self._check_band(b) for b in bands)
        if len(bands) != 3:
            raise ValueError(f"RGB needs three bands, got {len(bands)}")
        self._set("rgb", bands)

    def set_rgb_channel(self, channel: int, index: int) -> None:
        """Change one of the red (0), green (1) or blue (2) bands."""
        bands = list(self.rgb)
        bands[channel] = index
        self.set_rgb(bands)

    def set_colormap(self, name: str) -> None:
        """Use colour map ``name`` (one of :data:`COLORMAPS`) in band mode."""
        if name not in COLORMAPS:
            raise ValueError(f"unknown colour map '{name}'")
        self._set("colormap", name)

    def set_stretch(
        self, kind: str, percentiles: Optional[tuple[float, float]] = None, k: Optional[float] = None
    ) -> None:
        """Use stretch ``kind``, optionally with new percentiles or a new k."""
        if kind not in STRETCH_KINDS:
            raise ValueError(f"unknown stretch '{kind}'")
        if percentiles is not None:
            low, high = float(percentiles[0]), float(percentiles[1])
            if not 0.0 <= low < high <= 100.0:
                raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100, got {low}, {high}")
            self.percentiles = (low, high)
        if k is not None:
            self.k = float(k)
        if kind == "manual" and self.manual_levels is None:
            kind = "percentile"  # nothing to be manual about yet: the histogram sets the levels
        self.stretch = kind
        self.changed.emit("stretch")

    def set_manual_levels(self, low: float, high: float) -> None:
        """Fix the band-mode levels to (low, high) and switch to the manual stretch."""
        low, high = float(min(low, high)), float(max(low, high))
        if self.stretch == "manual" and self.manual_levels == (low, high):
            return
        self.manual_levels = (low, high)
        self.stretch = "manual"
        self.changed.emit("stretch")

    def stretch_params(self) -> dict:
        """Keyword arguments for :func:`hsiviewer.processing.stretch.compute_levels`."""
        return {
            "kind": self.stretch,
            "low": self.percentiles[0],
            "high": self.percentiles[1],
            "k": self.k,
            "levels": self.manual_levels,
        }

    def _check_band(self, index: int) -> int:
        index = int(index)
        if not 0 <= index < self.n_bands:
            raise ValueError(f"band {index + 1} is outside 1..{self.n_bands}")
        return index

    def _set(self, name: str, value) -> None:
        if getattr(self, name) == value:
            return
        setattr(self, name, value)
        self.changed.emit(name)
