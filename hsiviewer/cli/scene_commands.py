"""Scene commands: ``gui``, ``info`` and ``export-map``.

Nothing heavy is imported at module level: the viewer (Qt) is imported by the ``gui`` handler
only, so ``hsiviewer info`` runs on a machine without a display.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

import numpy as np

from hsiviewer.errors import HsiError, SceneReadError

GUI_MODULES = ("PySide6", "shiboken6", "pyqtgraph")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the scene commands to the ``hsiviewer`` sub-parsers."""
    p = sub.add_parser("gui", help="open the viewer (on the bundled Indian Pines scene by default)")
    p.add_argument("scene", nargs="?", help="hyperspectral scene to open (default: the demo scene)")
    p.add_argument("--labels", help="ground-truth or class-map raster to show over the scene")
    p.add_argument(
        "--screenshot", metavar="OUT.png", help="draw the window once, save it as a PNG and quit (for checks and docs)"
    )
    p.set_defaults(handler=run_gui)

    p = sub.add_parser("info", help="print the size, bands, georeferencing and classes of a scene")
    p.add_argument("scene")
    p.add_argument("--labels", help="ground-truth raster whose classes to count")
    p.add_argument("--variable", help="for .mat / .npz scenes: the name of the variable holding the cube")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=run_info)

    p = sub.add_parser("export-map", help="write a label raster as a GIS-ready class-map GeoTIFF")
    p.add_argument("labels", help="label or class-map raster (.npy, .mat, .tif, ENVI classification)")
    p.add_argument(
        "--like", required=True, metavar="SCENE", help="scene whose georeferencing to copy (its size must match)"
    )
    p.add_argument("--out", required=True, metavar="MAP.tif", help="GeoTIFF to write")
    p.set_defaults(handler=run_export_map)


# --- handlers -----------------------------------------------------------------------------------
def run_gui(args: argparse.Namespace) -> int:
    """Open the viewer; returns its exit code."""
    from hsiviewer import demo_scene_path

    scene = Path(args.scene) if args.scene else demo_scene_path()
    for path in (scene, args.labels):
        if path is not None and not Path(path).exists():
            raise SceneReadError("no such file", path)
    try:
        from hsiviewer.gui.app import run_app
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in GUI_MODULES:
            raise HsiError(f"the viewer cannot start: {exc} (install hsiviewer with its GUI dependencies)") from exc
        raise
    return int(run_app(str(scene), args.labels, args.screenshot) or 0)


def run_info(args: argparse.Namespace) -> int:
    """Print what :func:`scene_info` finds, as text or JSON."""
    from hsiviewer import open_scene

    scene = open_scene(args.scene, labels=args.labels, variable=args.variable)
    info = scene_info(scene)
    print(json.dumps(json_safe(info), indent=2, allow_nan=False) if args.json else format_info(info))
    return 0


def run_export_map(args: argparse.Namespace) -> int:
    """Write LABELS as a class-map GeoTIFF georeferenced like the ``--like`` scene."""
    from hsiviewer import open_labels, open_scene
    from hsiviewer.io.export import write_class_map

    labels, classes = open_labels(args.labels)
    scene = open_scene(args.like)
    if labels.shape != scene.shape[:2]:
        raise SceneReadError(
            f"labels are {labels.shape[0]} x {labels.shape[1]} but the scene "
            f"{args.like} is {scene.n_rows} x {scene.n_cols}",
            args.labels,
        )
    out = write_class_map(args.out, labels, classes, like=scene)
    n_classes = len(({int(i) for i in np.unique(labels)} | set(classes.ids)) - {0})
    where = crs_summary(scene.crs) if scene.crs is not None else "not georeferenced"
    print(f"wrote {out} ({n_classes} classes, {labels.shape[0]} x {labels.shape[1]}, {where})")
    print(f"class names in {out.name}.aux.xml, QGIS style in {out.with_suffix('.qml').name}")
    return 0


# --- scene summary --------------------------------------------------------------------------------
def scene_info(scene) -> dict[str, Any]:
    """A JSON-ready summary of ``scene``: shape, type, bands, georeferencing and classes."""
    bad = [int(i) + 1 for i in np.flatnonzero(scene.bad_bands)]
    wl = scene.wavelengths
    info: dict[str, Any] = {
        "path": str(scene.path) if scene.path is not None else None,
        "shape": list(scene.shape),
        "dtype": scene.dtype.name,
        "interleave": scene.interleave,
        "wavelength_range_nm": _finite_range(wl),
        "bad_bands": {"count": len(bad), "bands": bad},
        "crs": crs_summary(scene.crs) if scene.crs is not None else None,
        "transform": [float(v) for v in tuple(scene.transform)[:6]] if scene.transform is not None else None,
        "nodata": _json_number(scene.nodata),
        "classes": class_counts(scene.labels, scene.classes) if scene.labels is not None else None,
        "warnings": [str(w) for w in scene.metadata.get("warnings", [])],
    }
    return info


def _finite_range(values) -> Optional[list[float]]:
    finite = None if values is None else np.asarray(values, float)[np.isfinite(values)]
    return None if finite is None or finite.size == 0 else [float(finite.min()), float(finite.max())]


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None: JSON has no such numbers."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def class_counts(labels: np.ndarray, classes) -> list[dict[str, Any]]:
    """``[{"id", "name", "count"}]`` for every labelled class (id > 0) in the table or the raster."""
    ids = np.asarray(labels).astype(np.int64, copy=False)
    counts = np.bincount(ids[ids > 0].ravel()) if ids.size and ids.max() > 0 else np.zeros(1, np.int64)
    known = set(classes.ids) if classes is not None else set()
    present = {int(i) for i in np.flatnonzero(counts)}
    rows = []
    for class_id in sorted((known | present) - {0}):
        name = classes.name(class_id) if classes is not None else f"Class {class_id}"
        count = int(counts[class_id]) if class_id < counts.size else 0
        rows.append({"id": class_id, "name": name, "count": count})
    return rows


def crs_summary(crs) -> str:
    """``"EPSG:32633"`` when the CRS has an EPSG code, else its name from the WKT."""
    to_epsg = getattr(crs, "to_epsg", None)
    code = to_epsg() if to_epsg is not None else None
    if code:
        return f"EPSG:{code}"
    wkt = crs.to_wkt() if hasattr(crs, "to_wkt") else str(crs)
    match = re.match(r'\s*\w+\["([^"]+)"', wkt)
    return f"{match.group(1)} (WKT, no EPSG code)" if match else wkt[:80]


def compact_ranges(numbers: Iterable[int]) -> str:
    """``[1, 2, 3, 7, 9, 10]`` -> ``"1-3, 7, 9-10"``."""
    values = sorted(set(int(n) for n in numbers))
    parts, start = [], None
    for i, value in enumerate(values):
        if start is None:
            start = value
        if i + 1 == len(values) or values[i + 1] != value + 1:
            parts.append(str(start) if start == value else f"{start}-{value}")
            start = None
    return ", ".join(parts)


def format_info(info: dict[str, Any]) -> str:
    """The text ``hsiviewer info`` prints."""
    rows, cols, bands = info["shape"]
    wl = info["wavelength_range_nm"]
    bad = info["bad_bands"]
    lines = [
        ("scene", info["path"] or "(in memory)"),
        ("shape", f"{rows} x {cols} x {bands} (rows x cols x bands)"),
        ("dtype", info["dtype"]),
        ("interleave", info["interleave"]),
        ("wavelengths", f"{wl[0]:.1f}-{wl[1]:.1f} nm" if wl else "unknown"),
        ("bad bands", f"{bad['count']} ({compact_ranges(bad['bands'])})" if bad["count"] else "0"),
        ("crs", info["crs"] or "none"),
        ("transform", ", ".join(f"{v:.10g}" for v in info["transform"]) if info["transform"] else "none"),
        ("nodata", "none" if info["nodata"] is None else str(info["nodata"])),
    ]
    text = [f"{key:<12}{value}" for key, value in lines]
    classes = info["classes"]
    if classes is not None:
        total = sum(c["count"] for c in classes)
        text.append(f"{'classes':<12}{len(classes)} ({total} labelled pixels)")
        width = max([len(c["name"]) for c in classes] + [4])
        text.append(f"  {'id':>4}  {'name':<{width}}  {'pixels':>8}")
        text += [f"  {c['id']:>4}  {c['name']:<{width}}  {c['count']:>8}" for c in classes]
    for warning in info.get("warnings") or []:  # what the reader assumed or dropped
        text.append(f"{'warning':<12}{warning}")
    return "\n".join(text)


def _json_number(value: Optional[float]) -> Any:
    # JSON has no NaN: a NaN nodata value is written as the string "nan".
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return "nan"
    return int(value) if value.is_integer() else value
