"""The map canvas: the scene image, class layers above it and markers of pinned pixels.

Row 0 is at the top, pixels are square (aspect locked), the mouse wheel zooms and a drag
pans. Hovering and clicking report the pixel under the cursor as (row, col).
"""
from __future__ import annotations

import math
from typing import Optional

import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal

from hsiviewer.viewer.layers import ClassLayer
from hsiviewer.viewer.pins import Pin
from hsiviewer.viewer.rendering import Rendering

#: Z order: the scene at the bottom, class layers above it, pin markers on top.
LAYER_Z0 = 10
PIN_Z = 1000


def colormap_lut(name: Optional[str]):
    """The 256-entry lookup table of a pyqtgraph colour map; None for grey (no table)."""
    if name is None or name == "grey":
        return None
    return pg.colormap.get(name).getLookupTable(nPts=256)


class SceneView(pg.GraphicsLayoutWidget):
    """A zoomable view of one scene.

    Signals
    -------
    pixel_hovered(row, col)
        The cursor moved onto another pixel of the scene.
    pixel_left()
        The cursor left the scene.
    pixel_clicked(row, col)
        A left click (without dragging) on a pixel of the scene.
    """

    pixel_hovered = Signal(int, int)
    pixel_left = Signal()
    pixel_clicked = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground((30, 30, 30))
        self.ci.layout.setContentsMargins(0, 0, 0, 0)
        self.view: pg.ViewBox = self.addViewBox(lockAspect=True, invertY=True)
        self.view.setMenuEnabled(False)
        self.image_item = pg.ImageItem(axisOrder="row-major")  # whatever the global option says
        self.view.addItem(self.image_item)
        self.layer_items: dict[ClassLayer, pg.ImageItem] = {}
        self.pin_markers = pg.ScatterPlotItem(size=12, symbol="o", pxMode=True,
                                              pen=pg.mkPen((255, 255, 255), width=2))
        self.pin_markers.setZValue(PIN_Z)
        self.view.addItem(self.pin_markers)
        self._shape: Optional[tuple[int, int]] = None
        self._hovered: Optional[tuple[int, int]] = None
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    # --- content -----------------------------------------------------------------------
    def set_shape(self, rows: int, cols: int) -> None:
        """Prepare for a scene of ``rows`` x ``cols`` pixels and show all of it."""
        self._shape = (rows, cols)
        self._hovered = None
        self.image_item.clear()
        self.view.setLimits(xMin=-cols, xMax=2 * cols, yMin=-rows, yMax=2 * rows)
        self.reset_zoom()

    def reset_zoom(self) -> None:
        """Fit the whole scene in the view."""
        if self._shape is not None:
            rows, cols = self._shape
            self.view.setRange(xRange=(0, cols), yRange=(0, rows), padding=0.02)

    def show_rendering(self, rendering: Rendering) -> None:
        """Draw ``rendering`` (see :class:`DisplayRenderer`) as the scene image."""
        self.image_item.setImage(rendering.image, autoLevels=False, levels=rendering.levels,
                                 lut=colormap_lut(rendering.colormap))

    def add_layer(self, layer: ClassLayer) -> None:
        """Draw ``layer`` above the scene and the layers already there, and follow its changes."""
        item = pg.ImageItem(axisOrder="row-major")
        item.setZValue(LAYER_Z0 + len(self.layer_items))
        self.view.addItem(item)
        self.layer_items[layer] = item
        layer.changed.connect(lambda what, layer=layer: self._update_layer(layer, what))
        self._update_layer(layer, "data")

    def remove_layer(self, layer: ClassLayer) -> None:
        """Stop drawing ``layer``."""
        item = self.layer_items.pop(layer, None)
        if item is not None:
            self.view.removeItem(item)

    def _update_layer(self, layer: ClassLayer, what: str) -> None:
        item = self.layer_items.get(layer)
        if item is None:
            return
        if what == "data":
            item.setImage(layer.rgba(), autoLevels=False, levels=(0, 255))
        item.setOpacity(layer.opacity)
        item.setVisible(layer.visible)

    def set_pins(self, pins: list[Pin]) -> None:
        """Put a marker on each pinned pixel, in the pin's colour."""
        self.pin_markers.setData(
            x=[p.col + 0.5 for p in pins], y=[p.row + 0.5 for p in pins],
            brush=[pg.mkBrush(*p.color) for p in pins], data=[p.name for p in pins])

    # --- coordinates ---------------------------------------------------------------------
    def pixel_at(self, scene_pos: QPointF) -> Optional[tuple[int, int]]:
        """The (row, col) at a position of the graphics scene, or None outside the image."""
        if self._shape is None:
            return None
        pos = self.image_item.mapFromScene(scene_pos)
        row, col = math.floor(pos.y()), math.floor(pos.x())
        if 0 <= row < self._shape[0] and 0 <= col < self._shape[1]:
            return row, col
        return None

    def viewport_pos(self, row: int, col: int) -> QPoint:
        """Where the centre of pixel (row, col) is on the viewport (for tests and tools)."""
        self.view.prepareForPaint()  # apply a pending zoom change before mapping
        return self.mapFromScene(self.image_item.mapToScene(QPointF(col + 0.5, row + 0.5)))

    # --- mouse -------------------------------------------------------------------------
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        pixel = self.pixel_at(scene_pos)
        if pixel == self._hovered:
            return
        self._hovered = pixel
        if pixel is None:
            self.pixel_left.emit()
        else:
            self.pixel_hovered.emit(*pixel)

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        pixel = self.pixel_at(event.scenePos())
        if pixel is not None:
            self.pixel_clicked.emit(*pixel)

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt name)
        """Report that the cursor left the scene."""
        super().leaveEvent(event)
        if self._hovered is not None:
            self._hovered = None
            self.pixel_left.emit()
