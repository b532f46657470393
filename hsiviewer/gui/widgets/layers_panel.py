"""The layers panel: class layers with visibility, opacity and a legend.

The list shows every layer of a :class:`LayerStack` with a check box for its visibility;
the opacity slider and the legend below belong to the selected layer (the one that
*Export class map…* writes), as in a GIS layer tree with its properties underneath.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QSlider, QVBoxLayout, QWidget

from hsiviewer.viewer.layers import ClassLayer, LayerStack


def swatch(color: tuple[int, int, int], size: int = 14) -> QIcon:
    """A square icon of ``color`` with a thin dark border."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(60, 60, 60))
    inner = QPixmap(size - 2, size - 2)
    inner.fill(QColor(*color))
    painter = QPainter(pixmap)
    painter.drawPixmap(1, 1, inner)
    painter.end()
    return QIcon(pixmap)


class LayersPanel(QWidget):
    """Mirrors a :class:`LayerStack`.

    Attributes
    ----------
    layer_list : QListWidget
        One checkable row per layer (checked = visible); the current row is the selected layer.
    opacity_slider : QSlider
        0..100 %, the opacity of the selected layer.
    legend : QListWidget
        Colour swatch, name and pixel count of each class present in the selected layer.
    """

    def __init__(self, stack: LayerStack, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.stack = stack
        self.layer_list = QListWidget()
        self.layer_list.setMaximumHeight(72)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_label = QLabel("60 %")
        self.opacity_label.setMinimumWidth(40)
        self.legend = QListWidget()
        self.legend.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.legend.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.legend.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.legend.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.legend.setMinimumHeight(120)
        self.empty_hint = QLabel("No class layer. Open a class map (File menu) or a scene with labels.")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setStyleSheet("color: gray")
        self._layout()
        self.layer_list.itemChanged.connect(self._on_item_changed)
        self.layer_list.currentRowChanged.connect(self._on_current_row)
        self.opacity_slider.valueChanged.connect(self._on_slider)
        stack.added.connect(self._on_added)
        stack.removed.connect(self._on_removed)
        stack.selection_changed.connect(self._show_selected)
        self._show_selected(stack.selected)

    def _layout(self) -> None:
        opacity = QHBoxLayout()
        opacity.addWidget(QLabel("Opacity"))
        opacity.addWidget(self.opacity_slider, 1)
        opacity.addWidget(self.opacity_label)
        # opacity and legend belong to a layer: hidden while there is none
        self.properties = QWidget()
        properties = QVBoxLayout(self.properties)
        properties.setContentsMargins(0, 0, 0, 0)
        properties.addLayout(opacity)
        properties.addWidget(self.legend, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.layer_list)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.properties, 1)
        layout.addStretch(0)

    # --- model -> widgets ---------------------------------------------------------------
    def _row_of(self, layer: ClassLayer) -> int:
        return self.stack.layers.index(layer) if layer in self.stack.layers else -1

    def _on_added(self, layer: ClassLayer) -> None:
        item = QListWidgetItem(layer.name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
        item.setToolTip("Tick to show the layer; select it to set its opacity or export it")
        self.layer_list.addItem(item)
        layer.changed.connect(lambda what, layer=layer: self._on_layer_changed(layer, what))
        self.empty_hint.hide()

    def _on_removed(self, layer: ClassLayer) -> None:
        for row in range(self.layer_list.count()):
            if self.layer_list.item(row).text() == layer.name:
                self.layer_list.takeItem(row)
                break
        self.empty_hint.setVisible(not self.stack.layers)

    def _on_layer_changed(self, layer: ClassLayer, what: str) -> None:
        row = self._row_of(layer)
        if row < 0:
            return
        item = self.layer_list.item(row)
        state = Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked
        if item is not None and item.checkState() != state:
            item.setCheckState(state)
        if layer is self.stack.selected:
            self._show_selected(layer)

    def _show_selected(self, layer: Optional[ClassLayer]) -> None:
        row = self._row_of(layer) if layer is not None else -1
        if self.layer_list.currentRow() != row:
            self.layer_list.setCurrentRow(row)
        self.properties.setVisible(layer is not None)
        self.opacity_slider.setEnabled(layer is not None)
        percent = round(layer.opacity * 100) if layer is not None else 0
        if self.opacity_slider.value() != percent:
            self.opacity_slider.blockSignals(True)
            self.opacity_slider.setValue(percent)
            self.opacity_slider.blockSignals(False)
        self.opacity_label.setText(f"{percent} %")
        self.legend.clear()
        if layer is None:
            return
        for class_id, name, color, count in layer.present_classes():
            item = QListWidgetItem(swatch(color), f"{class_id}  {name}  ({count:,} px)")
            item.setToolTip(f"class {class_id}: {name}, {count:,} pixels")
            self.legend.addItem(item)

    # --- widgets -> model ---------------------------------------------------------------
    def _on_item_changed(self, item: QListWidgetItem) -> None:
        row = self.layer_list.row(item)
        if 0 <= row < len(self.stack.layers):
            self.stack.layers[row].set_visible(item.checkState() == Qt.CheckState.Checked)

    def _on_current_row(self, row: int) -> None:
        if 0 <= row < len(self.stack.layers):
            self.stack.select(self.stack.layers[row])

    def _on_slider(self, value: int) -> None:
        if self.stack.selected is not None:
            self.stack.selected.set_opacity(value / 100.0)
