"""What a model plugin declares: its input layout, default hyperparameters and builder.

A :class:`ModelSpec` is plain data plus two services: :meth:`ModelSpec.build` merges the defaults
with overrides (refusing unknown names) and calls the builder, and :meth:`ModelSpec.coerce` turns
text typed by a user (``--set dropout=0.5``, a GUI form field) into the type of the default.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from hsiviewer.errors import PluginError

#: Hyperparameters every spec has; they shape the data, not the network's own layers.
COMMON_KEYS = ("patch_size", "pca_components")
FRAMEWORKS = ("torch", "sklearn")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NULL = {"none", "null", ""}
_MISSING = object()


class InputKind(str, Enum):
    """The tensor layout a network takes.

    ``CUBE`` is ``(N, 1, C, S, S)`` for Conv3d networks, ``PATCH`` is ``(N, C, S, S)`` and
    ``SPECTRUM`` is ``(N, C)``, the centre pixel of the patch.
    """

    CUBE = "cube"
    PATCH = "patch"
    SPECTRUM = "spectrum"


@dataclass
class ModelSpec:
    """A registered architecture.

    Parameters
    ----------
    name : str
        Unique name (letters, digits, ``_``, ``-``, ``.``).
    description : str
        One line shown in listings.
    input_kind : InputKind
        The layout :meth:`build`'s model takes.
    defaults : dict
        ``patch_size`` (int), ``pca_components`` (int, or None for per-band standardisation only)
        and the architecture's own hyperparameters (bool, int, float, str or None values).
    builder : callable
        ``builder(in_bands, n_classes, patch_size, **hyper)`` returning a torch module that outputs
        logits, or for framework ``"sklearn"`` an unfitted estimator taking ``(N, C)`` spectra.
    version : str
        Plugin version, saved with trained models.
    source : str
        The plugin file, or ``entry point NAME``.
    framework : str
        ``"torch"`` or ``"sklearn"``.
    dense : bool
        The built module has an exact ``forward_dense`` (see the plugin contract).
    """

    name: str
    description: str
    input_kind: InputKind
    defaults: dict
    builder: Callable[..., Any]
    version: str = "1.0"
    source: str = ""
    framework: str = "torch"
    dense: bool = False

    def __post_init__(self) -> None:
        validate_fields(self)

    @property
    def hyperparameters(self) -> dict:
        """The architecture's own hyperparameters (the defaults minus ``patch_size`` and ``pca_components``)."""
        return {k: v for k, v in self.defaults.items() if k not in COMMON_KEYS}

    def resolve(self, overrides: Mapping[str, Any] | None = None) -> dict:
        """The defaults merged with typed ``overrides``.

        Parameters
        ----------
        overrides : mapping, optional
            Hyperparameter values; strings are converted with :meth:`coerce`.

        Returns
        -------
        dict
            Every hyperparameter, ``patch_size`` and ``pca_components`` included.

        Raises
        ------
        PluginError
            An unknown name (the valid ones are listed) or a value of the wrong type or range.
        """
        hyper = dict(self.defaults)
        hyper.update(self.coerce(dict(overrides or {})))
        _check_common(self.name, hyper)
        return hyper

    def build(self, in_bands: int, n_classes: int, patch_size: int | None = None, **hyper: Any) -> Any:
        """Build an untrained model.

        Parameters
        ----------
        in_bands : int
            Bands after preprocessing (the PCA components, or all bands).
        n_classes : int
            Number of outputs.
        patch_size : int, optional
            Side of the square patch; the spec's default when None.
        **hyper
            Overrides of the defaults (``pca_components`` is accepted and not passed on: it shapes
            the preprocessing, not the network).

        Returns
        -------
        torch.nn.Module or sklearn estimator

        Raises
        ------
        PluginError
            Unknown or mistyped hyperparameters, or a builder that refuses the sizes.
        """
        if patch_size is not None:
            hyper["patch_size"] = patch_size
        merged = self.resolve(hyper)
        size = merged.pop("patch_size")
        merged.pop("pca_components")
        return self.builder(int(in_bands), int(n_classes), size, **merged)

    def coerce(self, key: str | Mapping[str, Any], value: Any = _MISSING) -> Any:
        """Convert a value (typically text) to the type of the hyperparameter's default.

        Bools accept ``true/false/yes/no/on/off/1/0``; ints accept ``"12"`` (and ``12.0``); floats accept
        any number; ``none``/``null``/empty give None where None is allowed (``pca_components``, and
        hyperparameters whose default is None); for a text default (e.g. ``gamma="scale"``) numeric text
        becomes a number, anything else stays text.

        Parameters
        ----------
        key : str or mapping
            The hyperparameter name; or a mapping of names to values, converted as a whole.
        value : object
            The value, when ``key`` is a name.

        Returns
        -------
        object or dict
            The typed value, or a dict of typed values when a mapping was given.

        Raises
        ------
        PluginError
            Unknown name (with the valid ones listed) or a value that does not fit the type.
        """
        if isinstance(key, Mapping):
            return {k: self.coerce(k, v) for k, v in key.items()}
        if value is _MISSING:
            raise PluginError(f"model '{self.name}': no value given for '{key}'")
        if key not in self.defaults:
            raise PluginError(unknown_key_message(self.name, key, self.defaults))
        default = self.defaults[key]
        nullable = default is None or key == "pca_components"
        try:
            return _coerce_value(value, default, nullable)
        except ValueError as exc:
            raise PluginError(f"model '{self.name}': hyperparameter '{key}' {exc}, got {value!r}") from None


def unknown_key_message(model: str, key: str, defaults: Mapping[str, Any]) -> str:
    """The error text for an unknown hyperparameter, with a close match when there is one."""
    valid = sorted(defaults)
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"model '{model}' has no hyperparameter '{key}'{hint}; valid ones: {', '.join(valid)}"


def _coerce_value(value: Any, default: Any, nullable: bool) -> Any:
    if isinstance(value, str):
        return _from_text(value.strip(), default, nullable)
    if value is None:
        if nullable:
            return None
        raise ValueError("cannot be None")
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ValueError("expects true or false")
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
            raise ValueError("expects a whole number")
        return int(value)
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("expects a number")
        return float(value)
    if not isinstance(value, (bool, int, float, str)):
        raise ValueError("expects a number, text, true/false or none")
    return value


def _from_text(text: str, default: Any, nullable: bool) -> Any:
    low = text.lower()
    if nullable and low in _NULL:
        return None
    if isinstance(default, bool):
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise ValueError("expects true or false")
    if isinstance(default, int):
        number = _number(text)
        if number is None or float(number) != int(number):
            raise ValueError("expects a whole number" + (" or none" if nullable else ""))
        return int(number)
    if isinstance(default, float):
        number = _number(text)
        if number is None:
            raise ValueError("expects a number")
        return float(number)
    number = _number(text)
    if number is not None:
        return number
    if default is None and (low in _TRUE or low in _FALSE):
        return low in _TRUE
    return text


def _number(text: str) -> int | float | None:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return None


def _check_common(name: str, hyper: Mapping[str, Any]) -> None:
    size = hyper.get("patch_size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise PluginError(f"model '{name}': patch_size must be a whole number >= 1, got {size!r}")
    comps = hyper.get("pca_components")
    if comps is not None and (isinstance(comps, bool) or not isinstance(comps, int) or comps < 1):
        raise PluginError(f"model '{name}': pca_components must be a whole number >= 1 or none, got {comps!r}")


def validate_fields(spec: ModelSpec) -> None:
    """Check what a plugin declared; raises :class:`PluginError` in plain words."""
    where = f"model '{spec.name}'"
    if not isinstance(spec.name, str) or not _NAME.match(spec.name):
        raise PluginError(
            f"model name {spec.name!r} must start with a letter or digit and use only letters, digits, '_', '-' and '.'"
        )
    try:
        spec.input_kind = InputKind(spec.input_kind)
    except ValueError:
        kinds = ", ".join(k.value for k in InputKind)
        raise PluginError(f"{where}: input_kind {spec.input_kind!r} is not one of {kinds}") from None
    if spec.framework not in FRAMEWORKS:
        raise PluginError(f"{where}: framework {spec.framework!r} is not one of {', '.join(FRAMEWORKS)}")
    if not callable(spec.builder):
        raise PluginError(f"{where}: the builder is not callable")
    if not isinstance(spec.defaults, Mapping) or any(k not in spec.defaults for k in COMMON_KEYS):
        raise PluginError(f"{where}: defaults must contain 'patch_size' and 'pca_components'")
    spec.defaults = dict(spec.defaults)
    for key, value in spec.defaults.items():
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise PluginError(
                f"{where}: default of '{key}' must be a bool, number, text or None, not {type(value).__name__}"
            )
    _check_common(spec.name, spec.defaults)
    if spec.dense and (spec.framework != "torch" or spec.input_kind == InputKind.SPECTRUM):
        raise PluginError(f"{where}: dense=True needs a torch model taking a cube or a patch")
    spec.description = " ".join(str(spec.description).split())
    spec.version = str(spec.version)
    spec.source = str(spec.source)
