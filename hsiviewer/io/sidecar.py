"""JSON sidecars: metadata that a format cannot hold (``<stem>.json`` beside the file).

Keys, all optional: ``wavelengths`` and ``fwhm`` (nm), ``bad_bands`` (list of bools, True = bad),
``band_names``, ``default_bands`` (three 0-based indices), ``nodata``, ``description``, and
``classes`` (``[{"id", "name", "color"}]``, see :class:`~hsiviewer.data.classes.ClassTable`).

Each field is checked on its own, and a wrong one is refused with a message naming it: a sidecar
is written by hand, and a typo must not become a traceback or a silently wrong scene.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Optional

from hsiviewer.errors import SceneReadError

#: The largest class id (class maps are uint16).
MAX_CLASS_ID = 65535


def sidecar_path(path: Path) -> Path:
    """``<stem>.json`` beside ``path``."""
    return path.with_suffix(".json")


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar of ``path`` as a dict ({} when there is none), its band-independent fields checked.

    Raises
    ------
    SceneReadError
        When it is not a regular file, not JSON, not an object, or a field is of the wrong kind.
    """
    side = sidecar_path(path)
    if side == path or not (side.exists() or side.is_symlink()):
        return {}
    if not side.is_file():  # a FIFO would block the read below
        raise SceneReadError("metadata sidecar is not a regular file (a folder, FIFO, device or broken link)", side)
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SceneReadError(f"metadata sidecar is not valid JSON ({exc})", side) from exc
    if not isinstance(data, dict):
        raise SceneReadError("metadata sidecar must hold a JSON object", side)
    check_fields(data, side)
    return data


def _fail(side: Optional[Path], field: str, problem: str, value: Any) -> None:
    shown = json.dumps(value) if _jsonable(value) else repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise SceneReadError(f"metadata field '{field}' {problem}, got {shown}", side)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_fields(meta: dict, side: Optional[Path]) -> None:
    """Check the fields that do not depend on the band count: ``nodata``, ``description``, ``classes``."""
    nodata = _plain(meta.get("nodata"))
    if nodata is not None and not _is_number(nodata):
        _fail(side, "nodata", "must be a number or null", nodata)
    for key in ("description", "source", "licence"):
        if key in meta and meta[key] is not None and not isinstance(meta[key], str):
            _fail(side, key, "must be a text", meta[key])
    classes = meta.get("classes")
    if classes is None:
        return
    if not isinstance(classes, list):
        _fail(side, "classes", 'must be a list of {"id", "name", "color"} objects', classes)
    for i, entry in enumerate(classes):
        _check_class(entry, f"classes[{i}]", side)


def _check_class(entry: Any, where: str, side: Optional[Path]) -> None:
    if not isinstance(entry, dict):
        _fail(side, where, 'must be an object with "id", "name" and "color"', entry)
    class_id = entry.get("id")
    if not (isinstance(class_id, int) and not isinstance(class_id, bool) and 0 <= class_id <= MAX_CLASS_ID):
        _fail(side, f"{where}.id", f"must be a whole number from 0 to {MAX_CLASS_ID}", class_id)
    if "name" in entry and not isinstance(entry["name"], str):
        _fail(side, f"{where}.name", "must be a text", entry["name"])
    color = entry.get("color")
    if color is not None and not (
        isinstance(color, list)
        and len(color) in (3, 4)
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in color)
    ):
        _fail(side, f"{where}.color", "must be three or four whole numbers from 0 to 255 (RGB or RGBA)", color)


def check_band_fields(meta: dict, n_bands: int, side: Optional[Path]) -> None:
    """Check the per-band fields against the scene's band count.

    ``wavelengths``/``fwhm``: ``n_bands`` finite numbers; ``bad_bands``: ``n_bands`` booleans (or
    0/1); ``band_names``: ``n_bands`` texts; ``default_bands``: three (or one) band indices in
    0..n_bands-1.

    Raises
    ------
    SceneReadError
        Naming the field, what it must be, and what it holds.
    """
    check_fields(meta, side)
    meta = {k: _plain(meta.get(k)) for k in ("wavelengths", "fwhm", "bad_bands", "band_names", "default_bands")}
    for key in ("wavelengths", "fwhm"):
        value = meta.get(key)
        if value is not None and not (
            _is_list_of(value, n_bands) and all(_is_number(v) and math.isfinite(v) for v in value)
        ):
            _fail(side, key, f"must be a list of {n_bands} finite numbers (one per band)", value)
    value = meta.get("bad_bands")
    if value is not None and not (
        _is_list_of(value, n_bands) and all(isinstance(v, bool) or v in (0, 1) for v in value)
    ):
        _fail(side, "bad_bands", f"must be a list of {n_bands} true/false values (one per band)", value)
    value = meta.get("band_names")
    if value is not None and not (_is_list_of(value, n_bands) and all(isinstance(v, str) for v in value)):
        _fail(side, "band_names", f"must be a list of {n_bands} texts (one per band)", value)
    value = meta.get("default_bands")
    if value is not None and not (
        isinstance(value, list)
        and len(value) in (1, 3)
        and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n_bands for v in value)
    ):
        _fail(side, "default_bands", f"must be three (or one) band indices from 0 to {n_bands - 1}", value)


def _plain(value: Any) -> Any:
    """NumPy arrays and tuples (from a caller, not from JSON) as the lists and numbers JSON gives."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    return list(value) if isinstance(value, tuple) else value


def _is_list_of(value: Any, n: int) -> bool:
    return isinstance(value, list) and len(value) == n
