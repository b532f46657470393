"""Write results as GeoTIFFs that GIS software opens with the right place, colours and names.

A class map is a single-band uint8 (uint16 beyond 255 classes) GeoTIFF with 0 = unclassified
= nodata, the scene's CRS and transform, a colour table, the band description ``class`` and the
tag ``HSIVIEWER_CLASSES`` (the class table as JSON, which :func:`hsiviewer.open_labels` reads
back). Class names go where GDAL and QGIS look for them: ``<map>.tif.aux.xml`` and ``<map>.qml``
(see :mod:`hsiviewer.io.export_styles`). Every file is written to a temporary name in the target
folder and renamed into place only once all of them are complete.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import numpy as np
import rasterio
from affine import Affine
from rasterio._err import CPLE_BaseError  # GDAL's own errors; rasterio exports no public alias
from rasterio.crs import CRS
from rasterio.errors import CRSError, NotGeoreferencedWarning, RasterioError

from hsiviewer.data.classes import ClassTable
from hsiviewer.errors import ExportError
from hsiviewer.io.atomic import atomic_path
from hsiviewer.io.export_styles import pam_xml, qgis_style, rgba

CLASSES_TAG = "HSIVIEWER_CLASSES"
BAND_DESCRIPTION = "class"
MAX_TILE = 256


def write_class_map(
    path: str | Path,
    class_map: np.ndarray,
    classes: ClassTable,
    like: Any = None,
    crs: Any = None,
    transform: Any = None,
) -> Path:
    """Write a class map as a GeoTIFF with a colour table, class names and a QGIS style.

    Parameters
    ----------
    path : str or Path
        The ``.tif`` to create or replace. ``<path>.aux.xml`` and ``<stem>.qml`` are written beside it.
    class_map : ndarray (rows, cols) of int
        Class ids, 0 = unclassified (written as nodata).
    classes : ClassTable
        Names and colours; ids in the map that the table lacks get default names and colours.
    like : Scene, optional
        The scene the map belongs to: its shape must match, its CRS and transform are copied.
    crs : CRS or str, optional
        Overrides ``like.crs`` (anything :meth:`rasterio.crs.CRS.from_user_input` accepts).
    transform : affine.Affine or 6 numbers (a, b, c, d, e, f), optional
        Overrides ``like.transform``. With neither a CRS nor a transform the file has no georeferencing.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ExportError
        When the map is not 2-D integer ids of the scene's shape, or the file cannot be written.
    """
    path = Path(path)
    ids = _check_class_map(path, class_map, like)
    present = np.unique(ids)
    table = ClassTable.from_ids(set(classes.ids) | set(present.tolist()), classes.names, classes.colors)
    dtype = np.uint8 if max(table.ids) <= 255 else np.uint16
    profile = _profile(path, ids.shape, dtype, nodata=0, like=like, crs=crs, transform=transform)
    with _writing(path):
        with (
            atomic_path(path) as tif,
            atomic_path(_aux_path(path), suffix=".part") as aux,
            atomic_path(path.with_suffix(".qml"), suffix=".part") as qml,
        ):
            with _open_for_writing(tif, profile) as dst:
                dst.write(ids.astype(dtype), 1)
                # A TIFF palette holds no alpha: GDAL makes the nodata entry (0) transparent itself.
                dst.write_colormap(1, {i: rgba(table, i) for i in table.ids})
                dst.set_band_description(1, BAND_DESCRIPTION)
                # Compact JSON: the same table as ClassTable.to_json(), one line in gdalinfo.
                dst.update_tags(**{CLASSES_TAG: json.dumps(table.to_dict(), separators=(",", ":"))})
            aux.write_text(pam_xml(table, BAND_DESCRIPTION), encoding="utf-8")
            qml.write_text(qgis_style(table), encoding="utf-8")
    return path


def write_confidence_map(
    path: str | Path, confidence: np.ndarray, like: Any = None, crs: Any = None, transform: Any = None
) -> Path:
    """Write a per-pixel confidence as a float32 GeoTIFF, nodata NaN, band description ``confidence``.

    Parameters
    ----------
    path : str or Path
        The ``.tif`` to create or replace.
    confidence : ndarray (rows, cols) of float
        NaN where nothing was predicted.
    like, crs, transform
        Georeferencing, as for :func:`write_class_map`.

    Returns
    -------
    Path

    Raises
    ------
    ExportError
    """
    return write_float_map(
        path, confidence, "confidence", like=like, crs=crs, transform=transform, what="confidence map"
    )


def write_float_map(
    path: str | Path,
    values: np.ndarray,
    description: str,
    like: Any = None,
    crs: Any = None,
    transform: Any = None,
    what: str = "layer",
) -> Path:
    """Write any continuous layer (an index, a score) as a float32 GeoTIFF, nodata NaN.

    Parameters
    ----------
    path : str or Path
        The ``.tif`` to create or replace.
    values : ndarray (rows, cols) of numbers
        NaN where there is no value.
    description : str
        The band description (what the values are, e.g. ``"NDVI"`` or ``"spectral angle (rad)"``).
    like, crs, transform
        Georeferencing, as for :func:`write_class_map`.
    what : str
        How to name the layer in error messages.

    Returns
    -------
    Path

    Raises
    ------
    ExportError
    """
    path = Path(path)
    values = np.asarray(values)
    _check_shape(path, values, like, what)
    if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)):
        raise ExportError(f"a {what} must hold numbers, not {values.dtype}", path)
    profile = _profile(path, values.shape, np.float32, nodata=float("nan"), like=like, crs=crs, transform=transform)
    with _writing(path):
        with atomic_path(path) as tif:
            with _open_for_writing(tif, profile) as dst:
                dst.write(values.astype(np.float32), 1)
                dst.set_band_description(1, description)
        # A class map written here before leaves an aux.xml whose names would now be wrong.
        with contextlib.suppress(FileNotFoundError):
            _aux_path(path).unlink()
    return path


# --- checks ---------------------------------------------------------------------------------
def _check_shape(path: Path, values: np.ndarray, like: Any, what: str) -> None:
    if values.ndim != 2:
        raise ExportError(f"a {what} must be 2-D (rows, cols), got shape {values.shape}", path)
    if like is not None and tuple(like.shape[:2]) != values.shape:
        raise ExportError(
            f"the {what} is {values.shape[0]} x {values.shape[1]} but the scene it "
            f"belongs to is {like.shape[0]} x {like.shape[1]}",
            path,
        )


def _check_class_map(path: Path, class_map: np.ndarray, like: Any) -> np.ndarray:
    ids = np.asarray(class_map)
    _check_shape(path, ids, like, "class map")
    if ids.dtype == bool:
        ids = ids.astype(np.uint8)
    if not np.issubdtype(ids.dtype, np.integer):
        raise ExportError(f"a class map must hold integer class ids, not {ids.dtype}", path)
    if ids.size and int(ids.min()) < 0:
        raise ExportError(f"a class map cannot hold negative ids (found {int(ids.min())})", path)
    if ids.size and int(ids.max()) > 65535:
        raise ExportError(f"class id {int(ids.max())} is too large (at most 65535)", path)
    return ids


# --- GeoTIFF profile ------------------------------------------------------------------------
def _profile(path: Path, shape: tuple[int, int], dtype, nodata: float, like: Any, crs: Any, transform: Any) -> dict:
    rows, cols = shape
    tile = min(MAX_TILE, max(16, -(-max(rows, cols) // 16) * 16))  # GeoTIFF tiles: multiples of 16
    profile = dict(
        driver="GTiff",
        width=cols,
        height=rows,
        count=1,
        dtype=np.dtype(dtype).name,
        nodata=nodata,
        compress="deflate",
        tiled=True,
        blockxsize=tile,
        blockysize=tile,
    )
    crs, transform = _georeference(path, like, crs, transform)
    # Keys left out entirely: rasterio then writes no georeferencing (not an identity transform).
    if crs is not None:
        profile["crs"] = crs
    if transform is not None:
        profile["transform"] = transform
    return profile


def _georeference(path: Path, like: Any, crs: Any, transform: Any) -> tuple[Optional[CRS], Optional[Affine]]:
    crs = crs if crs is not None else getattr(like, "crs", None)
    transform = transform if transform is not None else getattr(like, "transform", None)
    if crs is not None:
        try:
            crs = CRS.from_user_input(crs)
        except CRSError as exc:
            raise ExportError(f"cannot use the coordinate reference system {crs!r} ({exc})", path) from exc
    if transform is not None and not isinstance(transform, Affine):
        numbers = [float(v) for v in transform]
        if len(numbers) not in (6, 9):
            raise ExportError(f"a transform needs 6 numbers (a, b, c, d, e, f), got {len(numbers)}", path)
        transform = Affine(*numbers[:6])
    return crs, transform


@contextlib.contextmanager
def _open_for_writing(tmp: Path, profile: dict) -> Iterator[Any]:
    # PAM off: GDAL would otherwise leave a .aux.xml named after the temporary file.
    with rasterio.Env(GDAL_PAM_ENABLED=False), warnings.catch_warnings():
        # Leaving out the georeferencing of an ungeoreferenced scene is on purpose.
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(tmp, "w", **profile) as dst:
            yield dst


# --- files ----------------------------------------------------------------------------------
def _aux_path(path: Path) -> Path:
    return path.with_name(path.name + ".aux.xml")


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn file-system and GDAL failures into an :class:`ExportError` naming ``path``."""
    if path.is_dir():
        raise ExportError("is a folder; give a file name such as map.tif", path)
    try:
        yield
    except OSError as exc:
        raise ExportError(f"cannot be written ({exc.strerror or exc})", path) from exc
    except (RasterioError, CPLE_BaseError) as exc:
        raise ExportError(f"cannot be written ({exc})", path) from exc
