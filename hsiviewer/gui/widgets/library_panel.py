"""The Library panel: the spectra of a :class:`LibraryView`, shown or hidden in the spectrum plot.

Each row is a spectrum with a check box (shown in the spectrum plot, resampled to the scene) and
its name (double-click to rename). Buttons open a library, add the pinned spectra, delete the
selected spectrum and save the library; the file dialogs are the main window's business, so the
panel only emits what the user asked for.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hsiviewer.gui.widgets.layers_panel import swatch
from hsiviewer.viewer.library_view import LibraryView


class LibraryPanel(QWidget):
    """Mirrors a :class:`LibraryView`.

    Signals
    -------
    open_requested, save_requested, add_pins_requested, add_means_requested
        The user pressed *Open…*, *Save…*, *Add pins* or *Add region means*.

    Attributes
    ----------
    spectra : QListWidget
        One checkable, editable row per spectrum.
    info : QLabel
        The library's file, band range and scale.
    """

    open_requested = Signal()
    save_requested = Signal()
    add_pins_requested = Signal()
    add_means_requested = Signal()

    def __init__(self, view: LibraryView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.spectra = QListWidget()
        self.spectra.setToolTip("Tick to show a spectrum in the spectrum plot; double-click to rename it")
        self.info = QLabel("No library. Open one (ENVI .sli, CSV, USGS, ECOSTRESS) or add pinned spectra.")
        self.info.setWordWrap(True)
        self.info.setStyleSheet("color: gray")
        self.open_button = QPushButton("Open…")
        self.add_button = QPushButton("Add pins")
        self.add_button.setToolTip("Add the pinned spectra to the library")
        self.add_means_button = QPushButton("Add region means")
        self.add_means_button.setToolTip("Add each class's mean spectrum over its drawn training regions")
        self.delete_button = QPushButton("Delete")
        self.save_button = QPushButton("Save…")
        self._syncing = False
        buttons = QHBoxLayout()
        for button in (self.open_button, self.add_button, self.add_means_button, self.delete_button, self.save_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.spectra, 1)
        layout.addWidget(self.info)
        layout.addLayout(buttons)
        self.open_button.clicked.connect(self.open_requested.emit)
        self.save_button.clicked.connect(self.save_requested.emit)
        self.add_button.clicked.connect(self.add_pins_requested.emit)
        self.add_means_button.clicked.connect(self.add_means_requested.emit)
        self.delete_button.clicked.connect(self.delete_selected)
        self.spectra.itemChanged.connect(self._on_item_changed)
        view.changed.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        self._syncing = True
        try:
            self.spectra.clear()
            for i, name in enumerate(self.view.names):
                item = QListWidgetItem(swatch(self.view.color(i)), name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable)
                item.setCheckState(Qt.CheckState.Checked if self.view.visible[i] else Qt.CheckState.Unchecked)
                self.spectra.addItem(item)
        finally:
            self._syncing = False
        lib = self.view.library
        self.delete_button.setEnabled(len(self.view) > 0)
        self.save_button.setEnabled(len(self.view) > 0)
        if lib is not None and len(lib):
            where = lib.path.name if lib.path is not None else "collected here"
            bands = (
                f"{lib.wavelengths.min():.0f}-{lib.wavelengths.max():.0f} nm"
                if lib.wavelengths is not None
                else "no wavelengths"
            )
            self.info.setText(f"{len(lib)} spectra, {where}; {lib.n_bands} bands, {bands}; {lib.describe_scale()}")

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._syncing:
            return
        row = self.spectra.row(item)
        if not 0 <= row < len(self.view):
            return
        if item.text().strip() and item.text() != self.view.names[row]:
            self.view.rename(row, item.text().strip())
            return
        self.view.set_visible(row, item.checkState() == Qt.CheckState.Checked)

    def delete_selected(self) -> None:
        """Delete the selected spectrum."""
        row = self.spectra.currentRow()
        if 0 <= row < len(self.view):
            self.view.remove(row)
