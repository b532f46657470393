"""The Regions panel: the class list (visibility, colour, name, regions, pixels), class editing,
the brush radius, and the statistics plot (mean ± 1 σ spectrum per class, and of the selected region).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hsiviewer.regions.model import RegionSet
from hsiviewer.regions.statistics import SpectrumStats
from hsiviewer.viewer.spectra import spectrum_connect

STD_ALPHA = 60


class RegionsPanel(QWidget):
    """A view of a :class:`RegionSet`'s classes with buttons to edit them, and the statistics plot.

    Signals
    -------
    add_requested, rename_requested, recolor_requested, merge_requested, delete_requested, export_requested
        The buttons (the controller asks for names and colours, so tests can drive it without dialogs).
    class_selected(class_id)
    """

    add_requested = Signal()
    rename_requested = Signal()
    recolor_requested = Signal()
    merge_requested = Signal()
    delete_requested = Signal()
    export_requested = Signal()
    class_selected = Signal(int)

    def __init__(self, regions: RegionSet, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.regions = regions
        self._counts: dict[int, tuple[int, int]] = {}
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Class", "Regions", "Pixels"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_selection)
        buttons = QHBoxLayout()
        self.buttons = {}
        for key, text, signal in (
            ("add", "Add", self.add_requested),
            ("rename", "Rename", self.rename_requested),
            ("recolor", "Colour", self.recolor_requested),
            ("merge", "Merge…", self.merge_requested),
            ("delete", "Delete", self.delete_requested),
        ):
            button = QPushButton(text)
            button.clicked.connect(signal.emit)
            buttons.addWidget(button)
            self.buttons[key] = button
        self.brush_radius = QDoubleSpinBox()
        self.brush_radius.setRange(0.5, 200.0)
        self.brush_radius.setSingleStep(0.5)
        self.brush_radius.setValue(3.0)
        self.brush_radius.setSuffix(" px")
        self.totals = QLabel("No regions yet: pick a tool in the Regions tool bar and draw on the map.")
        self.totals.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setBackground((25, 25, 25))
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend(offset=(5, 5))
        self.plot.setLabel("left", "value")
        self.export_button = QPushButton("Export statistics (CSV)…")
        self.export_button.clicked.connect(self.export_requested.emit)
        self.stats: list[SpectrumStats] = []
        self.region_stats: Optional[SpectrumStats] = None
        self._build_layout(buttons)
        regions.changed.connect(lambda *_: self.refresh())
        self.refresh()

    def _build_layout(self, buttons) -> None:
        top = QWidget()
        column = QVBoxLayout(top)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table, 1)
        column.addLayout(buttons)
        form = QFormLayout()
        form.addRow("Brush radius", self.brush_radius)
        column.addLayout(form)
        column.addWidget(self.totals)
        bottom = QWidget()
        lower = QVBoxLayout(bottom)
        lower.setContentsMargins(0, 0, 0, 0)
        lower.addWidget(QLabel("Mean ± 1 σ spectrum per class (dashed: the selected region)"))
        lower.addWidget(self.plot, 1)
        lower.addWidget(self.export_button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(split)

    # --- class list ------------------------------------------------------------------------------------
    def current_class(self) -> Optional[int]:
        """The selected class id (the first class when none is selected; None without classes)."""
        rows = self.table.selectionModel().selectedRows()
        if rows:
            return int(self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole))
        classes = self.regions.classes
        return classes[0].class_id if classes else None

    def select_class(self, class_id: int) -> None:
        """Select the row of ``class_id``."""
        for row in range(self.table.rowCount()):
            if int(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)) == int(class_id):
                self.table.selectRow(row)

    def set_counts(self, counts: dict[int, tuple[int, int]]) -> None:
        """Show (regions, pixels) per class id."""
        self._counts = dict(counts)
        self.refresh()

    def refresh(self) -> None:
        """Mirror the classes of the region set."""
        selected = self.current_class() if self.table.rowCount() else None
        self.table.blockSignals(True)
        classes = self.regions.classes
        self.table.setRowCount(len(classes))
        for row, cls in enumerate(classes):
            item = QTableWidgetItem(cls.name)
            item.setData(Qt.ItemDataRole.UserRole, cls.class_id)
            item.setData(Qt.ItemDataRole.DecorationRole, QColor(*cls.color))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if cls.visible else Qt.CheckState.Unchecked)
            item.setToolTip(f"class id {cls.class_id}; untick to hide its regions")
            self.table.setItem(row, 0, item)
            n_regions, n_pixels = self._counts.get(cls.class_id, (0, 0))
            for col, value in ((1, n_regions), (2, n_pixels)):
                cell = QTableWidgetItem(str(value))
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, cell)
        self.table.blockSignals(False)
        if selected is not None and any(c.class_id == selected for c in classes):
            self.select_class(selected)
        elif classes and not self.table.selectionModel().selectedRows():
            self.table.selectRow(0)
        n_regions = len(self.regions)
        n_pixels = sum(p for _, p in self._counts.values())
        if classes or n_regions:
            self.totals.setText(f"{len(classes)} classes, {n_regions} regions, {n_pixels} labelled pixels")

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            class_id = int(item.data(Qt.ItemDataRole.UserRole))
            self.regions.set_class_visible(class_id, item.checkState() == Qt.CheckState.Checked)

    def _on_selection(self) -> None:
        class_id = self.current_class()
        if class_id is not None:
            self.class_selected.emit(class_id)

    # --- statistics ----------------------------------------------------------------------------------------
    def show_statistics(
        self,
        x: np.ndarray,
        axis_label: str,
        stats: list[SpectrumStats],
        region: Optional[SpectrumStats] = None,
        bad_bands: Optional[np.ndarray] = None,
    ) -> None:
        """Plot mean ± 1 σ of each class in ``stats`` (class colours) and ``region``'s mean (dashed)."""
        if not (stats or region or self.stats or self.region_stats):
            return  # nothing shown, nothing to show: no repaint (its axes cost 10-20 ms when a scene opens)
        self.stats, self.region_stats = stats, region
        self.plot.clear()
        self.plot.setLabel("bottom", axis_label)
        colors = {c.class_id: c.color for c in self.regions.classes}
        bad = np.zeros(len(x), bool) if bad_bands is None else np.asarray(bad_bands, bool)
        for s in stats:
            color = colors.get(s.key, (200, 200, 200))
            mean = np.where(bad, np.nan, s.mean)
            connect = spectrum_connect(x, mean)
            lower = pg.PlotDataItem(x, mean - s.std, connect=connect, pen=pg.mkPen(None))
            upper = pg.PlotDataItem(x, mean + s.std, connect=connect, pen=pg.mkPen(None))
            band = pg.FillBetweenItem(lower, upper, brush=pg.mkBrush(*color, STD_ALPHA))
            self.plot.addItem(band)
            self.plot.addItem(
                pg.PlotDataItem(
                    x,
                    mean,
                    connect=connect,
                    pen=pg.mkPen(color, width=2),
                    name=f"{s.name} ({s.n_pixels} px, {s.n_regions} reg.)",
                )
            )
        if region is not None:
            mean = np.where(bad, np.nan, region.mean)
            self.plot.addItem(
                pg.PlotDataItem(
                    x,
                    mean,
                    connect=spectrum_connect(x, mean),
                    pen=pg.mkPen((255, 255, 255), width=2, style=Qt.PenStyle.DashLine),
                    name=f"{region.name} ({region.n_pixels} px)",
                )
            )
