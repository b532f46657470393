"""Training regions drawn on a scene or imported from vector files (Qt-free).

- :mod:`~hsiviewer.regions.model`: classes and regions in the scene's pixel space, with undo/redo;
- :mod:`~hsiviewer.regions.vector`: read GeoPackage / Shapefile / GeoJSON, write GeoPackage + QGIS style;
- :mod:`~hsiviewer.regions.rasterize`: regions to a label raster and a region-id raster;
- :mod:`~hsiviewer.regions.drawing`: shapes from mouse input, on the pixel grid;
- :mod:`~hsiviewer.regions.statistics`: per-class and per-region spectra.
"""

from hsiviewer.regions.model import Region, RegionClass, RegionSet
from hsiviewer.regions.rasterize import RegionRaster, rasterize_regions
from hsiviewer.regions.vector import RegionFile, load_regions, read_regions, write_regions

__all__ = [
    "Region",
    "RegionClass",
    "RegionSet",
    "RegionRaster",
    "rasterize_regions",
    "RegionFile",
    "read_regions",
    "load_regions",
    "write_regions",
]
