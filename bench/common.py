"""What the benchmark scripts share: finding Indian Pines, cropping it, and printing tables.

Each script in ``bench/`` measures a new path and its baseline in the same run and prints both with
their ratio. Run them from anywhere: ``python bench/bench_predict.py --quick``.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from hsiviewer import open_scene  # noqa: E402
from hsiviewer.data.scene import Scene  # noqa: E402
from hsiviewer.io.numpy_io import scene_from_array  # noqa: E402

#: Where Indian Pines is looked for, in order: the shared data beside the checkout, then the demo copy.
INDIAN_PINES = (
    REPO.parent / "shared" / "data" / "indian_pines" / "indian_pines.npz",
    REPO / "resources" / "indian_pines" / "indian_pines.npz",
)

#: The settings of the HybridSN study (Roy et al. 2020) on Indian Pines.
STUDY = {"pca_components": 30, "patch_size": 25, "train_fraction": 0.1, "lr": 1e-3, "batch_size": 128}


def indian_pines(path: Optional[str] = None) -> Scene:
    """The Indian Pines scene with its ground truth (``path`` or the first of :data:`INDIAN_PINES`)."""
    candidates = [Path(path)] if path else [p for p in INDIAN_PINES if p.exists()]
    if not candidates:
        sys.exit("Indian Pines not found in " + " or ".join(str(p) for p in INDIAN_PINES))
    return open_scene(candidates[0])


def crop(scene: Scene, rows: int, cols: int, top: int = 0, left: int = 0) -> Scene:
    """An in-memory crop of ``scene`` (with its labels and class names)."""
    cube = scene.read_subregion(slice(top, top + rows), slice(left, left + cols))
    labels = None if scene.labels is None else scene.labels[top : top + rows, left : left + cols].copy()
    meta = {
        "wavelengths": scene.wavelengths,
        "classes": scene.classes.to_dict()["classes"] if scene.classes is not None else None,
    }
    return scene_from_array(None, np.ascontiguousarray(cube), labels, meta)


def machine() -> dict:
    """A short description of where the figures were measured."""
    import torch

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_json(path: Optional[str], data: dict) -> None:
    """Write ``data`` as indented JSON when ``path`` is given."""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(data, indent=2, default=_default), encoding="utf-8")
        print(f"wrote {path}")


def _default(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
