"""Training regions at scale: rasterising 10,000 polygons on 2000 x 2000, and redrawing one brush stroke.

1. ``rasterize_regions`` (GDAL through rasterio: labels, region ids, overlap count, empty-region checks)
   on 10,000 random polygons over a 2000 x 2000 grid, against a baseline that tests pixel centres
   polygon by polygon with shapely (``contains_xy`` over each polygon's bounding box).
2. The map's redraw after one brush stroke on a 2000 x 2000 scene holding 500 regions: the overlay burns
   ids again only inside the stroke's bounding box and recolours only the tiles under it
   (``RegionOverlay.redraw_box``), against redrawing everything (``redraw_all``); goal: under 16 ms
   (one frame at 60 Hz). The synchronous repaint of the map that follows (``viewport().repaint()``) is
   timed apart, and with nothing changed, since it is the same whatever the overlay did.

    QT_QPA_PLATFORM=offscreen python bench/bench_regions.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import common  # noqa: F401  (puts the checkout first on sys.path)
import numpy as np
import shapely
from shapely.geometry import Point

from hsiviewer.regions.drawing import brush_shape
from hsiviewer.regions.model import RegionSet
from hsiviewer.regions.rasterize import burn_region_ids, rasterize_regions

SIZE = 2000


def random_polygons(n: int, rng) -> list:
    """Irregular polygons (buffered random points, 2-20 px radius, some overlapping) over the grid."""
    centres = rng.uniform(0, SIZE, (n, 2))
    radii = rng.uniform(2, 20, n)
    return [Point(x, y).buffer(r, quad_segs=3) for (x, y), r in zip(centres, radii)]


def regions_of(polygons, n_classes: int = 8) -> RegionSet:
    regions = RegionSet()
    for k in range(n_classes):
        regions.add_class(f"class {k + 1}")
    regions.add_regions([(g, 1 + i % n_classes, None) for i, g in enumerate(polygons)])
    return regions


def baseline_rasterize(polygons, n_classes: int = 8) -> np.ndarray:
    """Pixel centres tested polygon by polygon (shapely, vectorised within each bounding box)."""
    labels = np.zeros((SIZE, SIZE), np.uint16)
    for i, g in enumerate(polygons):
        x0, y0, x1, y1 = g.bounds
        c0, r0 = max(0, int(np.floor(x0 - 0.5)) + 0), max(0, int(np.floor(y0 - 0.5)))
        c1, r1 = min(SIZE, int(np.ceil(x1 + 0.5))), min(SIZE, int(np.ceil(y1 + 0.5)))
        if c0 >= c1 or r0 >= r1:
            continue
        rows, cols = np.mgrid[r0:r1, c0:c1]
        inside = shapely.contains_xy(g, cols + 0.5, rows + 0.5)
        labels[r0:r1, c0:c1][inside] = 1 + i % n_classes
    return labels


def bench_rasterize(n: int, rng) -> None:
    polygons = random_polygons(n, rng)
    regions = regions_of(polygons)
    start = time.perf_counter()
    raster = rasterize_regions(regions.regions, (SIZE, SIZE))
    new = time.perf_counter() - start
    start = time.perf_counter()
    burn_region_ids(regions.regions, (SIZE, SIZE))
    burn = time.perf_counter() - start
    start = time.perf_counter()
    base = baseline_rasterize(polygons)
    old = time.perf_counter() - start
    same = np.count_nonzero(base != raster.labels)
    print(
        f"rasterise {n} polygons on {SIZE} x {SIZE}: rasterize_regions {new * 1000:.0f} ms "
        f"(labels, region ids, {raster.overlap_pixels} overlap pixels, {len(raster.hidden)} hidden, "
        f"{len(raster.empty)} empty; the region-id pass alone {burn * 1000:.0f} ms); "
        f"baseline shapely per polygon {old * 1000:.0f} ms; ratio {old / new:.1f}x; "
        f"pixels that differ: {same} (pixel centres on an edge)"
    )


def bench_stroke(n_regions: int, strokes: int, rng) -> None:
    from PySide6.QtWidgets import QApplication

    from hsiviewer.gui.widgets.image_view import SceneView
    from hsiviewer.gui.widgets.region_overlay import RegionOverlay

    app = QApplication.instance() or QApplication([])
    view = SceneView()
    view.resize(1000, 1000)
    view.show()
    view.set_shape(SIZE, SIZE)
    view.image_item.setImage(rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8), autoLevels=False, levels=(0, 255))
    regions = regions_of(random_polygons(n_regions, rng))
    overlay = RegionOverlay(view, regions)
    overlay.set_shape(SIZE, SIZE)
    app.processEvents()
    view.viewport().repaint()
    update_box, paint_box, update_full, paint_full, paint_only = [], [], [], [], []
    for _ in range(strokes):
        x, y = rng.uniform(100, SIZE - 100, 2)
        points = [(x + 2 * k, y + np.sin(k / 3) * 6) for k in range(30)]  # a 60-pixel wavy stroke
        shape = brush_shape(points, 5)
        update_box.append(_timed(lambda s=shape: regions.add_region(s, 1)))  # -> changed(box) -> redraw_box
        paint_box.append(_timed(view.viewport().repaint))
        update_full.append(_timed(overlay.redraw_all))
        paint_full.append(_timed(view.viewport().repaint))
        paint_only.append(_timed(view.viewport().repaint))
    med = {
        k: statistics.median(v) * 1000
        for k, v in (
            ("box", update_box),
            ("full", update_full),
            ("pbox", paint_box),
            ("pfull", paint_full),
            ("paint", paint_only),
        )
    }
    print(f"one brush stroke on a {SIZE} x {SIZE} scene with {n_regions} regions, median of {strokes}:")
    print(
        f"  overlay update, stroke's box only: {med['box']:.1f} ms (max {max(update_box) * 1000:.1f}); "
        f"baseline full redraw: {med['full']:.1f} ms; ratio {med['full'] / med['box']:.1f}x; "
        f"goal < 16 ms: {'met' if med['box'] < 16 else 'missed'}"
    )
    print(
        f"  repaint of the 1000 x 1000 map afterwards: {med['pbox']:.1f} ms after the box update, "
        f"{med['pfull']:.1f} ms after the full one, {med['paint']:.1f} ms with nothing changed "
        f"(the scene image and the tiles are painted whole each frame, with or without an edit)"
    )


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--polygons", type=int, default=10_000)
    p.add_argument("--regions", type=int, default=500)
    p.add_argument("--strokes", type=int, default=20)
    args = p.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    rng = np.random.default_rng(0)
    bench_rasterize(args.polygons, rng)
    bench_stroke(args.regions, args.strokes, rng)


if __name__ == "__main__":
    main()
