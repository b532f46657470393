"""Rasterising regions against a hand calculation on a small grid."""

from __future__ import annotations

import numpy as np
from shapely.geometry import MultiPolygon, Point, Polygon, box

from hsiviewer.regions.model import RegionSet
from hsiviewer.regions.rasterize import rasterize_regions


def _set(*items):
    regions = RegionSet()
    regions.add_class("a")
    regions.add_class("b")
    for geom, cid in items:
        regions.add_region(geom, cid)
    return regions


def _centres_inside(geom, shape, touched=False):
    """The hand rule: pixel (r, c) is in when its centre is inside (or, touched, its square meets the geometry)."""
    out = np.zeros(shape, bool)
    for r in range(shape[0]):
        for c in range(shape[1]):
            out[r, c] = (
                geom.intersects(box(c, r, c + 1, r + 1)) and not geom.touches(box(c, r, c + 1, r + 1))
                if touched
                else geom.contains(Point(c + 0.5, r + 0.5))
            )
    return out


def test_pixel_centre_rule_matches_hand_calculation():
    # a triangle whose edges pass between pixel centres (no centre lies on an edge)
    tri = Polygon([(0.2, 0.1), (5.8, 0.3), (0.3, 4.9)])
    raster = rasterize_regions(_set((tri, 1)).regions, (6, 7))
    expected = np.zeros((6, 7), np.uint16)
    # by hand: centres (c+.5, r+.5) below the line from (5.8, .3) to (.3, 4.9): x + 1.196 y < 6.16
    for r in range(6):
        for c in range(7):
            x, y = c + 0.5, r + 0.5
            if x > 0.2 and y > 0.1 and x * 4.6 + y * 5.5 < 5.8 * 4.6 + 0.3 * 5.5 and x < 5.8:
                expected[r, c] = 1
    assert np.array_equal(raster.labels, expected)
    assert np.array_equal(raster.labels > 0, _centres_inside(tri, (6, 7)))
    assert raster.overlap_pixels == 0 and not raster.outside and not raster.empty


def test_all_touched_takes_every_pixel_the_region_meets():
    shape = box(1.2, 1.6, 3.4, 2.2)  # centres of row 1 (y 1.5) and row 2 (y 2.5) outside: no centre inside
    centre = rasterize_regions(_set((shape, 1)).regions, (5, 5))
    touched = rasterize_regions(_set((shape, 1)).regions, (5, 5), all_touched=True)
    assert centre.labels.sum() == 0 and centre.empty == [1]
    expected = np.zeros((5, 5), bool)
    expected[1:3, 1:4] = True  # rows 1-2 (y 1.6..2.2), cols 1-3 (x 1.2..3.4)
    assert np.array_equal(touched.labels > 0, expected)
    assert np.array_equal(touched.labels > 0, _centres_inside(shape, (5, 5), touched=True))
    assert not touched.empty


def test_overlaps_later_region_wins_and_overlap_pixels_are_counted():
    first = box(0.1, 0.1, 3.9, 2.9)  # rows 0-2, cols 0-3
    second = box(2.1, 1.1, 4.9, 3.9)  # rows 1-3, cols 2-4
    regions = _set((first, 1), (second, 2))
    raster = rasterize_regions(regions.regions, (4, 5))
    expected = np.zeros((4, 5), np.uint16)
    expected[0:3, 0:4] = 1
    expected[1:4, 2:5] = 2
    assert np.array_equal(raster.labels, expected)
    assert raster.overlap_pixels == 2 * 2  # rows 1-2 x cols 2-3
    ids = np.zeros((4, 5), np.int32)
    ids[0:3, 0:4] = 1
    ids[1:4, 2:5] = 2
    assert np.array_equal(raster.region_ids, ids)
    # drawn the other way round, the first region wins instead
    swapped = rasterize_regions(_set((second, 2), (first, 1)).regions, (4, 5))
    assert swapped.labels[1, 2] == 1 and swapped.overlap_pixels == 4


def test_outside_zero_pixel_and_hidden_regions_are_listed_by_id():
    regions = _set(
        (box(0.1, 0.1, 2.9, 2.9), 1),
        (box(20, 20, 22, 22), 2),
        (box(3.6, 3.6, 3.9, 3.9), 1),
        (Point(1.5, 1.5), 2),
        (box(0.0, 0.0, 3.0, 3.0), 2),
    )
    raster = rasterize_regions(regions.regions, (5, 5))
    assert raster.outside == [2]
    assert raster.empty == [3]
    assert raster.hidden == [1, 4]  # wholly under region 5
    text = " ".join(raster.problems())
    assert "ids 2" in text and "ids 3" in text and "ids 1, 4" in text


def test_points_and_multipolygons_burn_their_pixels():
    multi = MultiPolygon([box(0.1, 0.1, 0.9, 0.9), box(3.1, 2.1, 3.9, 2.9)])
    raster = rasterize_regions(_set((multi, 1), (Point(4.2, 0.7), 2)).regions, (4, 5))
    assert {tuple(p) for p in np.argwhere(raster.labels == 1)} == {(0, 0), (2, 3)}
    assert {tuple(p) for p in np.argwhere(raster.labels == 2)} == {(0, 4)}
