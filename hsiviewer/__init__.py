"""hsiviewer: view, classify and export hyperspectral images.

The core (this package minus :mod:`hsiviewer.gui`) imports no Qt and works in a notebook::

    import hsiviewer
    scene = hsiviewer.open_scene("cube.hdr")
    scene.spectrum(10, 20)
    model = hsiviewer.train_model(scene, hsiviewer.TrainConfig(model="hybridsn"))

The learning functions (``train_model``, ``predict_scene``, model files) are imported on first use, so that
``import hsiviewer`` and the viewer do not load PyTorch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from hsiviewer.data.classes import ClassTable
from hsiviewer.data.resources import demo_scene_path
from hsiviewer.data.scene import Scene
from hsiviewer.errors import HsiError
from hsiviewer.io import open_labels, open_scene

__version__ = "0.1.0"

#: Public names loaded on first use, and the module that defines each.
_LAZY = {
    "TrainConfig": "hsiviewer.engine.training",
    "train_model": "hsiviewer.engine.training",
    "predict_scene": "hsiviewer.engine.inference",
    "save_model": "hsiviewer.engine.bundle",
    "load_model": "hsiviewer.engine.bundle",
    "write_class_map": "hsiviewer.io.export",
    "write_confidence_map": "hsiviewer.io.export",
    "read_regions": "hsiviewer.regions.vector",
}

__all__ = ["open_scene", "open_labels", "Scene", "ClassTable", "HsiError", "demo_scene_path", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hsiviewer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
