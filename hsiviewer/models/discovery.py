"""Finding model plugins: the shipped folder, the user folder, ``HSIVIEWER_PLUGIN_PATH`` and entry points.

Every ``*.py`` file (not starting with ``_``) of a plugin folder is imported by path under its own
module name, so two folders may hold files with the same name. A file that fails to import is
recorded with its traceback and skipped; the others still load.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import threading
import traceback
import types
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from hsiviewer.data.resources import shipped_plugins_dir
from hsiviewer.models.registry import SPEC_ATTR, Registry, adopt_as_default, collecting
from hsiviewer.models.spec import ModelSpec

ENV_VAR = "HSIVIEWER_PLUGIN_PATH"
ENTRY_POINT_GROUP = "hsiviewer.models"

_LOCK = threading.RLock()
_DEFAULT: Registry | None = None


def user_plugin_dir() -> Path:
    """The per-user plugin folder.

    ``$XDG_DATA_HOME/hsiviewer/plugins`` (default ``~/.local/share/hsiviewer/plugins``) on Linux
    and other Unixes, ``~/Library/Application Support/hsiviewer/plugins`` on macOS and
    ``%APPDATA%\\hsiviewer\\plugins`` on Windows.
    """
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "hsiviewer" / "plugins"


def env_plugin_dirs() -> list[Path]:
    """The folders (or single ``.py`` files) listed in ``HSIVIEWER_PLUGIN_PATH``."""
    value = os.environ.get(ENV_VAR, "")
    return [Path(part).expanduser() for part in value.split(os.pathsep) if part.strip()]


def load_registry(
    extra_dirs: Iterable[str | os.PathLike] = (), use_entry_points: bool = True, include_user_dirs: bool = True
) -> Registry:
    """Import every model plugin into a new :class:`Registry`.

    Sources, in this order (on a duplicate name the first one wins): the shipped ``plugins/``
    folder, the user folder (:func:`user_plugin_dir`), the folders in ``HSIVIEWER_PLUGIN_PATH``
    (``os.pathsep``-separated), ``extra_dirs``, then the entry points of group ``hsiviewer.models``.

    Parameters
    ----------
    extra_dirs : iterable of path
        More plugin folders (or single ``.py`` files).
    use_entry_points : bool
        Also load the ``hsiviewer.models`` entry points of installed packages.
    include_user_dirs : bool
        Also search the user folder.

    Returns
    -------
    Registry
        The models, and in ``errors`` every plugin that failed with its traceback.
    """
    registry = Registry()
    places: list[tuple[Path, bool]] = [(shipped_plugins_dir(), True)]
    if include_user_dirs:
        places.append((user_plugin_dir(), False))
    places += [(p, True) for p in env_plugin_dirs()]
    places += [(Path(p).expanduser(), True) for p in extra_dirs]
    with _LOCK:
        seen: set[Path] = set()
        for place, must_exist in places:
            resolved = place.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            _load_place(registry, place, must_exist)
        if use_entry_points:
            _load_entry_points(registry)
    return registry


def default_registry(reload: bool = False) -> Registry:
    """The registry of all plugins, loaded once per process (again when ``reload``)."""
    global _DEFAULT
    with _LOCK:
        if _DEFAULT is None or reload:
            _DEFAULT = adopt_as_default(load_registry())
        return _DEFAULT


def _load_place(registry: Registry, place: Path, must_exist: bool) -> None:
    if place.is_file():
        _load_file(registry, place)
        return
    if not place.is_dir():
        if must_exist:
            registry.record(str(place), "plugin folder does not exist")
        return
    registry.folders.append(str(place))
    for path in sorted(place.glob("*.py")):
        if not path.name.startswith("_"):
            _load_file(registry, path)


def _module_name(path: Path) -> str:
    stem = re.sub(r"\W", "_", path.stem)
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    return f"hsiviewer_plugin_{stem}_{digest}"


def _load_file(registry: Registry, path: Path) -> None:
    """Import one plugin file by path; add what it registers only when the whole import succeeds."""
    name = _module_name(path)
    source = str(path)
    with collecting(source) as specs:
        try:
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                registry.record(source, "cannot be imported as a Python file")
                return
            module = importlib.util.module_from_spec(spec)
            # Registered before executing, as a normal import does: dataclasses and pickling look it up.
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as exc:
            sys.modules.pop(name, None)
            registry.record(source, _describe(exc), traceback.format_exc())
            return
    for model in specs:
        registry.add(model)


def _load_entry_points(registry: Registry) -> None:
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        source = f"entry point {ep.name}"
        with collecting(source) as specs:
            try:
                target = ep.load()
                found = _specs_of(target)
                if not found and not isinstance(target, types.ModuleType) and callable(target):
                    target()  # a registering function: its register_model calls land in `specs`
            except (Exception, SystemExit) as exc:
                registry.record(source, _describe(exc), traceback.format_exc())
                continue
        # An entry-point module imported before (by another registry, or by user code) is not
        # executed again, so its specs are also found on the decorated builders it holds.
        unique = {id(s): s for s in [*specs, *found]}
        for model in unique.values():
            if model.source != source:
                model = _with_source(model, source)
            registry.add(model)


def _specs_of(target: object) -> list[ModelSpec]:
    if isinstance(target, types.ModuleType):
        values: Iterable[object] = vars(target).values()
    else:
        values = [target]
    return [getattr(v, SPEC_ATTR) for v in values if isinstance(getattr(v, SPEC_ATTR, None), ModelSpec)]


def _with_source(spec: ModelSpec, source: str) -> ModelSpec:
    return ModelSpec(
        name=spec.name,
        description=spec.description,
        input_kind=spec.input_kind,
        defaults=dict(spec.defaults),
        builder=spec.builder,
        version=spec.version,
        source=source,
        framework=spec.framework,
        dense=spec.dense,
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"syntax error at line {exc.lineno}: {exc.msg}"
    return f"failed to import: {type(exc).__name__}: {exc}"
