"""Training regions on the map: a translucent fill in the class colour and an outline per region.

The fill is a region-id raster shown through a colour table as square tiles of :data:`TILE`
pixels, each its own ``ImageItem``. Only tiles that hold a region pixel exist (ids and item), so a
30,000 x 30,000 scene without regions costs nothing, and one with a few fields costs their tiles.
An edit redraws only what it touched: the ids are burnt again inside the edit's bounding box and
only the tiles under that box are recoloured, so one brush stroke on a 2000 x 2000 scene costs about
as much as on a small one (bench/bench_regions.py). Outlines are vector paths (one
``QGraphicsPathItem`` per region), sharp at every zoom.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
import shapely
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from hsiviewer.regions.model import Region, RegionSet
from hsiviewer.regions.rasterize import burn_region_ids

TILE = 256
FILL_ALPHA = 110
FILL_Z, OUTLINE_Z, PREVIEW_Z = 500, 510, 520


def geometry_path(geometry) -> QPainterPath:
    """A painter path of a shapely (multi)polygon or point in pixel space (holes drawn as holes)."""
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    for part in getattr(geometry, "geoms", [geometry]):
        if part.geom_type == "Point":
            path.addEllipse(QPointF(part.x, part.y), 0.35, 0.35)
        elif part.geom_type == "Polygon":
            for ring in [part.exterior, *part.interiors]:
                coords = np.asarray(ring.coords)
                path.moveTo(*coords[0])
                for x, y in coords[1:]:
                    path.lineTo(x, y)
                path.closeSubpath()
        elif part.geom_type in ("MultiPolygon", "GeometryCollection", "MultiPoint"):
            path.addPath(geometry_path(part))
    return path


class RegionOverlay:
    """Draws a :class:`~hsiviewer.regions.model.RegionSet` on a :class:`SceneView` and follows its edits.

    Attributes
    ----------
    shape : (rows, cols)
        The scene's size.
    selected : int or None
        The highlighted region.
    """

    #: Rows burnt at a time by :meth:`redraw_all` (bounds the memory of one burn on a wide scene).
    BURN_ROWS = 4 * TILE

    def __init__(self, view, regions: RegionSet) -> None:
        self.view = view
        self.regions = regions
        self.shape = (0, 0)
        self.selected: Optional[int] = None
        self._ids: dict[tuple[int, int], np.ndarray] = {}  # int32 region ids of the tiles that hold any
        self._tiles: dict[tuple[int, int], pg.ImageItem] = {}
        self._outlines: dict[int, tuple[QGraphicsPathItem, Region]] = {}
        self._lut = np.zeros((1, 4), np.uint8)
        self.preview = QGraphicsPathItem()
        self.preview.setZValue(PREVIEW_Z)
        pen = QPen(QColor(255, 255, 0), 1.5, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.preview.setPen(pen)
        self.preview.setBrush(QBrush(QColor(255, 255, 0, 60)))
        view.view.addItem(self.preview)
        regions.changed.connect(self._on_changed)

    # --- scene -------------------------------------------------------------------------------
    def set_shape(self, rows: int, cols: int) -> None:
        """Start over for a scene of ``rows`` x ``cols`` and draw the regions."""
        for item in self._tiles.values():
            self.view.view.removeItem(item)
        self._tiles.clear()
        self._ids.clear()
        self.shape = (int(rows), int(cols))
        self.redraw_all()

    @property
    def region_ids(self) -> np.ndarray:
        """The region on top at each pixel of the whole scene (int32, 0 = none), put together from the tiles."""
        return self.window_ids((0, self.shape[0], 0, self.shape[1]))

    def labelled_window(self) -> Optional[tuple[int, int, int, int]]:
        """(r0, r1, c0, c1): the smallest block of whole tiles holding every region pixel, or None."""
        if not self._ids:
            return None
        tis = [ti for ti, _ in self._ids]
        tjs = [tj for _, tj in self._ids]
        rows, cols = self.shape
        return (
            min(tis) * TILE,
            min(rows, (max(tis) + 1) * TILE),
            min(tjs) * TILE,
            min(cols, (max(tjs) + 1) * TILE),
        )

    def window_ids(self, window: tuple[int, int, int, int]) -> np.ndarray:
        """The region ids of rows ``[r0, r1)`` and cols ``[c0, c1)`` (``window = (r0, r1, c0, c1)``)."""
        r0, r1, c0, c1 = window
        out = np.zeros((r1 - r0, c1 - c0), np.int32)
        for (ti, tj), ids in self._ids.items():
            tr0, tc0 = ti * TILE, tj * TILE
            a0, a1 = max(r0, tr0), min(r1, tr0 + ids.shape[0])
            b0, b1 = max(c0, tc0), min(c1, tc0 + ids.shape[1])
            if a0 < a1 and b0 < b1:
                out[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0] = ids[a0 - tr0 : a1 - tr0, b0 - tc0 : b1 - tc0]
        return out

    def labelled_tiles(self) -> list[tuple[int, int, np.ndarray]]:
        """(row0, col0, region ids) of every tile that holds a region, in row order.

        The arrays are never written again (an edit stores new ones), so another thread may read them
        while the user goes on drawing.
        """
        return [(ti * TILE, tj * TILE, ids) for (ti, tj), ids in sorted(self._ids.items())]

    def class_lookup(self) -> np.ndarray:
        """``class_of[region id]``: the class id (uint16) of each region id on display (0 = none)."""
        class_of = np.zeros(len(self._lut), np.uint16)
        for r in self.regions.regions:
            if r.region_id < len(class_of):
                class_of[r.region_id] = r.class_id
        return class_of

    def class_of(self, region_ids: np.ndarray) -> np.ndarray:
        """The class id (uint16) of each pixel of ``region_ids`` (0 where no region)."""
        return self.class_lookup()[region_ids]

    def redraw_all(self) -> None:
        """Burn every region and redraw every tile and outline (the baseline the tiles avoid).

        Only the rows and columns the regions' bounding boxes cover are burnt, a band of
        :attr:`BURN_ROWS` rows at a time.
        """
        self._rebuild_lut()
        before = set(self._ids)
        self._ids.clear()
        rows, cols = self.shape
        regions = [r for r in self.regions.regions if not r.geometry.is_empty]
        if regions and rows and cols:
            bounds = shapely.bounds(np.array([r.geometry for r in regions], dtype=object))
            inside = (bounds[:, 0] <= cols) & (bounds[:, 2] >= 0) & (bounds[:, 1] <= rows) & (bounds[:, 3] >= 0)
            regions, bounds = [r for r, i in zip(regions, inside) if i], bounds[inside]
        if regions and rows and cols:  # the regions that reach into the scene (others cover no pixel)
            top = max(0, math.floor(bounds[:, 1].min()) - 1) // TILE * TILE
            bottom = min(rows, math.ceil(bounds[:, 3].max()) + 1)
            for r0 in range(top, bottom, self.BURN_ROWS):
                r1 = min(bottom, r0 + self.BURN_ROWS)
                hit = (bounds[:, 1] <= r1) & (bounds[:, 3] >= r0)
                if not hit.any():
                    continue
                c0 = max(0, math.floor(bounds[hit, 0].min()) - 1) // TILE * TILE
                c1 = min(cols, math.ceil(bounds[hit, 2].max()) + 1)
                if c0 >= c1:
                    continue
                band = [r for r, h in zip(regions, hit) if h]
                self._store(r0, c0, burn_region_ids(band, (r1 - r0, c1 - c0), offset=(r0, c0)))
        for key in before | set(self._ids):
            self._paint_tile(key)
        self._sync_outlines(full=True)

    def redraw_box(self, box) -> None:
        """Burn again the regions inside pixel-space ``box`` (xmin, ymin, xmax, ymax) and repaint its tiles."""
        rows, cols = self.shape
        c0, r0 = max(0, math.floor(box[0]) - 1), max(0, math.floor(box[1]) - 1)
        c1, r1 = min(cols, math.ceil(box[2]) + 1), min(rows, math.ceil(box[3]) + 1)
        if c0 >= c1 or r0 >= r1:
            self._sync_outlines()
            return
        self._update_lut()
        inside = self._regions_in((c0, r0, c1, r1))
        self._store(r0, c0, burn_region_ids(inside, (r1 - r0, c1 - c0), offset=(r0, c0)))
        for ti in range(r0 // TILE, (r1 - 1) // TILE + 1):
            for tj in range(c0 // TILE, (c1 - 1) // TILE + 1):
                self._paint_tile((ti, tj))
        self._sync_outlines()

    def _store(self, r0: int, c0: int, window: np.ndarray) -> None:
        """Write the ids of ``window`` (top-left pixel (r0, c0)) into the tiles; tiles left empty are dropped."""
        rows, cols = self.shape
        r1, c1 = r0 + window.shape[0], c0 + window.shape[1]
        for ti in range(r0 // TILE, (r1 - 1) // TILE + 1):
            for tj in range(c0 // TILE, (c1 - 1) // TILE + 1):
                tr0, tc0 = ti * TILE, tj * TILE
                a0, a1 = max(r0, tr0), min(r1, tr0 + TILE)
                b0, b1 = max(c0, tc0), min(c1, tc0 + TILE)
                part = window[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0]
                old = self._ids.get((ti, tj))
                if old is None:
                    if not part.any():
                        continue
                    ids = np.zeros((min(rows, tr0 + TILE) - tr0, min(cols, tc0 + TILE) - tc0), np.int32)
                else:  # a new array: the old one may be being read on the statistics thread
                    ids = old.copy()
                ids[a0 - tr0 : a1 - tr0, b0 - tc0 : b1 - tc0] = part
                if ids.any():
                    ids.setflags(write=False)
                    self._ids[(ti, tj)] = ids
                else:
                    self._ids.pop((ti, tj), None)

    def set_selected(self, region_id: Optional[int]) -> None:
        """Highlight ``region_id`` (None: nothing)."""
        previous, self.selected = self.selected, region_id
        for rid in (previous, region_id):
            if rid in self._outlines:
                self._style_outline(*self._outlines[rid])

    def set_preview(self, geometry) -> None:
        """Show the shape being drawn (None hides it)."""
        self.preview.setPath(QPainterPath() if geometry is None else geometry_path(geometry))

    def class_of_pixels(self) -> np.ndarray:
        """The class id at each pixel of the whole scene, from the region ids on display."""
        return self.class_of(self.region_ids)

    # --- events ------------------------------------------------------------------------------------
    def _on_changed(self, kind: str, box) -> None:
        if kind == "regions" and box is not None:
            self.redraw_box(box)
        elif kind == "classes":
            self._rebuild_lut()
            for key in set(self._tiles) | set(self._ids):
                self._paint_tile(key)
            self._sync_outlines(full=True)
        else:
            self.redraw_all()

    # --- drawing -----------------------------------------------------------------------------------
    def _regions_in(self, window) -> list[Region]:
        regions = self.regions.regions
        if not regions:
            return []
        bounds = shapely.bounds(np.array([r.geometry for r in regions], dtype=object))
        c0, r0, c1, r1 = window
        hit = (bounds[:, 0] <= c1) & (bounds[:, 2] >= c0) & (bounds[:, 1] <= r1) & (bounds[:, 3] >= r0)
        return [r for r, h in zip(regions, hit) if h]

    def _rebuild_lut(self) -> None:
        self._lut = np.zeros((1, 4), np.uint8)
        self._update_lut(force=True)

    def _update_lut(self, force: bool = False) -> None:
        regions = self.regions.regions
        size = max((r.region_id for r in regions), default=0) + 1
        if size > len(self._lut):
            grown = np.zeros((max(size, 2 * len(self._lut)), 4), np.uint8)
            grown[: len(self._lut)] = self._lut
            self._lut = grown
        visible = {c.class_id: (c.color, c.visible) for c in self.regions.classes}
        for r in regions:
            color, shown = visible.get(r.class_id, ((0, 0, 0), False))
            self._lut[r.region_id] = (*color, FILL_ALPHA if shown else 0)

    def _paint_tile(self, key: tuple[int, int]) -> None:
        ids = self._ids.get(key)
        item = self._tiles.get(key)
        if ids is None:
            if item is not None:
                item.setVisible(False)
            return
        if item is None:
            item = pg.ImageItem(axisOrder="row-major")
            item.setZValue(FILL_Z)
            item.setPos(key[1] * TILE, key[0] * TILE)
            self.view.view.addItem(item)
            self._tiles[key] = item
        item.setImage(self._lut[ids], autoLevels=False, levels=(0, 255))
        item.setVisible(True)

    def _sync_outlines(self, full: bool = False) -> None:
        current = {r.region_id: r for r in self.regions.regions}
        for rid in [rid for rid in self._outlines if rid not in current]:
            item, _ = self._outlines.pop(rid)
            self.view.view.removeItem(item)
        for rid, region in current.items():
            known = self._outlines.get(rid)
            if known is not None and known[1] is region and not full:
                continue
            if known is None:
                item = QGraphicsPathItem()
                item.setZValue(OUTLINE_Z)
                self.view.view.addItem(item)
            else:
                item = known[0]
            if known is None or known[1].geometry is not region.geometry:
                item.setPath(geometry_path(region.geometry))
            self._outlines[rid] = (item, region)
            self._style_outline(item, region)

    def _style_outline(self, item: QGraphicsPathItem, region: Region) -> None:
        cls = next((c for c in self.regions.classes if c.class_id == region.class_id), None)
        shown = cls is not None and cls.visible
        item.setVisible(shown)
        if not shown:
            return
        selected = region.region_id == self.selected
        pen = QPen(QColor(255, 255, 255) if selected else QColor(*cls.color), 2.5 if selected else 1.5)
        pen.setCosmetic(True)  # the same width on screen at every zoom
        if selected:
            pen.setStyle(Qt.PenStyle.DashLine)
        item.setPen(pen)
        item.setBrush(QBrush(Qt.BrushStyle.NoBrush))
