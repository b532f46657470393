"""Regions to rasters on a scene's grid: a label raster (class ids) and a region-id raster.

Burning follows :func:`rasterio.features.rasterize` in pixel space (identity transform): by default a
pixel is inside a region when its centre is (GDAL's rule), with ``all_touched`` when the region touches
it at all. Regions are burnt in drawing order, so where they overlap the later one wins; the pixels
that more than one region claims are counted. A region that ends up with no pixel is never dropped
silently: it is listed as outside the scene, as covering no pixel centre, or as hidden under later
regions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
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
            notes.append(f"{self.overlap_pixels} pixel(s) lie in more than one region; the later region's class "
                         "was kept")
        return notes

    def report(self) -> dict:
        """A JSON-ready summary."""
        return {"pixels_per_class": {str(k): v for k, v in self.pixel_counts().items()},
                "overlap_pixels": int(self.overlap_pixels), "outside": list(self.outside),
                "empty": list(self.empty), "hidden": list(self.hidden), "all_touched": bool(self.all_touched)}


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
    region_ids = burn_region_ids(regions, (rows, cols), all_touched=all_touched)
    class_of = np.zeros(max((r.region_id for r in regions), default=0) + 1, np.uint16)
    for r in regions:
        class_of[r.region_id] = r.class_id
    labels = class_of[region_ids]
    coverage = _coverage(regions, (rows, cols), all_touched)
    result = RegionRaster(labels, region_ids, int(np.count_nonzero(coverage > 1)), all_touched=all_touched)
    present = np.zeros(len(class_of), bool)
    present[np.unique(region_ids)] = True
    scene_box = shapely_box(0, 0, cols, rows)
    for r in regions:
        if present[r.region_id]:
            continue
        if not r.geometry.intersects(scene_box):
            result.outside.append(r.region_id)
        elif not burn_region_ids([r], (rows, cols), all_touched=all_touched).any():
            result.empty.append(r.region_id)
        else:
            result.hidden.append(r.region_id)
    return result


def burn_region_ids(regions: Sequence[Region], shape: tuple[int, int], all_touched: bool = False,
                    offset: tuple[int, int] = (0, 0), out: Optional[np.ndarray] = None) -> np.ndarray:
    """Region ids (int32) of a window of ``shape`` whose top-left pixel is ``offset = (row, col)``.

    Used whole for a scene and on a small window by the map view, which redraws only what a stroke
    touched.
    """
    rows, cols = int(shape[0]), int(shape[1])
    if out is None:
        out = np.zeros((rows, cols), np.int32)
    shapes = [(r.geometry, r.region_id) for r in regions if not r.geometry.is_empty]
    if shapes and rows > 0 and cols > 0:
        transform = Affine.translation(offset[1], offset[0])
        rasterize(shapes, out_shape=(rows, cols), transform=transform, out=out, all_touched=all_touched,
                  dtype=np.int32)
    return out


def _coverage(regions: Sequence[Region], shape: tuple[int, int], all_touched: bool) -> np.ndarray:
    """How many regions claim each pixel (uint8 saturates past 255, which does not matter for > 1)."""
    cover = np.zeros(shape, np.uint8)
    shapes = [(r.geometry, 1) for r in regions if not r.geometry.is_empty]
    if shapes:
        rasterize(shapes, out_shape=shape, transform=Affine.identity(), out=cover, all_touched=all_touched,
                  merge_alg=MergeAlg.add, dtype=np.uint8)
    return cover


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
        raise RegionError("; ".join(raster.problems()[:2]) + " (fix or delete them, or skip them: --skip-empty on the command line)",
                          path)
    if not raster.labels.any():
        raise RegionError(f"no region covers a pixel of the scene {scene.name}", path)
    labelled = dataclasses.replace(scene, labels=raster.labels, classes=regions.class_table())
    return labelled, raster
