"""Where the shipped demo scene and model plugins are, in a checkout and in an installed wheel."""
from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """The folder holding the shipped data (``resources/``)."""
    try:
        import hsiviewer_resources
        return Path(hsiviewer_resources.__file__).resolve().parent
    except ImportError:
        return _CHECKOUT / "resources"


def shipped_plugins_dir() -> Path:
    """The folder holding the shipped model plugins (``plugins/``)."""
    try:
        import hsiviewer_plugins
        return Path(hsiviewer_plugins.__file__).resolve().parent
    except ImportError:
        return _CHECKOUT / "plugins"


def demo_scene_path() -> Path:
    """The bundled Indian Pines scene (cube, labels, wavelengths and class names)."""
    return resources_dir() / "indian_pines" / "indian_pines.npz"
