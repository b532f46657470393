"""The registry of model architectures and the ``register_model`` decorator plugins use.

While :func:`hsiviewer.models.load_registry` imports a plugin, the registry being loaded is the
"current" one (per thread), so a plugin file only decorates its builders. A decorator run outside
loading (a notebook, a script) registers into :func:`hsiviewer.models.default_registry`.
"""

from __future__ import annotations

import contextlib
import threading
import traceback as tb
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hsiviewer.errors import PluginError
from hsiviewer.models.spec import InputKind, ModelSpec

#: Attribute set on a decorated builder; entry points that name a builder are recognised by it.
SPEC_ATTR = "hsiviewer_spec"


@dataclass(frozen=True)
class PluginLoadError:
    """A plugin that could not be loaded, or a model that failed its check.

    Attributes
    ----------
    source : str
        The plugin file, folder or ``entry point NAME``.
    message : str
        The problem in plain words.
    traceback : str
        The Python traceback, or an empty string when there is none.
    """

    source: str
    message: str
    traceback: str = ""

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


class Registry:
    """Registered architectures by name, and the errors met while loading them.

    Attributes
    ----------
    specs : dict
        Name -> :class:`ModelSpec`, in registration order.
    errors : list of PluginLoadError
        Plugins that failed to import, duplicate names, models that failed :meth:`check`.
    folders : list of str
        The plugin folders that were searched.
    """

    def __init__(self) -> None:
        self.specs: dict[str, ModelSpec] = {}
        self.errors: list[PluginLoadError] = []
        self.folders: list[str] = []
        self._checked: dict[str, PluginLoadError | None] = {}

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    def __len__(self) -> int:
        return len(self.specs)

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self.specs.values())

    def __repr__(self) -> str:
        return f"Registry({', '.join(self.names())}; {len(self.errors)} error(s))"

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self.specs)

    def get(self, name: str) -> ModelSpec:
        """The spec called ``name``.

        Raises
        ------
        PluginError
            No such model; the message lists the known ones.
        """
        try:
            return self.specs[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise PluginError(f"unknown model '{name}'; known models: {known}") from None

    def add(self, spec: ModelSpec) -> bool:
        """Register ``spec``; a name already taken is refused and recorded in :attr:`errors`.

        Returns
        -------
        bool
            True when the spec was added.
        """
        first = self.specs.get(spec.name)
        if first is not None:
            self.errors.append(
                PluginLoadError(
                    spec.source,
                    f"model name '{spec.name}' is already registered by {first.source}; "
                    f"the one from {spec.source} is ignored",
                )
            )
            return False
        self.specs[spec.name] = spec
        return True

    def record(self, source: str, message: str, traceback: str = "") -> PluginLoadError:
        """Add an error to :attr:`errors` and return it."""
        error = PluginLoadError(str(source), message, traceback)
        self.errors.append(error)
        return error

    def check(self, name: str) -> PluginLoadError | None:
        """Build the model at its defaults (3 classes) and run it on random data.

        A dense model's ``forward_dense`` is also compared with its per-patch ``forward``.
        The result is remembered; a failure is added to :attr:`errors` once.

        Returns
        -------
        PluginLoadError or None
            The failure, or None when the model works.
        """
        if name in self._checked:
            return self._checked[name]
        spec = self.get(name)
        from hsiviewer.models.checks import smoke_test

        try:
            smoke_test(spec)
            error = None
        except Exception as exc:  # a plugin may fail in any way; report it, do not crash
            error = self.record(spec.source, f"model '{name}' failed its check: {exc}", tb.format_exc())
        self._checked[name] = error
        return error

    def check_all(self) -> list[PluginLoadError]:
        """:meth:`check` every model; returns the failures."""
        return [e for e in (self.check(n) for n in self.names()) if e is not None]


# --- the registry being loaded ----------------------------------------------------------------
class _Loading(threading.local):
    def __init__(self) -> None:
        self.stack: list[tuple[list[ModelSpec], str]] = []


_LOADING = _Loading()


@contextlib.contextmanager
def collecting(source: str) -> Iterator[list[ModelSpec]]:
    """Collect the specs that ``register_model`` sees while a plugin from ``source`` is imported.

    The caller adds them to its registry only when the import succeeded, so a plugin that fails
    half-way registers nothing.
    """
    specs: list[ModelSpec] = []
    _LOADING.stack.append((specs, str(source)))
    try:
        yield specs
    finally:
        _LOADING.stack.pop()


def register_model(
    name: str,
    *,
    description: str,
    input_kind: InputKind | str,
    defaults: Mapping[str, Any],
    version: str = "1.0",
    framework: str = "torch",
    dense: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering a builder ``(in_bands, n_classes, patch_size, **hyper) -> model``.

    Parameters
    ----------
    name : str
        Unique model name.
    description : str
        One line shown in listings.
    input_kind : InputKind or str
        ``"cube"`` (N, 1, C, S, S), ``"patch"`` (N, C, S, S) or ``"spectrum"`` (N, C).
    defaults : mapping
        Must hold ``patch_size`` and ``pca_components``, plus the builder's keyword arguments.
    version : str
        Plugin version, saved with trained models.
    framework : str
        ``"torch"`` (the builder returns an ``nn.Module`` giving logits) or ``"sklearn"`` (an
        unfitted estimator).
    dense : bool
        The module has an exact ``forward_dense`` over a whole padded scene.

    Returns
    -------
    callable
        The decorator; it returns the builder unchanged, with the spec as ``builder.hsiviewer_spec``.

    Raises
    ------
    PluginError
        An invalid declaration (the plugin is then reported as broken).
    """

    def decorate(builder: Callable[..., Any]) -> Callable[..., Any]:
        source = _LOADING.stack[-1][1] if _LOADING.stack else _code_file(builder)
        spec = ModelSpec(
            name=name,
            description=description,
            input_kind=input_kind,  # type: ignore[arg-type]  # checked and converted by validate
            defaults=dict(defaults),
            builder=builder,
            version=version,
            source=source,
            framework=framework,
            dense=dense,
        )
        setattr(builder, SPEC_ATTR, spec)
        if _LOADING.stack:
            _LOADING.stack[-1][0].append(spec)
        else:
            _register_outside_loading(spec)
        return builder

    return decorate


def _code_file(builder: Callable[..., Any]) -> str:
    code = getattr(builder, "__code__", None)
    return code.co_filename if code is not None else repr(builder)


#: Specs registered by code run outside plugin loading (a notebook cell, a script), by name. They join the
#: default registry when :mod:`.discovery` creates it, and at once when it already exists. Kept here, below
#: discovery, so that this module never imports it (discovery builds on the registry, not the reverse).
_OUTSIDE: dict[str, ModelSpec] = {}
_DEFAULT_HOLDER: list[Registry] = []


def adopt_as_default(registry: Registry) -> Registry:
    """Make ``registry`` the one that builders registered outside plugin loading go to, and add those
    registered so far (called by :func:`hsiviewer.models.discovery.default_registry`)."""
    _DEFAULT_HOLDER[:] = [registry]
    for spec in _OUTSIDE.values():
        _add_outside(registry, spec)
    return registry


def _register_outside_loading(spec: ModelSpec) -> None:
    first = _OUTSIDE.get(spec.name)
    if first is not None and first.source != spec.source:
        raise PluginError(f"model name '{spec.name}' is already registered by {first.source}")
    if _DEFAULT_HOLDER:
        _add_outside(_DEFAULT_HOLDER[0], spec)
    _OUTSIDE[spec.name] = spec


def _add_outside(registry: Registry, spec: ModelSpec) -> None:
    first = registry.specs.get(spec.name)
    if first is not None and first.source != spec.source:
        raise PluginError(f"model name '{spec.name}' is already registered by {first.source}")
    # Re-running the same notebook cell or script replaces its own earlier definition.
    registry.specs[spec.name] = spec
    registry._checked.pop(spec.name, None)
