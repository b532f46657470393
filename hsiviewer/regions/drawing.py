"""Shapes from mouse input, in pixel space (Qt-free, so the rules are tested without a window).

Drawn shapes follow the pixel grid, so that what the map shows filled is exactly what is labelled:

- polygon and lasso vertices snap to pixel corners (whole numbers);
- a rectangle spans the pixels from the one pressed to the one released, both included;
- a brush or eraser stroke runs through the centres of the pixels under the cursor, and takes every
  pixel whose centre is closer than the radius to that path.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Optional

import shapely
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

#: Segments per quarter circle of a brush: the circle's polygon lies within 0.003 radii of the circle.
BRUSH_QUAD_SEGS = 16


def snap_corner(x: float, y: float) -> tuple[float, float]:
    """The pixel corner nearest (x, y)."""
    return float(round(x)), float(round(y))


def snap_centre(x: float, y: float) -> tuple[float, float]:
    """The centre of the pixel that contains (x, y)."""
    return math.floor(x) + 0.5, math.floor(y) + 0.5


def polygon_shape(vertices: Iterable[tuple[float, float]]) -> Optional[BaseGeometry]:
    """A valid polygon through ``vertices`` snapped to pixel corners (None with under 3 distinct corners).

    A self-crossing outline is repaired (``make_valid``), keeping its polygons.
    """
    points = _dedupe(snap_corner(x, y) for x, y in vertices)
    if len(points) >= 2 and points[0] == points[-1]:
        points = points[:-1]
    if len(points) < 3:
        return None
    shape = Polygon(points)
    if not shape.is_valid:
        shape = _polygonal(shapely.make_valid(shape))
    return shape if not shape.is_empty and shape.area > 0 else None


def rectangle_shape(start: tuple[float, float], end: tuple[float, float]) -> BaseGeometry:
    """The box over the pixels from the one holding ``start`` to the one holding ``end``, both included."""
    c0, c1 = sorted((math.floor(start[0]), math.floor(end[0])))
    r0, r1 = sorted((math.floor(start[1]), math.floor(end[1])))
    return box(c0, r0, c1 + 1, r1 + 1)


def brush_shape(points: Iterable[tuple[float, float]], radius: float) -> BaseGeometry:
    """The area within ``radius`` pixels of a stroke through the centres of the pixels under ``points``."""
    centres = _dedupe(snap_centre(x, y) for x, y in points)
    path = Point(centres[0]) if len(centres) == 1 else LineString(centres)
    return path.buffer(float(radius), quad_segs=BRUSH_QUAD_SEGS)


def _dedupe(points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for p in points:
        if not out or out[-1] != p:
            out.append(p)
    return out


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else Polygon()
