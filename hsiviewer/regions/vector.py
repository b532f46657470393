"""Read and write training regions as vector files (GeoPackage; Shapefile and GeoJSON on reading).

Why pyogrio (with shapely): it reads and writes whole columns through GDAL/OGR in one vectorised call
(WKB arrays in, numpy field arrays out), so ten thousand polygons take milliseconds, and it has no
per-feature Python object layer as Fiona has; shapely 2 then works on the geometry arrays at once.
Both are maintained, GDAL-based, and pyogrio needs no geopandas. Reprojection uses
:func:`rasterio.warp.transform` (GDAL/PROJ, already a dependency), so no pyproj is needed.

Files carry one feature per region with the attributes ``region_id``, ``class_id``, ``class_name`` and
``class_color`` (``#rrggbb``); the full class list (classes without regions too) is kept in the layer's
metadata, and a QGIS style ``<name>.qml`` beside the file colours the regions by class.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import shapely
from affine import Affine

from hsiviewer.data.classes import default_color
from hsiviewer.errors import ExportError, RegionError
from hsiviewer.io.atomic import atomic_path
from hsiviewer.regions.model import Region, RegionClass, RegionSet
from hsiviewer.regions.style import region_style

LAYER = "regions"
CLASSES_KEY = "HSIVIEWER_CLASSES"
SPACE_KEY = "HSIVIEWER_COORDINATES"
PIXEL_DESCRIPTION = (
    "hsiviewer training regions in PIXEL coordinates of an ungeoreferenced scene: "
    "x = column, y = row (row 0 at the top), pixel (row, col) spans [col, col+1] x [row, row+1]"
)
#: Attributes tried, in order, for the class when no class field is given.
CLASS_FIELDS = ("class_name", "class", "classname", "class_id", "label", "name", "type")
READ_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".kml")
_POLYGONAL = ("Polygon", "MultiPolygon")
_POINTS = ("Point", "MultiPoint")


@dataclass
class RegionFile:
    """Regions as read from a file, in the file's coordinates, before they are placed on a scene.

    Attributes
    ----------
    path : Path
    geometries : ndarray of shapely geometries
    class_ids : int array
        One per feature.
    region_ids : int array
        One per feature (the file's ``region_id`` field, else 1, 2, ...).
    classes : list of RegionClass
    crs : str or None
        The file's CRS as GDAL gives it (``"EPSG:4326"`` or WKT); None when it has none.
    pixel_space : bool
        True when the file says it holds pixel coordinates (written for a scene without a CRS).
    class_field : str
        The attribute the classes came from.
    repaired : int
        Invalid polygons repaired with ``shapely.make_valid``.
    notes : list of str
        What a user should know (repairs, an assumed CRS, ...).
    """

    path: Path
    geometries: np.ndarray
    class_ids: np.ndarray
    region_ids: np.ndarray
    classes: list
    crs: Optional[str] = None
    pixel_space: bool = False
    class_field: str = ""
    repaired: int = 0
    notes: list = field(default_factory=list)

    def to_scene(self, scene) -> RegionSet:
        """The regions in the pixel space of ``scene`` (reprojected when the CRSs differ).

        A file without a CRS is taken to be in the scene's CRS (a note says so). Raises
        :class:`~hsiviewer.errors.RegionError` when the file's CRS cannot be brought onto the scene.
        """
        geoms = self._to_pixels(scene)
        regions = RegionSet()
        regions.load(
            self.classes, [Region(int(rid), int(cid), g) for rid, cid, g in zip(self.region_ids, self.class_ids, geoms)]
        )
        return regions

    def _to_pixels(self, scene) -> np.ndarray:
        if self.pixel_space or (scene.crs is None and self.crs is None):
            if scene.crs is not None:
                raise RegionError(
                    f"holds pixel coordinates of an ungeoreferenced scene, but {scene.name} has a "
                    "coordinate reference system; draw or import the regions again",
                    self.path,
                )
            return self.geometries
        if scene.crs is None:
            raise RegionError(
                f"is in {_crs_name(self.crs)} but the scene {scene.name} has no coordinate reference "
                "system to place it by",
                self.path,
            )
        geoms = self.geometries
        if self.crs is None:
            self.notes.append(
                f"the file has no coordinate reference system; taken to be the scene's ({_crs_name(scene.crs)})"
            )
        else:
            geoms = _reproject(geoms, self.crs, scene.crs, self.path)
        inverse = ~(scene.transform or Affine.identity())
        return _affine(geoms, inverse)


def read_regions(path: str | Path, class_field: Optional[str] = None) -> RegionFile:
    """Read training regions from a GeoPackage, Shapefile or GeoJSON file.

    Parameters
    ----------
    path : str or Path
    class_field : str, optional
        The attribute holding the class (a name or an integer id). Default: the first of
        ``class_name``, ``class``, ``classname``, ``class_id``, ``label``, ``name``, ``type`` present.

    Returns
    -------
    RegionFile
        Place it on a scene with :meth:`RegionFile.to_scene`.

    Raises
    ------
    RegionError
        The file cannot be read, is empty, holds lines, lacks the class field, or some features have no
        class or no geometry.
    """
    import pyogrio
    import pyogrio.raw

    path = Path(path)
    if not path.exists():
        raise RegionError("does not exist", path)
    try:
        info = pyogrio.read_info(path)
        meta, _, wkb, values = pyogrio.raw.read(path)
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ...: all mean "unreadable"
        raise RegionError(f"cannot be read as a vector file ({exc})", path) from exc
    fields = [str(f) for f in meta["fields"]]
    data = dict(zip(fields, values))
    if wkb is None or len(wkb) == 0:
        raise RegionError("holds no features (no regions to read)", path)
    geoms, repaired = _check_geometries(path, shapely.from_wkb(wkb))
    layer_meta = info.get("layer_metadata") or {}
    stored = _stored_classes(layer_meta)
    field_name = _class_field(path, fields, class_field)
    class_ids, classes = _classes(path, data, field_name, stored)
    region_ids = np.asarray(data["region_id"], np.int64) if "region_id" in data else np.arange(1, len(geoms) + 1)
    if len(np.unique(region_ids)) != len(region_ids) or (region_ids < 1).any():
        region_ids = np.arange(1, len(geoms) + 1)  # a foreign region_id field that is not a usable key
    notes = [f"{repaired} invalid polygon(s) repaired (shapely make_valid)"] if repaired else []
    return RegionFile(
        path,
        geoms,
        class_ids,
        region_ids,
        classes,
        meta.get("crs"),
        layer_meta.get(SPACE_KEY) == "pixel",
        field_name,
        repaired,
        notes,
    )


def load_regions(path: str | Path, scene, class_field: Optional[str] = None) -> RegionSet:
    """:func:`read_regions` and :meth:`RegionFile.to_scene` in one call."""
    return read_regions(path, class_field).to_scene(scene)


def write_regions(path: str | Path, regions: RegionSet, scene) -> Path:
    """Write ``regions`` of ``scene`` as a GeoPackage, with a QGIS style ``<stem>.qml`` beside it.

    Georeferenced scenes: map coordinates in the scene's CRS. A scene without a CRS: pixel
    coordinates (column, row), no CRS, and the layer description says so. Written atomically: an
    interrupted save leaves the previous file as it was.

    Raises
    ------
    RegionError
        No regions, or the file cannot be written.
    """
    import pyogrio.raw

    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise RegionError("regions are saved as a GeoPackage; give a name ending in .gpkg", path)
    items = regions.regions
    if not items:
        raise RegionError("there are no regions to save; draw some first", path)
    pixel = scene.crs is None
    geoms = np.array([r.geometry for r in items], dtype=object)
    if not pixel:
        geoms = _affine(geoms, scene.transform or Affine.identity())
    by_id = {c.class_id: c for c in regions.classes}
    fields = ["region_id", "class_id", "class_name", "class_color"]
    values = [
        np.array([r.region_id for r in items], np.int64),
        np.array([r.class_id for r in items], np.int64),
        np.array([by_id[r.class_id].name for r in items], dtype=object),
        np.array([_hex(by_id[r.class_id].color) for r in items], dtype=object),
    ]
    description = PIXEL_DESCRIPTION if pixel else f"hsiviewer training regions of {scene.name}"
    layer_meta = {
        CLASSES_KEY: json.dumps([{"id": c.class_id, "name": c.name, "color": list(c.color)} for c in regions.classes]),
        SPACE_KEY: "pixel" if pixel else "map",
    }
    try:
        with atomic_path(path, suffix=".gpkg") as tmp, atomic_path(path.with_suffix(".qml"), suffix=".part") as qml:
            tmp.unlink()  # a GeoPackage is created by the driver, not in an existing empty file
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "no crs": on purpose for pixel space
                pyogrio.raw.write(
                    tmp,
                    shapely.to_wkb(geoms),
                    values,
                    fields,
                    layer=LAYER,
                    driver="GPKG",
                    geometry_type="Unknown",
                    crs=None if pixel else scene.crs.to_wkt(),
                    layer_options={"DESCRIPTION": description},
                    layer_metadata=layer_meta,
                )
            qml.write_text(region_style(regions.classes), encoding="utf-8")
    except RegionError:
        raise
    except ExportError as exc:  # from atomic_path: the folder is missing or not writable
        raise RegionError(exc.problem, path) from exc
    except OSError as exc:
        raise RegionError(f"cannot be written ({exc.strerror or exc})", path) from exc
    except Exception as exc:  # GDAL write errors come as pyogrio's own exception types
        raise RegionError(f"cannot be written ({exc})", path) from exc
    return path


# --- reading helpers ------------------------------------------------------------------------------------
def _check_geometries(path: Path, geoms: np.ndarray) -> tuple[np.ndarray, int]:
    missing = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if len(missing):
        raise RegionError(f"{len(missing)} feature(s) have no geometry (features {_list(missing + 1)})", path)
    kinds = shapely.get_type_id(geoms)
    names = np.array(
        [
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
        ]
    )[kinds]
    lines = np.flatnonzero(np.isin(names, ["LineString", "LinearRing", "MultiLineString", "GeometryCollection"]))
    if len(lines):
        raise RegionError(
            f"holds lines ({names[lines[0]]}, features {_list(lines + 1)}); training regions must "
            "be polygons or points",
            path,
        )
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    geoms = geoms.copy()
    for i in invalid:
        geoms[i] = _polygonal(shapely.make_valid(geoms[i]))
        if geoms[i].is_empty:
            raise RegionError(f"feature {i + 1} is an invalid polygon with no area left after repair", path)
    if geoms.dtype != object:
        geoms = geoms.astype(object)
    return geoms, len(invalid)


def _polygonal(geom):
    """The polygons of a repaired geometry (make_valid may add stray lines or points)."""
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in _POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _class_field(path: Path, fields: list[str], wanted: Optional[str]) -> str:
    if wanted is not None:
        if wanted not in fields:
            raise RegionError(
                f"has no attribute '{wanted}' for the class; its attributes are: {', '.join(fields) or '(none)'}", path
            )
        return wanted
    lower = {f.lower(): f for f in fields}
    for name in CLASS_FIELDS:
        if name in lower:
            return lower[name]
    raise RegionError(
        "has no class attribute (looked for " + ", ".join(CLASS_FIELDS) + "); choose one of: "
        f"{', '.join(fields) or '(none)'}",
        path,
    )


def _classes(path: Path, data: dict, field_name: str, stored: list[RegionClass]):
    """(class id per feature, class list) from the class attribute (names or integer ids)."""
    raw = data[field_name]
    missing = np.array([_is_missing(v) for v in raw], bool)
    if missing.any():
        raise RegionError(
            f"{int(missing.sum())} feature(s) have no value in the class attribute '{field_name}' "
            f"(features {_list(np.flatnonzero(missing) + 1)})",
            path,
        )
    colors = data.get("class_color")
    if np.issubdtype(np.asarray(raw).dtype, np.integer) or _all_integers(raw):
        ids = np.asarray([int(v) for v in raw], np.int64)
        if (ids < 1).any() or (ids > 65535).any():
            raise RegionError(f"class ids in '{field_name}' must be between 1 and 65535", path)
        names = data.get("class_name")
        known = {c.class_id: c for c in stored}
        for i, cid in enumerate(ids):
            if int(cid) not in known:
                name = str(names[i]) if names is not None and not _is_missing(names[i]) else f"Class {cid}"
                known[int(cid)] = RegionClass(int(cid), name, _color(colors, i, int(cid)))
        return ids, sorted(known.values(), key=lambda c: c.class_id)
    names = [str(v).strip() for v in raw]
    by_name = {c.name: c for c in stored}
    ids_given = data.get("class_id") if field_name == "class_name" else None
    next_id = max([c.class_id for c in stored], default=0) + 1
    ids = np.zeros(len(names), np.int64)
    for i, name in enumerate(names):
        if name not in by_name:
            cid = int(ids_given[i]) if ids_given is not None and not _is_missing(ids_given[i]) else next_id
            if any(c.class_id == cid for c in by_name.values()):
                cid = next_id
            by_name[name] = RegionClass(cid, name, _color(colors, i, cid))
            next_id = max(next_id, cid + 1)
        ids[i] = by_name[name].class_id
    return ids, sorted(by_name.values(), key=lambda c: c.class_id)


def _stored_classes(layer_meta: dict) -> list[RegionClass]:
    text = layer_meta.get(CLASSES_KEY)
    if not text:
        return []
    try:
        return [RegionClass(int(e["id"]), str(e["name"]), _rgb(e["color"])) for e in json.loads(text)]
    except (ValueError, KeyError, TypeError):
        return []  # a damaged class list: fall back to the attributes


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _all_integers(values) -> bool:
    with contextlib.suppress(TypeError, ValueError):
        return all(float(v) == int(float(v)) and not isinstance(v, str) for v in values)
    return False


def _color(colors, i: int, class_id: int) -> tuple[int, int, int]:
    if colors is not None and isinstance(colors[i], str) and len(colors[i].strip()) == 7:
        with contextlib.suppress(ValueError):
            text = colors[i].strip().lstrip("#")
            return _rgb(int(text[k : k + 2], 16) for k in (0, 2, 4))
    return default_color(class_id)


def _rgb(values) -> tuple[int, int, int]:
    """The first three of ``values`` as an (r, g, b) tuple of ints."""
    r, g, b = (int(v) for v in list(values)[:3])
    return (r, g, b)


# --- coordinates --------------------------------------------------------------------------------------------
def _affine(geoms: np.ndarray, transform: Affine) -> np.ndarray:
    """Apply an affine (pixel <-> map) to every coordinate of every geometry in one vectorised call."""
    t = transform

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = coords[:, 0], coords[:, 1]
        return np.column_stack([t.a * x + t.b * y + t.c, t.d * x + t.e * y + t.f])

    return np.asarray(shapely.transform(np.asarray(geoms, dtype=object), move), dtype=object)


def _reproject(geoms: np.ndarray, src, dst, path: Path) -> np.ndarray:
    """Reproject all coordinates in one vectorised call of :func:`rasterio.warp.transform`."""
    from rasterio.crs import CRS
    from rasterio.errors import CRSError
    from rasterio.warp import transform as warp

    try:
        src_crs, dst_crs = CRS.from_user_input(src), CRS.from_user_input(dst)
    except CRSError as exc:
        raise RegionError(f"its coordinate reference system cannot be understood ({exc})", path) from exc
    if src_crs == dst_crs:
        return geoms

    def move(coords: np.ndarray) -> np.ndarray:
        if not len(coords):
            return coords
        try:
            xs, ys = warp(src_crs, dst_crs, coords[:, 0], coords[:, 1])
        except Exception as exc:  # rasterio/GDAL errors of several types
            raise RegionError(f"cannot be transformed from {_crs_name(src)} to {_crs_name(dst)} ({exc})", path) from exc
        out = np.column_stack([xs, ys])
        if not np.isfinite(out).all():
            raise RegionError(
                f"cannot be transformed from {_crs_name(src)} to {_crs_name(dst)}: some coordinates "
                "fall outside where that transformation is defined",
                path,
            )
        return out

    return np.asarray(shapely.transform(geoms, move), dtype=object)


def _crs_name(crs) -> str:
    from rasterio.crs import CRS

    with contextlib.suppress(Exception):
        c = CRS.from_user_input(crs)
        epsg = c.to_epsg()
        return f"EPSG:{epsg}" if epsg else (c.to_dict().get("proj", "a custom CRS"))
    return str(crs)[:60]


def _hex(color) -> str:
    return "#{:02x}{:02x}{:02x}".format(*[int(v) for v in color[:3]])


def _list(numbers) -> str:
    numbers = [int(n) for n in numbers]
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")
