"""JSON sidecars: metadata that a format cannot hold (``<stem>.json`` beside the file).

Keys, all optional: ``wavelengths`` and ``fwhm`` (nm), ``bad_bands`` (list of bools, True = bad),
``band_names``, ``default_bands`` (three 0-based indices), ``nodata``, ``description``, and
``classes`` (``[{"id", "name", "color"}]``, see :class:`~hsiviewer.data.classes.ClassTable`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hsiviewer.errors import SceneReadError


def sidecar_path(path: Path) -> Path:
    """``<stem>.json`` beside ``path``."""
    return path.with_suffix(".json")


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar of ``path`` as a dict ({} when there is none)."""
    side = sidecar_path(path)
    if side == path or not side.exists():
        return {}
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SceneReadError(f"metadata sidecar is not valid JSON ({exc})", side) from exc
    if not isinstance(data, dict):
        raise SceneReadError("metadata sidecar must hold a JSON object", side)
    return data
