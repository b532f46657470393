"""The drawing tools of the map: polygon, rectangle, lasso, brush, eraser and select/move.

An event filter on the map's viewport turns mouse and key events into shapes (rules in
:mod:`hsiviewer.regions.drawing`) and edits of the :class:`~hsiviewer.regions.model.RegionSet`. While a
drawing tool is active the filter takes the left button, so the map does not pan; the wheel still zooms.
With the ``pan`` tool the map behaves as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional

import shapely
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from shapely import affinity
from shapely.geometry import LineString, Point

from hsiviewer.regions.drawing import brush_shape, polygon_shape, rectangle_shape, snap_corner
from hsiviewer.regions.model import RegionSet

TOOLS = ("pan", "polygon", "rectangle", "lasso", "brush", "eraser", "select")


class RegionTools(QObject):
    """Mouse and keyboard handling of the region tools.

    Signals
    -------
    tool_changed(name)
    selection_changed(region_id)
        -1 when nothing is selected.
    message(text)
        A hint for the status bar.

    Attributes
    ----------
    current_class : callable() -> int or None
        Gives the class that new regions get (the panel's selected class).
    brush_radius : float
        In pixels.
    """

    tool_changed = Signal(str)
    selection_changed = Signal(int)
    message = Signal(str)

    def __init__(self, view, regions: RegionSet, overlay, current_class: Callable[[], Optional[int]]) -> None:
        super().__init__(view)
        self.view = view
        self.regions = regions
        self.overlay = overlay
        self.current_class = current_class
        self.brush_radius = 3.0
        #: How an edit that fails is reported (title, message); the window's error dialog once installed.
        self.on_error: Callable[[str, str], None] = lambda title, text: self.message.emit(f"{title}: {text}")
        self.tool = "pan"
        self.selected: Optional[int] = None
        self._points: list[tuple[float, float]] = []
        self._dragging = False
        self._hover: Optional[tuple[float, float]] = None
        self._viewport = view.viewport()  # kept: the view may be half destroyed when the last events come
        self._viewport.installEventFilter(self)
        view.installEventFilter(self)

    # --- public ---------------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        """Switch to tool ``name`` (one of :data:`TOOLS`); a shape in progress is dropped."""
        if name not in TOOLS:
            raise ValueError(f"unknown tool '{name}'")
        self.cancel()
        self.tool = name
        self.view.setCursor(Qt.CursorShape.ArrowCursor if name in ("pan", "select") else Qt.CursorShape.CrossCursor)
        self.tool_changed.emit(name)

    def cancel(self) -> None:
        """Drop the shape being drawn."""
        self._points.clear()
        self._dragging = False
        self.overlay.set_preview(None)

    def select(self, region_id: Optional[int]) -> None:
        """Select a region (None: none)."""
        self.selected = region_id
        self.overlay.set_selected(region_id)
        self.selection_changed.emit(-1 if region_id is None else int(region_id))

    def delete_selected(self) -> None:
        """Delete the selected region."""
        if self.selected is not None and self.selected in {r.region_id for r in self.regions.regions}:
            self.regions.delete_regions([self.selected])
        self.select(None)

    def finish_polygon(self) -> None:
        """Close the polygon being drawn and add it as a region (Enter or a double click do this)."""
        shape = polygon_shape(self._points) if self.tool == "polygon" else None
        self.cancel()
        if shape is None:
            self.message.emit("A polygon needs three corners or more.")
            return
        self._add(shape)

    # --- events -----------------------------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        """Take the mouse and the keys the active tool needs."""
        kind = event.type()
        if kind == QEvent.Type.KeyPress:
            return self._on_key(event)
        if self.tool == "pan" or watched is not self._viewport:
            return False
        if kind == QEvent.Type.MouseButtonDblClick and event.button() == Qt.MouseButton.LeftButton:
            if self.tool == "polygon":
                self.finish_polygon()
            return True
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            self._press(self._pixel_space(event))
            return True
        if kind == QEvent.Type.MouseMove:
            return self._move(self._pixel_space(event), bool(event.buttons() & Qt.MouseButton.LeftButton))
        if kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            try:
                self._release(self._pixel_space(event))
            except (ValueError, KeyError, shapely.errors.ShapelyError) as exc:  # a shape the model refuses
                self.cancel()
                self.on_error("Cannot edit the regions", str(exc))
            return True
        return False

    def _pixel_space(self, event) -> tuple[float, float]:
        pos = self.view.image_item.mapFromScene(self.view.mapToScene(event.position().toPoint()))
        return float(pos.x()), float(pos.y())

    def _on_key(self, event) -> bool:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.tool == "polygon" and self._points:
            self.finish_polygon()
            return True
        if key == Qt.Key.Key_Escape and (self._points or self._dragging):
            self.cancel()
            return True
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected is not None:
            self.delete_selected()
            return True
        return False

    def _press(self, p) -> None:
        if self.tool == "polygon":
            if not self._points or snap_corner(*p) != snap_corner(*self._points[-1]):
                self._points.append(p)
            self._preview_polygon(p)
            return
        if self.tool == "select":
            hits = self.regions.regions_at(*p)
            self.select(hits[0].region_id if hits else None)
            if not hits:
                return
        self._dragging = True
        self._points = [p]
        self._preview(p)

    def _move(self, p, left_down: bool) -> bool:
        if self.tool == "polygon" and self._points:
            self._preview_polygon(p)
            return True
        if not self._dragging:
            return False  # hovering: let the map report the pixel under the cursor
        if self.tool == "rectangle":
            self._points[1:] = [p]
        else:
            self._points.append(p)
        self._preview(p)
        return True

    def _release(self, p) -> None:
        if not self._dragging:
            return
        self._dragging = False
        if self.tool == "rectangle":
            self._points[1:] = [p]
        elif self._points[-1] != p:
            self._points.append(p)
        points, self._points = self._points, []
        self.overlay.set_preview(None)
        if self.tool == "rectangle":
            self._add(rectangle_shape(points[0], points[-1]))
        elif self.tool == "lasso":
            shape = polygon_shape(points)
            if shape is None:
                self.message.emit("Draw a closed loop around the pixels to mark.")
            else:
                self._add(shape)
        elif self.tool == "brush":
            self._add(brush_shape(points, self.brush_radius))
        elif self.tool == "eraser":
            self.regions.erase(brush_shape(points, self.brush_radius))
        elif self.tool == "select" and self.selected is not None:
            self._move_selected(points[0], points[-1])

    def _move_selected(self, start, end) -> None:
        # whole pixels: a moved region keeps its pixel-grid alignment
        dx, dy = round(end[0] - start[0]), round(end[1] - start[1])
        if dx or dy:
            region = self.regions.region(self.selected)
            self.regions.set_geometry(region.region_id, affinity.translate(region.geometry, dx, dy))

    def _add(self, shape) -> None:
        class_id = self.current_class()
        if class_id is None:
            class_id = self.regions.add_class(f"Class {len(self.regions.classes) + 1}").class_id
        region = self.regions.add_region(shape, class_id)
        self.select(region.region_id)

    # --- preview ----------------------------------------------------------------------------------------
    def _preview(self, p) -> None:
        pts = self._points
        if self.tool == "rectangle":
            shape = rectangle_shape(pts[0], pts[-1])
        elif self.tool in ("brush", "eraser"):
            shape = brush_shape(pts, self.brush_radius)
        elif self.tool == "lasso":
            shape = LineString(pts) if len(pts) > 1 else Point(pts[0])
        elif self.tool == "select" and self.selected is not None:
            dx, dy = round(p[0] - pts[0][0]), round(p[1] - pts[0][1])
            shape = affinity.translate(self.regions.region(self.selected).geometry, dx, dy)
        else:
            return
        self.overlay.set_preview(shape)

    def _preview_polygon(self, cursor) -> None:
        corners = [snap_corner(*q) for q in self._points] + [snap_corner(*cursor)]
        self.overlay.set_preview(LineString(corners) if len(corners) > 1 else Point(corners[0]))


def viewport_point(view, x: float, y: float):
    """Where pixel-space point (x, y) is on the map's viewport (for tests and scripted drawing)."""
    view.view.prepareForPaint()
    return view.mapFromScene(view.image_item.mapToScene(QPointF(x, y)))
