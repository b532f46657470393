"""The results of a trained model: OA / AA / kappa, per-class table, confusion matrix, split and settings.

The confusion matrix is a table of coloured cells (row = true class, column = predicted class,
colour = share of the row). Clicking a cell emits :attr:`ResultsPanel.cell_selected` with the two
class ids, which the training panel turns into a highlight layer of exactly those test pixels.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hsiviewer.processing.splits import region_split_lines

if TYPE_CHECKING:  # the engine (torch) loads in the background, not with the panel
    from hsiviewer.engine.bundle import TrainedModel

CELL_COLORMAP = "viridis"
PER_CLASS_COLUMNS = ("id", "class", "precision", "recall", "F1", "support")
CELL_WIDTH, CELL_HEIGHT = 26, 20
NAME_CHARS = 16


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _pct(value) -> str:
    return "–" if value is None else f"{100 * float(value):.2f} %"


def summary_html(report: dict, model: TrainedModel) -> str:
    """The headline figures of ``report`` and the split facts of ``model``, as rich text."""
    m = model.metrics
    lines = [
        f"<b>{html.escape(model.spec_name)}</b> — OA <b>{_pct(report.get('oa'))}</b>, "
        f"AA <b>{_pct(report.get('aa'))}</b>, κ <b>{float(report.get('kappa', 0)):.4f}</b>"
    ]
    if m.get("cancelled"):
        lines.append("<span style='color:#c60'>Training was cancelled: the best model so far is kept.</span>")
    n_test = int(m.get("n_test", report.get("n", 0)))
    counts = f"train {m.get('n_train', '?')} · val {m.get('n_val', 0)} · test {n_test} pixels, seed {model.seed}"
    if model.split is not None:
        counts = f"{model.split.method} split: " + counts
    lines.append(counts)
    if "leakage" in m and n_test:
        share = 100 * int(m["leakage"]) / n_test
        lines.append(
            f"Leakage: {int(m['leakage'])} of {n_test} test pixels ({share:.1f} %) lie inside "
            f"a {model.patch_size}×{model.patch_size} training patch"
        )
    if "regions" in m:
        names = model.classes.names if model.classes is not None else {}
        lines.append("<pre>" + html.escape("\n".join(region_split_lines(m["regions"], names))) + "</pre>")
    if "device" in m or "train_seconds" in m:
        lines.append(f"Trained on {html.escape(str(m.get('device', '?')))} in {m.get('train_seconds', '?')} s")
    return "<br>".join(lines)


def settings_text(model: TrainedModel) -> str:
    """The run's settings and seed as indented JSON text."""
    settings = {
        "model": model.spec_name,
        "plugin_version": model.plugin_version,
        "seed": model.seed,
        "hyperparameters": model.hyper,
        "training": model.train_config,
    }
    if model.split is not None:
        settings["split"] = {"method": model.split.method, "seed": model.split.seed, **model.split.params}
    return json.dumps(settings, indent=2, default=str)


class ResultsPanel(QWidget):
    """Metrics, per-class table, confusion matrix (clickable) and settings of one model.

    Signals
    -------
    cell_selected(int, int)
        The user clicked the confusion cell of (true class id, predicted class id).

    Attributes
    ----------
    summary : QLabel
    confusion, per_class : QTableWidget
    settings : QPlainTextEdit
    class_ids : list of int
        The ids of the confusion matrix's rows and columns.
    """

    cell_selected = Signal(int, int)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.class_ids: list[int] = []
        self.clickable = False
        self.summary = QLabel("No model yet: train one or open a model file.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.confusion = self._table()
        self.confusion.cellClicked.connect(self._on_cell)
        self.per_class = self._table()
        self.settings = QPlainTextEdit()
        self.settings.setReadOnly(True)
        self.settings.setStyleSheet("font-family: monospace")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        tabs = QTabWidget()
        confusion_page = QWidget()
        page_layout = QVBoxLayout(confusion_page)
        page_layout.setContentsMargins(2, 2, 2, 2)
        page_layout.addWidget(self.confusion, 1)
        page_layout.addWidget(self.hint)
        tabs.addTab(confusion_page, "Confusion matrix")
        tabs.addTab(self.per_class, "Per class")
        tabs.addTab(self.settings, "Settings")
        self.tabs = tabs
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(tabs, 1)

    @staticmethod
    def _table() -> QTableWidget:
        table = QTableWidget()
        font = table.font()
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 0.9)
            table.setFont(font)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        return table

    def show_results(self, report: dict, model: TrainedModel, clickable: bool) -> None:
        """Show ``report`` (a :func:`~hsiviewer.processing.metrics.classification_report`) of ``model``.

        ``clickable``: the pixels behind the cells are known (the model's test pixels are on display).
        """
        self.summary.setText(summary_html(report, model))
        self.settings.setPlainText(settings_text(model))
        self._fill_per_class(report)
        self._fill_confusion(report, model)
        self.clickable = clickable
        self.hint.setText(
            "Click a cell to highlight its test pixels on the map."
            if clickable
            else "Predict the scene the model was trained on to highlight the pixels of a cell."
        )

    def clear(self) -> None:
        """Forget the shown results."""
        self.summary.setText("No model yet: train one or open a model file.")
        self.settings.clear()
        self.per_class.clear()
        self.confusion.clear()
        self.per_class.setRowCount(0)
        self.confusion.setRowCount(0)
        self.class_ids, self.clickable = [], False
        self.hint.clear()

    def _fill_per_class(self, report: dict) -> None:
        rows = report.get("per_class", [])
        table = self.per_class
        table.clear()
        table.setColumnCount(len(PER_CLASS_COLUMNS))
        table.setHorizontalHeaderLabels(PER_CLASS_COLUMNS)
        table.setRowCount(len(rows))
        for r, entry in enumerate(rows):
            values = (
                str(entry["id"]),
                entry["name"],
                f"{entry['precision']:.3f}",
                f"{entry['recall']:.3f}",
                f"{entry['f1']:.3f}",
                str(entry["support"]),
            )
            for c, text in enumerate(values):
                table.setItem(r, c, QTableWidgetItem(text))
        table.verticalHeader().setVisible(False)
        table.resizeColumnsToContents()

    def _fill_confusion(self, report: dict, model: TrainedModel) -> None:
        ids = [int(i) for i in report.get("class_ids", [])]
        counts = np.asarray(report.get("confusion", []), np.int64).reshape(len(ids), len(ids))
        self.class_ids = ids
        table = self.confusion
        table.clear()
        table.setRowCount(len(ids))
        table.setColumnCount(len(ids))
        names = [model.classes.name(i) for i in ids]
        table.setHorizontalHeaderLabels([str(i) for i in ids])
        table.setVerticalHeaderLabels([f"{i} {_short(n)}" for i, n in zip(ids, names)])
        for j, name in enumerate(names):
            table.horizontalHeaderItem(j).setToolTip(f"predicted {name}")
        row_sums = np.maximum(counts.sum(axis=1, keepdims=True), 1)
        colors = pg.colormap.get(CELL_COLORMAP).map(counts / row_sums, mode="byte")
        for r in range(len(ids)):
            for c in range(len(ids)):
                table.setItem(r, c, self._cell(int(counts[r, c]), colors[r, c], names[r], names[c]))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setMinimumSectionSize(CELL_WIDTH)
        table.verticalHeader().setDefaultSectionSize(CELL_HEIGHT)

    @staticmethod
    def _cell(count: int, rgba, true_name: str, pred_name: str) -> QTableWidgetItem:
        item = QTableWidgetItem(str(count))
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        color = QColor(int(rgba[0]), int(rgba[1]), int(rgba[2]))
        item.setBackground(QBrush(color))
        light = 0.299 * color.red() + 0.587 * color.green() + 0.114 * color.blue() > 140
        item.setForeground(QBrush(QColor("black" if light else "white")))
        item.setToolTip(f"{count} test pixels of {true_name} predicted as {pred_name}")
        return item

    def count(self, true_id: int, predicted_id: int) -> int:
        """The number shown in the cell of (true, predicted)."""
        r, c = self.class_ids.index(true_id), self.class_ids.index(predicted_id)
        return int(self.confusion.item(r, c).text())

    def _on_cell(self, row: int, col: int) -> None:
        if self.clickable and 0 <= row < len(self.class_ids) and 0 <= col < len(self.class_ids):
            self.cell_selected.emit(self.class_ids[row], self.class_ids[col])
