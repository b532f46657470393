"""The display panel: band or RGB mode, band pickers, presets, colour map, stretch, histogram.

Every control writes to a :class:`DisplayState` and mirrors it back, so the panel never holds
state of its own; the histogram is a level editor for band mode (drag its region to set
manual levels).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hsiviewer.data.scene import Scene
from hsiviewer.processing.stretch import valid_values
from hsiviewer.viewer.display import COLORMAPS, DisplayState, rgb_presets

STRETCH_NAMES = {
    "percentile": "Percentile",
    "minmax": "Min–max",
    "stddev": "Mean ± k·σ",
    "manual": "Manual (histogram)",
}
CHANNELS = ("R", "G", "B")


class DisplayPanel(QWidget):
    """Controls bound to a :class:`DisplayState`.

    Attributes
    ----------
    band_radio, rgb_radio : QRadioButton
    band_slider : QSlider
        0-based band index; ``band_label`` names it (``scene.band_label``).
    colormap_combo : QComboBox
    rgb_spins : list of three QSpinBox
        Band numbers (1-based, as users count) for red, green and blue.
    rgb_nm_spins : list of three QDoubleSpinBox
        The same bands by wavelength (nm); editing one picks the nearest band.
    preset_combo : QComboBox
    stretch_combo : QComboBox
    histogram : pyqtgraph.HistogramLUTWidget
    """

    def __init__(self, state: DisplayState, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.state = state
        self.scene: Optional[Scene] = None
        self._syncing = False
        self._build_mode()
        self._build_band()
        self._build_rgb()
        self._build_stretch()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        for widget in (self.mode_box, self.band_box, self.rgb_box, self.stretch_box):
            layout.addWidget(widget)
        # no taller than its controls, so the docks below (the legend) get the room
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        state.changed.connect(self._sync)
        self.setEnabled(False)

    # --- construction -------------------------------------------------------------------
    def _build_mode(self) -> None:
        self.band_radio = QRadioButton("Single band")
        self.rgb_radio = QRadioButton("RGB")
        group = QButtonGroup(self)
        group.addButton(self.band_radio)
        group.addButton(self.rgb_radio)
        self.band_radio.toggled.connect(lambda on: self._write(self.state.set_mode, "band" if on else "rgb"))
        self.mode_box = QGroupBox("Mode")
        row = QHBoxLayout(self.mode_box)
        row.addWidget(self.band_radio)
        row.addWidget(self.rgb_radio)

    def _build_band(self) -> None:
        self.band_slider = QSlider(Qt.Orientation.Horizontal)
        self.band_label = QLabel()
        self.colormap_combo = QComboBox()
        self.colormap_combo.addItems(COLORMAPS)
        self.band_slider.valueChanged.connect(lambda i: self._write(self.state.set_band, i))
        self.colormap_combo.currentTextChanged.connect(lambda n: self._write(self.state.set_colormap, n))
        self.band_box = QGroupBox("Band")
        form = QFormLayout(self.band_box)
        form.addRow(self.band_label)
        form.addRow(self.band_slider)
        form.addRow("Colour map", self.colormap_combo)

    def _build_rgb(self) -> None:
        self.preset_combo = QComboBox()
        self.preset_combo.activated.connect(self._on_preset)
        self.rgb_spins, self.rgb_nm_spins = [], []
        self.rgb_box = QGroupBox("RGB bands")
        form = QFormLayout(self.rgb_box)
        form.addRow("Preset", self.preset_combo)
        for channel, name in enumerate(CHANNELS):
            spin = QSpinBox()
            spin.setPrefix("band ")
            spin.valueChanged.connect(lambda v, c=channel: self._write(self.state.set_rgb_channel, c, v - 1))
            nm = QDoubleSpinBox()
            nm.setDecimals(1)
            nm.setRange(0.0, 100000.0)
            nm.setSuffix(" nm")
            nm.setKeyboardTracking(False)
            nm.valueChanged.connect(lambda v, c=channel: self._on_wavelength(c, v))
            row = QHBoxLayout()
            row.addWidget(spin, 1)
            row.addWidget(nm, 1)
            form.addRow(name, row)
            self.rgb_spins.append(spin)
            self.rgb_nm_spins.append(nm)

    def _build_stretch(self) -> None:
        self.stretch_combo = QComboBox()
        for kind, name in STRETCH_NAMES.items():
            self.stretch_combo.addItem(name, kind)
        self.low_spin, self.high_spin, self.k_spin = QDoubleSpinBox(), QDoubleSpinBox(), QDoubleSpinBox()
        for spin, value in ((self.low_spin, 2.0), (self.high_spin, 98.0)):
            spin.setRange(0.0, 100.0)
            spin.setSuffix(" %")
            spin.setValue(value)
        self.k_spin.setRange(0.1, 10.0)
        self.k_spin.setSingleStep(0.5)
        self.k_spin.setValue(2.0)
        self.stretch_combo.activated.connect(lambda _: self._on_stretch())
        for spin in (self.low_spin, self.high_spin, self.k_spin):
            spin.valueChanged.connect(lambda _: self._on_stretch())
        self.histogram = pg.HistogramLUTWidget(orientation="horizontal")
        self.histogram.setMinimumHeight(110)
        self.histogram.item.gradient.showTicks(False)
        self.histogram.item.sigLevelsChanged.connect(self._on_histogram_levels)
        self.stretch_box = QGroupBox("Stretch")
        form = QFormLayout(self.stretch_box)
        form.addRow("Kind", self.stretch_combo)
        percent = QHBoxLayout()
        percent.addWidget(self.low_spin)
        percent.addWidget(self.high_spin)
        form.addRow("Percentiles", percent)
        form.addRow("k (σ)", self.k_spin)
        form.addRow(self.histogram)

    # --- scene ------------------------------------------------------------------------
    def set_scene(self, scene: Optional[Scene]) -> None:
        """Set the ranges and presets for ``scene`` (the state is reset by the main window)."""
        self.scene = scene
        self.setEnabled(scene is not None)
        if scene is None:
            return
        self._syncing = True
        self.band_slider.setRange(0, scene.n_bands - 1)
        for spin, nm in zip(self.rgb_spins, self.rgb_nm_spins):
            spin.setRange(1, scene.n_bands)
            nm.setVisible(scene.wavelengths is not None)
        self.preset_combo.clear()
        self.preset_combo.addItem("Choose a preset…")
        for name, bands in rgb_presets(scene).items():
            self.preset_combo.addItem(name, bands)
        self._syncing = False
        self._sync("scene")

    # --- state -> widgets -------------------------------------------------------------
    def _sync(self, field: str) -> None:
        if self.scene is None:
            return
        self._syncing = True
        try:
            state = self.state
            (self.band_radio if state.mode == "band" else self.rgb_radio).setChecked(True)
            self.band_box.setVisible(state.mode == "band")
            self.rgb_box.setVisible(state.mode == "rgb")
            self.histogram.setVisible(state.mode == "band")
            self.band_slider.setValue(state.band)
            self.band_label.setText(self.scene.band_label(state.band))
            self.colormap_combo.setCurrentText(state.colormap)
            self.histogram.item.gradient.setColorMap(
                pg.colormap.get(state.colormap)
                if state.colormap != "grey"
                else pg.ColorMap(None, [(0, 0, 0), (255, 255, 255)])
            )
            presets = [self.preset_combo.itemData(i) for i in range(self.preset_combo.count())]
            self.preset_combo.setCurrentIndex(presets.index(state.rgb) if state.rgb in presets else 0)
            for channel, band in enumerate(state.rgb):
                self.rgb_spins[channel].setValue(band + 1)
                if self.scene.wavelengths is not None:
                    self.rgb_nm_spins[channel].setValue(float(self.scene.wavelengths[band]))
            # manual levels are set on one band's histogram: not offered for RGB, where the renderer
            # falls back to the percentile stretch, which is then what the combo shows
            kinds = list(STRETCH_NAMES)
            self.stretch_combo.model().item(kinds.index("manual")).setEnabled(state.mode == "band")
            shown = "percentile" if state.mode == "rgb" and state.stretch == "manual" else state.stretch
            self.stretch_combo.setCurrentIndex(kinds.index(shown))
            self.low_spin.setValue(state.percentiles[0])
            self.high_spin.setValue(state.percentiles[1])
            self.k_spin.setValue(state.k)
            self.low_spin.setEnabled(state.stretch == "percentile")
            self.high_spin.setEnabled(state.stretch == "percentile")
            self.k_spin.setEnabled(state.stretch == "stddev")
        finally:
            self._syncing = False

    def show_histogram(self, band: np.ndarray, levels: tuple[float, float]) -> None:
        """Draw the histogram of the displayed band and put the level region at ``levels``."""
        values = valid_values(band)
        if values.size == 0:
            return
        counts, edges = np.histogram(values, bins=256)
        self._syncing = True
        try:
            self.histogram.item.plot.setData(edges, counts, stepMode="center")
            self.histogram.item.region.setRegion(levels)
        finally:
            self._syncing = False

    # --- widgets -> state -------------------------------------------------------------
    def _write(self, setter, *args) -> None:
        if not self._syncing and self.scene is not None:
            setter(*args)

    def _on_wavelength(self, channel: int, nm: float) -> None:
        if not self._syncing and self.scene is not None and self.scene.wavelengths is not None:
            self.state.set_rgb_channel(channel, self.scene.band_for_wavelength(nm))
            self._sync("rgb")  # snap the spin box to the band actually chosen

    def _on_preset(self, index: int) -> None:
        bands = self.preset_combo.itemData(index)
        if bands is not None and self.scene is not None:
            self.state.set_rgb(bands)
            self.state.set_mode("rgb")

    def _on_stretch(self) -> None:
        if self._syncing or self.scene is None:
            return
        kind = self.stretch_combo.currentData()
        low, high = self.low_spin.value(), self.high_spin.value()
        self.state.set_stretch(kind, percentiles=(low, high) if low < high else None, k=self.k_spin.value())
        self._sync("stretch")

    def _on_histogram_levels(self) -> None:
        if not self._syncing and self.scene is not None and self.state.mode == "band":
            low, high = self.histogram.item.region.getRegion()
            self.state.set_manual_levels(low, high)
