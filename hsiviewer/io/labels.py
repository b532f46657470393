"""Label and class-map rasters: 2-D integer images with class names and colours.

Formats: ENVI (classification headers give names and colours), GeoTIFF and other GDAL rasters
(colour table; category names from GDAL's ``.aux.xml``; the ``HSIVIEWER_CLASSES`` tag that
:mod:`hsiviewer.io.export` writes), MATLAB ``.mat`` and NumPy ``.npy``/``.npz``. Class names and
colours are merged, later sources overriding earlier ones: what the format holds natively, then a
``<stem>.json`` sidecar's ``classes`` (written on purpose to describe the file), then the
``HSIVIEWER_CLASSES`` tag (hsiviewer's own, complete record).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple, Optional

import numpy as np

from hsiviewer.data.classes import ClassTable
from hsiviewer.errors import SceneReadError
from hsiviewer.io import envi, gdal, matlab
from hsiviewer.io.formats import detect_format
from hsiviewer.io.numpy_io import LABEL_KEYS
from hsiviewer.io.sidecar import read_sidecar

CLASSES_TAG = "HSIVIEWER_CLASSES"


class _Raw(NamedTuple):
    """What one format's reader gives, before checks and merging."""

    array: np.ndarray
    names: dict
    colors: dict
    nodata: Optional[float] = None
    final_names: Optional[dict] = None  # from HSIVIEWER_CLASSES: applied last
    final_colors: Optional[dict] = None


def read_labels(path: Path, variable: Optional[str] = None) -> tuple[np.ndarray, ClassTable]:
    """Read a label or class-map raster.

    Parameters
    ----------
    path : Path
        ENVI header or data file, GeoTIFF (or other GDAL raster), ``.mat``, ``.npy`` or ``.npz``.
    variable : str, optional
        For ``.mat`` / ``.npz``: the variable holding the labels (default: ``labels``/``gt``/...,
        else the only 2-D array).

    Returns
    -------
    labels : ndarray (rows, cols)
        In memory, uint8, uint16 or int32 as the largest id needs; 0 = unlabelled. Pixels equal
        to the file's nodata value become 0.
    classes : ClassTable
        Every id present has a name and a colour; 0 is "Unclassified" unless the file names it.

    Raises
    ------
    SceneReadError
        When the file holds no single 2-D image, or values that are negative or not integers.
    """
    path = Path(path)
    kind = detect_format(path)
    if kind == "numpy":
        raw = _numpy_raw(path, variable)
    elif kind == "matlab":
        raw = _matlab_raw(path, variable)
    elif kind == "envi":
        raw = _envi_raw(path)
    else:
        raw = _gdal_raw(path)
    labels = to_label_array(raw.array, path, raw.nodata)
    names, colors = dict(raw.names), dict(raw.colors)
    sidecar = read_sidecar(path)
    if sidecar.get("classes"):
        side_names, side_colors = class_entries(sidecar)
        names.update(side_names)
        colors.update(side_colors)
    names.update(raw.final_names or {})
    colors.update(raw.final_colors or {})
    return labels, ClassTable.from_labels(labels, names, colors)


def to_label_array(raw: Any, path: Path, nodata: Optional[float] = None) -> np.ndarray:
    """Check a raw 2-D array and return it as the smallest fitting unsigned/int32 label array.

    Float arrays are accepted when every value is a whole number; ``nodata`` pixels become 0.

    Raises
    ------
    SceneReadError
        When the array is not 2-D or holds negative, fractional, non-finite or complex values.
    """
    arr = np.asarray(raw)
    if arr.ndim != 2:
        raise SceneReadError(f"holds a {arr.ndim}-D array {arr.shape}; a label image is 2-D", path)
    if np.iscomplexobj(arr) or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise SceneReadError(f"holds {arr.dtype} values; labels must be whole numbers", path)
    if nodata is not None:
        missing = np.isnan(arr) if np.isnan(nodata) else arr == nodata
        if missing.any():
            arr = np.where(missing, 0, arr)
    if np.issubdtype(arr.dtype, np.floating):
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            raise SceneReadError(
                f"holds values that are not whole numbers (e.g. {arr[row, col]} at "
                f"row {row}, col {col}); labels must be class ids",
                path,
            )
    low, high = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
    if low < 0:
        raise SceneReadError(f"holds negative values (minimum {low}); labels must be 0 or positive class ids", path)
    if high > np.iinfo(np.int32).max:
        raise SceneReadError(f"holds class ids up to {high}, more than a label image supports", path)
    dtype = np.uint8 if high <= 255 else np.uint16 if high <= 65535 else np.int32
    return np.ascontiguousarray(arr.astype(dtype))


def class_entries(data: Mapping) -> tuple[dict[int, str], dict[int, tuple]]:
    """Names and colours from a ``{"classes": [{"id", "name", "color"}]}`` mapping, as given."""
    entries = data.get("classes") or []
    names = {int(e["id"]): str(e["name"]) for e in entries if e.get("name")}
    colors = {int(e["id"]): tuple(int(c) for c in e["color"][:3]) for e in entries if e.get("color")}
    return names, colors


# --- one reader per format -------------------------------------------------------------------------
def _numpy_raw(path: Path, variable: Optional[str]) -> _Raw:
    if path.suffix.lower() == ".npy":
        return _Raw(np.load(path), {}, {})
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files}
    listing = ", ".join(f"{k} {a.shape}" for k, a in arrays.items()) or "no arrays"
    if variable is not None:
        if variable not in arrays:
            raise SceneReadError(f"has no array named '{variable}' (it has {listing})", path)
        return _Raw(arrays[variable], {}, {})
    for key in LABEL_KEYS:
        if key in arrays and arrays[key].ndim == 2:
            return _Raw(arrays[key], {}, {})
    flat = [k for k, a in arrays.items() if a.ndim == 2]
    if len(flat) != 1:
        raise SceneReadError(
            f"holds {len(flat)} 2-D arrays, so it is not clear which are the labels; name one (it has {listing})", path
        )
    return _Raw(arrays[flat[0]], {}, {})


def _matlab_raw(path: Path, variable: Optional[str]) -> _Raw:
    fmt, variables = matlab.list_variables(path)
    name = matlab.choose_variable(path, variables, 2, variable, "the label image")
    return _Raw(matlab.load_variable(path, fmt, name), {}, {})


def _envi_raw(path: Path) -> _Raw:
    header_path, data_path = envi.locate_envi_files(path)
    header = envi.read_header(header_path)
    memmap = envi.open_envi_memmap(header_path, data_path, header)
    if memmap.shape[2] != 1:
        raise SceneReadError(f"has {memmap.shape[2]} bands; a label image has one", header_path)
    raw = np.array(memmap[:, :, 0], dtype=memmap.dtype.newbyteorder("="))
    names = dict(enumerate(envi.parse_list(header["class names"]))) if "class names" in header else {}
    colors: dict[int, tuple] = {}
    if "class lookup" in header:
        try:
            values = [int(float(v)) for v in envi.parse_list(header["class lookup"])]
        except ValueError as exc:
            raise SceneReadError(f"'class lookup' is not a list of numbers ({exc})", header_path) from exc
        colors = {i: tuple(values[3 * i : 3 * i + 3]) for i in range(len(values) // 3)}
    nodata = header.get("data ignore value")
    return _Raw(raw, names, colors, envi.number(nodata))


def _gdal_raw(path: Path) -> _Raw:
    with gdal.open_dataset(path) as src:
        if src.count != 1:
            raise SceneReadError(f"has {src.count} bands; a label image has one", path)
        raw = src.read(1)
        try:
            colors = {int(i): tuple(rgba[:3]) for i, rgba in src.colormap(1).items()}
        except ValueError:  # rasterio's way of saying "no colour table"
            colors = {}
        names = category_names(path)
        tag = src.tags().get(CLASSES_TAG)
        nodata = src.nodata
    tag_names, tag_colors = None, None
    if tag:
        try:
            tag_names, tag_colors = class_entries(json.loads(tag))
        except (ValueError, KeyError, TypeError) as exc:
            raise SceneReadError(f"its {CLASSES_TAG} tag is not a valid class table ({exc})", path) from exc
    return _Raw(raw, names, colors, None if nodata is None else float(nodata), tag_names, tag_colors)


def category_names(path: Path) -> dict[int, str]:
    """Band 1's category names from GDAL's ``<file>.aux.xml`` (rasterio does not expose them)."""
    aux = path.with_name(path.name + ".aux.xml")
    if not aux.is_file():
        return {}
    try:
        root = ElementTree.parse(aux).getroot()
    except ElementTree.ParseError as exc:
        raise SceneReadError(f"GDAL's metadata file is not valid XML ({exc})", aux) from exc
    for band in root.iter("PAMRasterBand"):
        if band.get("band", "1") == "1":
            categories = band.find("CategoryNames")
            if categories is not None:
                return {
                    i: c.text.strip() for i, c in enumerate(categories.findall("Category")) if c.text and c.text.strip()
                }
    return {}
