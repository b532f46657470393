"""Which reader a file needs, from its name: the one place that maps suffixes to formats.

Used by :func:`hsiviewer.io.open_scene` (scene readers) and :mod:`hsiviewer.io.labels` (label readers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

Format = Literal["numpy", "matlab", "envi", "gdal"]

ENVI_DATA_SUFFIXES = ("", ".bsq", ".bil", ".bip", ".img", ".dat", ".raw")


def find_envi_header(path: Path) -> Optional[Path]:
    """The ENVI header of ``path`` (itself if it is one), or None."""
    if path.suffix.lower() == ".hdr":
        return path
    for candidate in (path.with_suffix(".hdr"), path.with_name(path.name + ".hdr")):
        if candidate.exists() and candidate != path:
            return candidate
    return None


def detect_format(path: Path) -> Format:
    """``"numpy"`` (.npy/.npz), ``"matlab"`` (.mat), ``"envi"`` (a header or a data file beside one) or
    ``"gdal"`` (everything else: GeoTIFF and the other rasters GDAL reads)."""
    suffix = path.suffix.lower()
    if suffix in (".npy", ".npz"):
        return "numpy"
    if suffix == ".mat":
        return "matlab"
    if find_envi_header(path) is not None and suffix not in (".tif", ".tiff"):
        return "envi"
    return "gdal"
