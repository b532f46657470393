"""Regions to rasters on a scene's grid: a label raster (class ids) and a region-id raster.

Burning follows :func:`rasterio.features.rasterize` in pixel space (identity transform): by default a
pixel is inside a region when its centre is (GDAL's rule), with ``all_touched`` when the region touches
it at all. Regions are burnt in drawing order, so where they overlap the later one wins; the pixels
that more than one region claims are counted. A region that ends up with no pixel is never dropped
silently: it is listed as outside the scene, as covering no pixel centre, or as hidden under later
regions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import shapely
from affine import Affine
from rasterio.enums import MergeAlg
from rasterio.features import rasterize
from shapely.geometry import box as shapely_box

from hsiviewer.regions.model import Region


@dataclass
class RegionRaster:
    """The rasters of a set of regions and what happened to each region.

    Attributes
    ----------
    labels : uint16 array (rows, cols)
        Class ids, 0 where no region is.
    region_ids : int32 array (rows, cols)
        Region ids, 0 where no region is.
    overlap_pixels : int
        Pixels claimed by two regions or more (the later region's class is kept).
    outside : list of int
        Ids of regions wholly outside the scene.
    empty : list of int
        Ids of regions inside the scene that cover no pixel (no pixel centre, unless ``all_touched``).
    hidden : list of int
        Ids of regions whose every pixel a later region took.
    all_touched : bool
    """

    labels: np.ndarray
    region_ids: np.ndarray
    overlap_pixels: int = 0
    outside: list = field(default_factory=list)
    empty: list = field(default_factory=list)
    hidden: list = field(default_factory=list)
    all_touched: bool = False

    def pixel_counts(self) -> dict[int, int]:
        """Labelled pixels per class id."""
        ids, counts = np.unique(self.labels[self.labels > 0], return_counts=True)
        return {int(i): int(n) for i, n in zip(ids, counts)}

    def problems(self) -> list[str]:
        """Plain-words notes about regions that gave no pixel and about overlaps (empty when all is well)."""
        notes = []
        if self.outside:
            notes.append(f"{len(self.outside)} region(s) lie wholly outside the scene (ids {_ids(self.outside)})")
        if self.empty:
            rule = "no pixel" if self.all_touched else "no pixel centre"
            notes.append(f"{len(self.empty)} region(s) cover {rule} (ids {_ids(self.empty)})")
        if self.hidden:
            notes.append(f"{len(self.hidden)} region(s) are wholly covered by later regions (ids {_ids(self.hidden)})")
        if self.overlap_pixels:
            notes.append(
                f"{self.overlap_pixels} pixel(s) lie in more than one region; the later region's class was kept"
            )
        return notes

    def report(self) -> dict:
        """A JSON-ready summary."""
        return {
            "pixels_per_class": {str(k): v for k, v in self.pixel_counts().items()},
            "overlap_pixels": int(self.overlap_pixels),
            "outside": list(self.outside),
            "empty": list(self.empty),
            "hidden": list(self.hidden),
            "all_touched": bool(self.all_touched),
        }


def rasterize_regions(regions: Sequence[Region], shape: tuple[int, int], all_touched: bool = False) -> RegionRaster:
    """Burn ``regions`` (pixel space) into a label raster and a region-id raster of ``shape``.

    Parameters
    ----------
    regions : sequence of Region
        In drawing order: where they overlap, the later one wins.
    shape : (rows, cols)
    all_touched : bool
        Burn every pixel a region touches instead of the pixels whose centre it contains.

    Returns
    -------
    RegionRaster
    """
    rows, cols = int(shape[0]), int(shape[1])
    regions = [r for r in regions if not r.geometry.is_empty]
    mappings = geojson_mappings([r.geometry for r in regions])  # converted once for the three passes
    ids = [r.region_id for r in regions]
    region_ids = _burn(list(zip(mappings, ids)), (rows, cols), all_touched)
    class_of = np.zeros(max(ids, default=0) + 1, np.uint16)
    for r in regions:
        class_of[r.region_id] = r.class_id
    labels = class_of[region_ids]
    coverage = _burn([(m, 1) for m in mappings], (rows, cols), all_touched, merge=MergeAlg.add, dtype=np.uint8)
    result = RegionRaster(labels, region_ids, int(np.count_nonzero(coverage > 1)), all_touched=all_touched)
    present = np.bincount(region_ids.ravel(), minlength=len(class_of)) > 0  # faster than np.unique here
    missing = [k for k, r in enumerate(regions) if not present[r.region_id]]
    if missing:
        # burnt in reverse order a hidden region is on top somewhere; only the rest are checked one by one
        reverse = [(mappings[k], ids[k]) for k in reversed(missing)]
        on_top = set(np.flatnonzero(np.bincount(_burn(reverse, (rows, cols), all_touched).ravel())).tolist())
        scene_box = shapely_box(0, 0, cols, rows)
        for k in missing:
            r = regions[k]
            if r.region_id in on_top:
                result.hidden.append(r.region_id)
            elif not r.geometry.intersects(scene_box):
                result.outside.append(r.region_id)
            elif not _burns_alone(r, (rows, cols), all_touched):
                result.empty.append(r.region_id)
            else:
                result.hidden.append(r.region_id)
    order = {rid: k for k, rid in enumerate(ids)}
    result.hidden.sort(key=order.__getitem__)
    return result


def burn_region_ids(
    regions: Sequence[Region],
    shape: tuple[int, int],
    all_touched: bool = False,
    offset: tuple[int, int] = (0, 0),
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Region ids (int32) of a window of ``shape`` whose top-left pixel is ``offset = (row, col)``.

    Used whole for a scene and on a small window by the map view, which redraws only what a stroke
    touched.
    """
    rows, cols = int(shape[0]), int(shape[1])
    if out is None:
        out = np.zeros((rows, cols), np.int32)
    regions = [r for r in regions if not r.geometry.is_empty]
    shapes = list(zip(geojson_mappings([r.geometry for r in regions]), [r.region_id for r in regions]))
    return _burn(shapes, (rows, cols), all_touched, offset=offset, out=out)


def geojson_mappings(geometries) -> list[dict]:
    """GeoJSON-like dicts of shapely geometries, converted with vectorised shapely calls.

    ``rasterio.features.rasterize`` takes shapely objects too, but converts them one by one through
    ``__geo_interface__``, which took longer than the burning itself for 10,000 polygons. Polygons
    without holes (what the drawing tools make) become coordinate arrays in one call; the rest go
    through ``shapely.to_geojson``.
    """
    geoms = np.asarray(geometries, dtype=object)
    if not len(geoms):
        return []
    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    out: list = [None] * len(geoms)
    if simple.any():
        coords, index = shapely.get_coordinates(shapely.get_exterior_ring(geoms[simple]), return_index=True)
        rings = np.split(coords, np.flatnonzero(np.diff(index)) + 1)
        for k, ring in zip(np.flatnonzero(simple), rings):
            out[k] = {"type": "Polygon", "coordinates": [ring]}
    rest = np.flatnonzero(~simple)
    if len(rest):
        for k, text in zip(rest, shapely.to_geojson(geoms[rest])):
            out[k] = json.loads(text)
    return out


def _burn(shapes, shape, all_touched, offset=(0, 0), out=None, merge=MergeAlg.replace, dtype=np.int32):
    rows, cols = int(shape[0]), int(shape[1])
    if out is None:
        out = np.zeros((rows, cols), dtype)
    if shapes and rows > 0 and cols > 0:
        rasterize(
            shapes,
            out_shape=(rows, cols),
            transform=Affine.translation(offset[1], offset[0]),
            out=out,
            all_touched=all_touched,
            merge_alg=merge,
            dtype=out.dtype,
        )
    return out


def _burns_alone(region: Region, shape: tuple[int, int], all_touched: bool) -> bool:
    """True when ``region`` alone burns a pixel (checked on its bounding box only, not the whole grid)."""
    x0, y0, x1, y1 = region.bounds
    c0, r0 = max(0, math.floor(x0) - 1), max(0, math.floor(y0) - 1)
    c1, r1 = min(shape[1], math.ceil(x1) + 1), min(shape[0], math.ceil(y1) + 1)
    if c0 >= c1 or r0 >= r1:
        return False
    return bool(burn_region_ids([region], (r1 - r0, c1 - c0), all_touched=all_touched, offset=(r0, c0)).any())


def _ids(ids: list) -> str:
    shown = ", ".join(str(i) for i in ids[:20])
    return shown + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")


def label_scene(scene, regions, all_touched: bool = False, strict: bool = True):
    """A copy of ``scene`` whose ground truth is the rasterised ``regions``, and the :class:`RegionRaster`.

    Parameters
    ----------
    scene : Scene
    regions : RegionSet or RegionFile
        A :class:`~hsiviewer.regions.vector.RegionFile` is first placed on the scene.
    all_touched : bool
    strict : bool
        Refuse regions that are wholly outside the scene or cover no pixel (listed by id) instead of
        only listing them in the raster's :meth:`RegionRaster.problems`.

    Raises
    ------
    RegionError
        No labelled pixel, or (``strict``) regions that give no pixel.
    """
    import dataclasses

    from hsiviewer.errors import RegionError

    path = getattr(regions, "path", None)
    if hasattr(regions, "to_scene"):
        regions = regions.to_scene(scene)
    raster = rasterize_regions(regions.regions, scene.shape[:2], all_touched=all_touched)
    if strict and (raster.outside or raster.empty):
        raise RegionError(
            "; ".join(raster.problems()[:2]) + " (fix or delete them, or skip them: --skip-empty on the command line)",
            path,
        )
    if not raster.labels.any():
        raise RegionError(f"no region covers a pixel of the scene {scene.name}", path)
    labelled = dataclasses.replace(scene, labels=raster.labels, classes=regions.class_table())
    return labelled, raster
