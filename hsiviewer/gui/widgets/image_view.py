"""The map canvas: the scene image, class layers above it and markers of pinned pixels.

Row 0 is at the top, pixels are square (aspect locked), the mouse wheel zooms and a drag
pans. Hovering and clicking report the pixel under the cursor as (row, col).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal

from hsiviewer.viewer.layers import ClassLayer
from hsiviewer.viewer.levels import level_for_scale
from hsiviewer.viewer.pins import Pin
from hsiviewer.viewer.rendering import Rendering
from hsiviewer.viewer.tiles import ViewImage, ViewRequest, label_window

#: Z order: the scene at the bottom, class layers above it, pin markers on top.
LAYER_Z0 = 10
PIN_Z = 1000
#: Class layers up to this many pixels are drawn whole at full resolution.
LAYER_WHOLE_PIXELS = 4_000_000


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
    view_changed()
        The visible part of the scene or the zoom changed (pan, zoom, resize).
    """

    pixel_hovered = Signal(int, int)
    pixel_left = Signal()
    pixel_clicked = Signal(int, int)
    view_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground((30, 30, 30))
        self.ci.layout.setContentsMargins(0, 0, 0, 0)
        self.view: pg.ViewBox = self.addViewBox(lockAspect=True, invertY=True)
        self.view.setMenuEnabled(False)
        self.image_item = pg.ImageItem(axisOrder="row-major")  # whatever the global option says
        self.view.addItem(self.image_item)
        self.layer_items: dict[ClassLayer, pg.ImageItem] = {}
        self.pin_markers = pg.ScatterPlotItem(size=12, symbol="o", pxMode=True, pen=pg.mkPen((255, 255, 255), width=2))
        self.pin_markers.setZValue(PIN_Z)
        self.view.addItem(self.pin_markers)
        self._shape: Optional[tuple[int, int]] = None
        self._hovered: Optional[tuple[int, int]] = None
        self._request: Optional[ViewRequest] = None  # what the class layers show
        self.view.sigRangeChanged.connect(self._on_range_changed)
        self.view.sigResized.connect(self._on_range_changed)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    # --- content -----------------------------------------------------------------------
    def set_shape(self, rows: int, cols: int) -> None:
        """Prepare for a scene of ``rows`` x ``cols`` pixels and show all of it."""
        self._shape = (rows, cols)
        self._hovered = None
        self._request = ViewRequest.whole(rows, cols)
        self.image_item.clear()
        span = max(rows, cols)  # room to see all of a long, narrow flight line
        self.view.setLimits(xMin=-span, xMax=cols + span, yMin=-span, yMax=rows + span)
        self.reset_zoom()

    def reset_zoom(self) -> None:
        """Fit the whole scene in the view."""
        if self._shape is not None:
            rows, cols = self._shape
            self.view.setRange(xRange=(0, cols), yRange=(0, rows), padding=0.02)

    def show_rendering(self, rendering: Rendering) -> None:
        """Draw ``rendering`` (see :class:`DisplayRenderer`) as the scene image."""
        self.image_item.setImage(
            rendering.image, autoLevels=False, levels=rendering.levels, lut=colormap_lut(rendering.colormap)
        )

    def show_view(self, view: ViewImage) -> None:
        """Draw ``view`` (see :class:`~hsiviewer.viewer.tiles.ViewRenderer`) where it belongs in the scene."""
        if view.image.dtype == np.uint8:  # display-ready RGBA: no levels, no table, no conversion here
            self.image_item.setImage(view.image, autoLevels=False, levels=None, lut=None)
        else:
            self.image_item.setImage(view.image, autoLevels=False, levels=view.levels, lut=colormap_lut(view.colormap))
        self.image_item.setRect(QRectF(*view.rect))

    def visible_request(self, top_level: int) -> Optional[ViewRequest]:
        """The part of the scene on screen and the level that matches the screen, or None."""
        if self._shape is None:
            return None
        (x0, x1), (y0, y1) = self.view.viewRange()
        pixel_w, pixel_h = self.view.viewPixelSize()
        level = level_for_scale(max(pixel_w, pixel_h), top_level)
        rows, cols = self._shape
        if x1 <= 0 or y1 <= 0 or x0 >= cols or y0 >= rows:
            return None
        return ViewRequest(
            max(0, math.floor(y0)), min(rows, math.ceil(y1)), max(0, math.floor(x0)), min(cols, math.ceil(x1)), level
        )

    def _on_range_changed(self, *args) -> None:
        if self._shape is None:
            return
        request = self.visible_request(99)
        if request is not None and self._shape[0] * self._shape[1] > LAYER_WHOLE_PIXELS and request != self._request:
            self._request = request
            for layer in self.layer_items:
                self._update_layer(layer, "data")
        self.view_changed.emit()

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
            # a large layer is drawn like the scene: its visible part at the screen's level, taking
            # every 2**level-th id (nearest: class ids must not be averaged)
            raster = layer.raster  # class ids, or the values of a continuous layer
            request = self._request if self._request is not None else ViewRequest.whole(*raster.shape)
            if raster.size <= LAYER_WHOLE_PIXELS:
                request = ViewRequest.whole(*raster.shape)
            part, rect = label_window(raster, request)
            item.setImage(layer.rgba(part), autoLevels=False, levels=(0, 255))
            item.setRect(QRectF(*rect))
        item.setOpacity(layer.opacity)
        item.setVisible(layer.visible)

    def set_pins(self, pins: list[Pin]) -> None:
        """Put a marker on each pinned pixel, in the pin's colour."""
        self.pin_markers.setData(
            x=[p.col + 0.5 for p in pins],
            y=[p.row + 0.5 for p in pins],
            brush=[pg.mkBrush(*p.color) for p in pins],
            data=[p.name for p in pins],
        )

    # --- coordinates ---------------------------------------------------------------------
    def pixel_at(self, scene_pos: QPointF) -> Optional[tuple[int, int]]:
        """The (row, col) at a position of the graphics scene, or None outside the image."""
        if self._shape is None:
            return None
        pos = self.view.mapSceneToView(scene_pos)  # scene pixels, whatever the image's level
        row, col = math.floor(pos.y()), math.floor(pos.x())
        if 0 <= row < self._shape[0] and 0 <= col < self._shape[1]:
            return row, col
        return None

    def viewport_pos(self, row: int, col: int) -> QPoint:
        """Where the centre of pixel (row, col) is on the viewport (for tests and tools)."""
        self.view.prepareForPaint()  # apply a pending zoom change before mapping
        return self.mapFromScene(self.view.mapViewToScene(QPointF(col + 0.5, row + 0.5)))

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
