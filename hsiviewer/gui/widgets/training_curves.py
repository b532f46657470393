"""Live training curves (pyqtgraph): loss, training and validation accuracy, one point per epoch."""

from __future__ import annotations

from typing import Optional

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

LOSS_PEN = pg.mkPen((230, 120, 30), width=2)
TRAIN_PEN = pg.mkPen((40, 120, 220), width=2)
VAL_PEN = pg.mkPen((40, 170, 60), width=2, style=pg.QtCore.Qt.PenStyle.DashLine)


class TrainingCurves(pg.GraphicsLayoutWidget):
    """Two plots side by side: the training loss, and the training / validation accuracy (%).

    Attributes
    ----------
    loss_curve, train_acc_curve, val_acc_curve : pyqtgraph.PlotDataItem
        Their ``getData()`` is what the user sees.
    """

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.loss_plot = self.addPlot(title="Loss")
        self.acc_plot = self.addPlot(title="Accuracy (%)")
        for plot in (self.loss_plot, self.acc_plot):
            plot.setLabel("bottom", "epoch")
            plot.showGrid(x=True, y=True, alpha=0.3)
            plot.setMenuEnabled(False)
        self.acc_plot.setYRange(0, 100, padding=0.02)
        legend = self.acc_plot.addLegend(offset=(-5, -5), labelTextSize="8pt")  # bottom right: late epochs are high
        legend.setColumnCount(2)
        self.loss_curve = self.loss_plot.plot(pen=LOSS_PEN, symbol="o", symbolSize=5, symbolBrush=LOSS_PEN.color())
        self.train_acc_curve = self.acc_plot.plot(
            pen=TRAIN_PEN, symbol="o", symbolSize=5, symbolBrush=TRAIN_PEN.color(), name="train"
        )
        self.val_acc_curve = self.acc_plot.plot(
            pen=VAL_PEN, symbol="s", symbolSize=5, symbolBrush=VAL_PEN.color(), name="validation"
        )
        self.setMinimumHeight(110)
        self.clear_curves()

    def clear_curves(self, epochs: int = 0) -> None:
        """Empty the plots for a new run of ``epochs`` epochs (the x axis is fixed to it)."""
        self._epochs: list[int] = []
        self._loss_x: list[int] = []
        self._loss: list[float] = []
        self._train: list[float] = []
        self._val_x: list[int] = []
        self._val: list[float] = []
        for curve in (self.loss_curve, self.train_acc_curve, self.val_acc_curve):
            curve.setData([], [])
        if epochs:
            for plot in (self.loss_plot, self.acc_plot):
                plot.setXRange(0.5, epochs + 0.5, padding=0)

    def add_epoch(self, record: dict) -> None:
        """Add the points of one epoch (``epoch``, ``loss``, ``train_acc``, ``val_acc``)."""
        epoch = int(record["epoch"])
        self._epochs.append(epoch)
        loss = record.get("loss")
        if loss is not None:
            self._loss_x.append(epoch)
            self._loss.append(float(loss))
            self.loss_curve.setData(self._loss_x, self._loss)
        self._train.append(100 * float(record.get("train_acc") or 0.0))
        self.train_acc_curve.setData(self._epochs, self._train)
        if record.get("val_acc") is not None:
            self._val_x.append(epoch)
            self._val.append(100 * float(record["val_acc"]))
            self.val_acc_curve.setData(self._val_x, self._val)

    @property
    def epochs_drawn(self) -> int:
        """How many epochs have points on the plots."""
        return len(self._epochs)

    def show_history(self, history: list[dict]) -> None:
        """Draw a finished run's history (a model opened from a file)."""
        self.clear_curves(len(history))
        for record in history:
            self.add_epoch(record)
