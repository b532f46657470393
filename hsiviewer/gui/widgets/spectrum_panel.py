"""The spectrum inspector: the live spectrum under the cursor and the pinned spectra."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from hsiviewer.data.scene import Scene
from hsiviewer.spectral.continuum import VIEW_MODES, spectrum_view
from hsiviewer.viewer.pins import Pin, PinnedPixels
from hsiviewer.viewer.spectra import spectrum_axis, spectrum_connect, spectrum_values

LIVE_PEN = pg.mkPen((170, 170, 170), width=1.5, style=Qt.PenStyle.DashLine)
REFERENCE_STYLE = Qt.PenStyle.DashDotLine


class SpectrumPanel(QWidget):
    """A spectrum plot mirroring a :class:`PinnedPixels` model, plus the live cursor spectrum.

    Parameters
    ----------
    pins : PinnedPixels

    Attributes
    ----------
    plot : pyqtgraph.PlotWidget
    live_curve : pyqtgraph.PlotDataItem
        The dashed grey spectrum of the pixel under the cursor.
    pinned_curves : dict[(row, col), PlotDataItem]
    reference_curves : list of PlotDataItem
        Library spectra (see :meth:`set_references`), dash-dotted.
    mode_box : QComboBox
        The display mode: reflectance, continuum removed or first derivative (by wavelength).
    extra_label : QLabel
        Extra information about the pixel under the cursor (see ``MainWindow.set_inspector_extra``).
    """

    #: The user asked to export the pinned spectra (the main window picks the file).
    export_requested = Signal()

    def __init__(self, pins: PinnedPixels, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.pins = pins
        self.scene: Optional[Scene] = None
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(160)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("left", "Value")
        self.plot.setLabel("bottom", "Wavelength (nm)")
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self.live_curve = pg.PlotDataItem(pen=LIVE_PEN, connect="finite")
        self.live_curve.setZValue(10)  # above the pinned curves it is compared with
        self.plot.addItem(self.live_curve)
        self.pinned_curves: dict[tuple[int, int], pg.PlotDataItem] = {}
        self.reference_curves: list[pg.PlotDataItem] = []
        self._references: list[tuple[str, np.ndarray, tuple[int, int, int]]] = []
        self._known: dict[tuple[int, int], np.ndarray] = {}  # spectra of the pins, read once
        self.mode = "reflectance"
        self.mode_box = QComboBox()
        for key, (label, _) in VIEW_MODES.items():
            self.mode_box.addItem(label, key)
        self.mode_box.setToolTip(
            "Show spectra as they are, continuum removed (upper convex hull), or as their "
            "first derivative by wavelength"
        )
        self.extra_label = QLabel()
        self.extra_label.setWordWrap(True)
        self.extra_label.setTextFormat(Qt.TextFormat.RichText)
        self.extra_label.hide()
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Unpin every spectrum")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the pinned spectra as a CSV table")
        self.hint = QLabel("Hover to inspect, click to pin a spectrum.")
        self.hint.setStyleSheet("color: gray")
        self._layout()
        self.clear_button.clicked.connect(self.pins.clear)
        self.export_button.clicked.connect(self.export_requested.emit)
        self.pins.changed.connect(self._sync_pins)
        self.mode_box.currentIndexChanged.connect(lambda _i: self.set_mode(self.mode_box.currentData()))

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.hint, 1)
        buttons.addWidget(self.mode_box)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.extra_label)
        layout.addLayout(buttons)

    def set_scene(self, scene: Optional[Scene]) -> None:
        """Show spectra of ``scene`` (pinned spectra of the previous scene are dropped)."""
        self.scene = scene
        self._known.clear()
        self.live_curve.setData([], [])
        if scene is not None:
            _, axis_label, _ = spectrum_axis(scene)
            self.plot.setLabel("bottom", axis_label)
        self.set_references([])
        self._sync_pins()

    def show_live(self, row: int, col: int) -> None:
        """Draw the spectrum of (row, col) as the live curve."""
        if self.scene is None:
            return
        self.show_spectrum(spectrum_values(self.scene, row, col))

    def show_spectrum(self, spectrum: np.ndarray) -> None:
        """Draw ``spectrum`` (one value per band of the scene, NaN for gaps) as the live curve."""
        if self.scene is None or len(spectrum) != self.scene.n_bands:
            return
        x, _, _ = spectrum_axis(self.scene)
        values = self._view(x, spectrum)
        self.live_curve.setData(x, values, connect=spectrum_connect(x, values), **point_symbols(x, "#bbbbbb"))

    def hide_live(self) -> None:
        """Remove the live curve (the cursor left the scene)."""
        self.live_curve.setData([], [])

    def set_extra_text(self, text: Optional[str]) -> None:
        """Show ``text`` (rich text) under the plot; None or "" hides it."""
        self.extra_label.setText(text or "")
        self.extra_label.setVisible(bool(text))

    def remember(self, row: int, col: int, spectrum: np.ndarray) -> None:
        """Keep the spectrum of (row, col) (read on a worker) for when it is pinned: no read then."""
        self._known[(int(row), int(col))] = spectrum

    def _spectrum(self, row: int, col: int) -> np.ndarray:
        found = self._known.get((row, col))
        if found is None:
            found = self._known[(row, col)] = spectrum_values(self.scene, row, col)
        return found

    def pinned_data(self) -> list[tuple[Pin, np.ndarray]]:
        """Each pin with its spectrum (float64, NaN at bad bands), in pinning order."""
        if self.scene is None:
            return []
        return [(pin, self._spectrum(pin.row, pin.col)) for pin in self.pins.pins]

    def _sync_pins(self) -> None:
        wanted = {(p.row, p.col): p for p in self.pins.pins} if self.scene is not None else {}
        for key in [k for k in self.pinned_curves if k not in wanted]:
            curve = self.pinned_curves.pop(key)
            self.plot.removeItem(curve)  # also takes it out of the legend
        for key in [k for k in self._known if k not in wanted]:
            del self._known[key]
        if self.scene is None:
            return
        x, _, _ = spectrum_axis(self.scene)
        for key, pin in wanted.items():
            if key not in self.pinned_curves:
                values = self._view(x, self._spectrum(pin.row, pin.col))
                curve = self.plot.plot(
                    x,
                    values,
                    pen=pg.mkPen(pin.color, width=2),
                    name=pin.name,
                    connect=spectrum_connect(x, values),
                    **point_symbols(x, pin.color),
                )
                self.pinned_curves[key] = curve

    # --- display modes and reference spectra ------------------------------------------------
    def _view(self, x: np.ndarray, values: np.ndarray) -> np.ndarray:
        return spectrum_view(self.mode, x, values)

    def set_mode(self, mode: str) -> None:
        """Show every curve as ``mode`` (a key of :data:`~hsiviewer.spectral.continuum.VIEW_MODES`)."""
        if mode not in VIEW_MODES:
            raise ValueError(f"unknown spectrum view '{mode}'")
        self.mode = mode
        index = self.mode_box.findData(mode)
        if self.mode_box.currentIndex() != index:
            self.mode_box.setCurrentIndex(index)
        self.plot.setLabel("left", VIEW_MODES[mode][1])
        for curve in self.pinned_curves.values():
            self.plot.removeItem(curve)
        self.pinned_curves.clear()
        self.live_curve.setData([], [])
        self._sync_pins()
        self.set_references(self._references)

    def set_references(self, references: list[tuple[str, np.ndarray, tuple[int, int, int]]]) -> None:
        """Draw reference spectra (name, values on the scene's bands, colour), replacing earlier ones."""
        for curve in self.reference_curves:
            self.plot.removeItem(curve)
        self.reference_curves = []
        self._references = list(references)
        if self.scene is None:
            return
        x, _, _ = spectrum_axis(self.scene)
        for name, values, color in self._references:
            shown = self._view(x, np.asarray(values, float))
            curve = self.plot.plot(
                x,
                shown,
                pen=pg.mkPen(color, width=2, style=REFERENCE_STYLE),
                name=name,
                connect=spectrum_connect(x, shown),
            )
            self.reference_curves.append(curve)


#: Below this many bands every band is also drawn as a dot, so a lone good band (or a 1-band
#: scene), which a line cannot show, stays visible.
DOTS_BELOW_BANDS = 24


def point_symbols(x: np.ndarray, color) -> dict:
    """Keyword arguments for ``PlotDataItem``: dots at each band for scenes with few bands."""
    if len(x) >= DOTS_BELOW_BANDS:
        return {"symbol": None}
    return {"symbol": "o", "symbolSize": 6, "symbolBrush": color, "symbolPen": color}
