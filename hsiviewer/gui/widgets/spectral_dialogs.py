"""Dialogs of the Tools menu: spectral matching, band math and masks.

They hold no logic of their own: each shows settings, emits what the user asked for, and shows
progress and outcomes the controller (:mod:`hsiviewer.gui.actions.spectral_tools`) hands back.
All are modeless, so the map stays usable while they are open.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hsiviewer.progress import ProgressEvent
from hsiviewer.spectral.bandmath import PRESETS
from hsiviewer.spectral.mask import OPERATORS
from hsiviewer.viewer.continuous import COLORMAPS


def _spin(low: float, high: float, value: float, decimals: int = 4, step: float = 0.01) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    return box


class _JobDialog(QDialog):
    """A modeless dialog with Run / Cancel, a progress bar and a status line."""

    run_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(False)
        self.form = QFormLayout()
        self.run_button = QPushButton("Run")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addLayout(self.form)
        self.layout_.addLayout(buttons)
        self.layout_.addWidget(self.status)
        self.run_button.clicked.connect(self.run_requested.emit)
        self.cancel_button.clicked.connect(self.cancel_requested.emit)

    def set_running(self, running: bool) -> None:
        """Enable Cancel while a job runs, Run otherwise."""
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setValue(0)

    def show_progress(self, event: ProgressEvent) -> None:
        """Show a progress event of the job."""
        self.progress.setValue(round(event.fraction * 100))
        self.status.setText(event.message)


class MatchDialog(_JobDialog):
    """Spectral matching: method and threshold; references are the ticked library spectra.

    Signals
    -------
    threshold_changed(object)
        The threshold (float, or None when off) changed: the controller re-classifies at once.
    """

    threshold_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Spectral matching", parent)
        self.method = QComboBox()
        self.method.addItem("Spectral Angle Mapper (SAM)", "sam")
        self.method.addItem("Spectral Information Divergence (SID)", "sid")
        self.use_threshold = QCheckBox("Unclassified above")
        self.use_threshold.setChecked(True)
        self.threshold = _spin(0.0, 100.0, 0.10, decimals=4, step=0.005)
        row = QHBoxLayout()
        row.addWidget(self.use_threshold)
        row.addWidget(self.threshold, 1)
        self.references = QLabel("")
        self.form.addRow("Method", self.method)
        self.form.addRow("Threshold", row)
        self.form.addRow("References", self.references)
        self.use_threshold.toggled.connect(lambda _on: self.threshold_changed.emit(self.current_threshold()))
        self.threshold.valueChanged.connect(lambda _v: self.threshold_changed.emit(self.current_threshold()))
        self.method.currentIndexChanged.connect(self._on_method)

    def _on_method(self, _index: int) -> None:
        # SID values are far smaller than angles: a fitting default for each.
        self.threshold.setValue(0.10 if self.method.currentData() == "sam" else 0.02)

    def current_threshold(self) -> float | None:
        """The threshold, or None when the check box is off."""
        return float(self.threshold.value()) if self.use_threshold.isChecked() else None


class BandMathDialog(_JobDialog):
    """Band math: an expression (or a preset), the layer name and its colour map."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Band math", parent)
        self.expression = QLineEdit()
        self.expression.setPlaceholderText("e.g. (R860 - R650) / (R860 + R650)")
        self.expression.setToolTip(
            "R<nm>: band nearest a wavelength; B<n>: band number n (from 1); + - * / ** "
            "< > <= >= == != & |; where log sqrt abs min max"
        )
        self.presets = QListWidget()
        for name, (expr, title) in PRESETS.items():
            item = QListWidgetItem(f"{name}   {expr}")
            item.setToolTip(title)
            item.setData(256, name)
            self.presets.addItem(item)
        self.presets.setMaximumHeight(150)
        self.formula = QLabel("")
        self.formula.setWordWrap(True)
        self.name = QLineEdit("Index")
        self.colormap = QComboBox()
        self.colormap.addItems([c for c in COLORMAPS if c != "grey"])
        self.colormap.setCurrentText("RdYlGn")
        self.form.addRow("Presets", self.presets)
        self.form.addRow("", self.formula)
        self.form.addRow("Expression", self.expression)
        self.form.addRow("Layer name", self.name)
        self.form.addRow("Colour map", self.colormap)
        self.presets.currentItemChanged.connect(self._on_preset)
        self.expression.returnPressed.connect(self.run_requested.emit)

    def choose_preset(self, name: str) -> None:
        """Select preset ``name``: its formula fills the expression."""
        for row in range(self.presets.count()):
            if self.presets.item(row).data(256) == name:
                self.presets.setCurrentRow(row)
                return
        raise KeyError(name)

    def _on_preset(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is None:
            return
        name = item.data(256)
        expr, title = PRESETS[name]
        self.expression.setText(expr)
        self.name.setText(name)
        self.formula.setText(f"<b>{name}</b> = {expr}<br><i>{title}</i>")


class MaskDialog(QDialog):
    """Masks: a threshold of a continuous layer, combined with the current mask.

    Signals
    -------
    apply_requested, clear_requested
    """

    apply_requested = Signal()
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Mask")
        self.setModal(False)
        self.layer = QComboBox()
        self.operator = QComboBox()
        for op, words in OPERATORS.items():
            self.operator.addItem(f"{op}   ({words})", op)
        self.low = _spin(-1e9, 1e9, 0.3)
        self.high = _spin(-1e9, 1e9, 1.0)
        self.combine = QComboBox()
        self.combine.addItem("Replace the mask", "replace")
        self.combine.addItem("AND with the mask", "and")
        self.combine.addItem("OR with the mask", "or")
        self.invert = QCheckBox("Invert (keep the pixels the threshold rejects)")
        self.status = QLabel("No mask: every pixel takes part.")
        self.status.setWordWrap(True)
        self.apply_button = QPushButton("Apply")
        self.clear_button = QPushButton("Clear mask")
        form = QFormLayout()
        form.addRow("Layer", self.layer)
        form.addRow("Keep values", self.operator)
        form.addRow("Low / value", self.low)
        form.addRow("High", self.high)
        form.addRow("Combine", self.combine)
        form.addRow("", self.invert)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(
            QLabel("Pixels outside the mask are hidden, not sampled by training and get class 0 in predictions.")
        )
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.apply_button.clicked.connect(self.apply_requested.emit)
        self.clear_button.clicked.connect(self.clear_requested.emit)
        self.operator.currentIndexChanged.connect(self._sync_high)
        self._sync_high()

    def _sync_high(self, _index: int = 0) -> None:
        self.high.setEnabled(self.operator.currentData() in ("between", "outside"))

    def set_layers(self, names: list[str]) -> None:
        """The continuous layers one can threshold."""
        current = self.layer.currentText()
        self.layer.clear()
        self.layer.addItems(names)
        if current in names:
            self.layer.setCurrentText(current)
