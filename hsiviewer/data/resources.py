"""Where the shipped demo scene and model plugins are, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
# Running from a source tree (a checkout, a git worktree): its own resources/ and plugins/ belong to this
# code, even when another checkout's editable install provides hsiviewer_resources on sys.path.
_FROM_SOURCE = (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "resources" / "__init__.py").is_file()


def resources_dir() -> Path:
    """The folder holding the shipped data (``resources/``)."""
    if _FROM_SOURCE:
        return _CHECKOUT / "resources"
    try:
        import hsiviewer_resources

        return Path(hsiviewer_resources.__file__).resolve().parent
    except ImportError:
        return _CHECKOUT / "resources"


def shipped_plugins_dir() -> Path:
    """The folder holding the shipped model plugins (``plugins/``)."""
    if _FROM_SOURCE:
        return _CHECKOUT / "plugins"
    try:
        import hsiviewer_plugins

        return Path(hsiviewer_plugins.__file__).resolve().parent
    except ImportError:
        return _CHECKOUT / "plugins"


def demo_scene_path() -> Path:
    """The bundled Indian Pines scene (cube, labels, wavelengths and class names)."""
    return resources_dir() / "indian_pines" / "indian_pines.npz"
