"""A form for an architecture's hyperparameters, built from the defaults of its :class:`ModelSpec`.

Each field's widget follows the type of the default: a spin box for a whole number, a check box for
true/false, and a text field for a decimal number, text, or a value that may be ``none``. Text
fields are checked with :meth:`ModelSpec.coerce` (the same conversion as ``--set`` on the command
line): text that can never become a valid value is refused as it is typed, and a field left with
an incomplete value returns to its last valid one.
"""

from __future__ import annotations

import math
import re
from typing import Any, Optional

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QCheckBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from hsiviewer.errors import PluginError

INT_LIMIT = 2**31 - 1
#: Characters that may appear while a number is being typed (``1e-4``, ``-0.5``).
_NUMBER_CHARS = re.compile(r"^[0-9eE+\-.]*$")
_NONE_WORDS = ("none", "null")


def _format(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return repr(value)
    return str(value)


class SpecValidator(QValidator):
    """Accepts the text of one hyperparameter when :meth:`ModelSpec.coerce` does.

    Text that could still become valid (``"1e"`` on the way to ``"1e-3"``, ``"no"`` on the way to
    ``"none"``) is *intermediate*; anything else is refused at the keystroke.
    """

    def __init__(self, spec, key: str, parent=None) -> None:
        super().__init__(parent)
        self.spec, self.key = spec, key
        default = spec.defaults[key]
        self.numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
        self.nullable = default is None or key == "pca_components"
        self.last_good = _format(default)

    def validate(self, text: str, pos: int):  # noqa: D102 (Qt API)
        try:
            # resolve = coerce plus the checks of the common keys (pca_components >= 1 or none)
            value = self.spec.resolve({self.key: text})[self.key]
        except PluginError:
            return self._partial(text), text, pos
        if isinstance(value, float) and not math.isfinite(value):
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos

    def _partial(self, text: str) -> QValidator.State:
        low = text.strip().lower()
        if not self.numeric or _NUMBER_CHARS.match(low):
            return QValidator.State.Intermediate
        if self.nullable and any(word.startswith(low) for word in _NONE_WORDS):
            return QValidator.State.Intermediate
        return QValidator.State.Invalid

    def fixup(self, text: str) -> str:  # noqa: D102 (Qt API)
        return self.last_good


class OddSpinBox(QSpinBox):
    """A spin box for patch sizes: odd numbers from 1 to 255 (a patch needs a centre pixel)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setRange(1, 255)
        self.setSingleStep(2)

    def validate(self, text: str, pos: int):  # noqa: D102 (Qt API)
        state, text, pos = super().validate(text, pos)
        if state == QValidator.State.Acceptable and self.valueFromText(text) % 2 == 0:
            state = QValidator.State.Intermediate
        return state, text, pos

    def fixup(self, text: str) -> str:  # noqa: D102 (Qt API)
        return str(self.value())


class HyperForm(QWidget):
    """Typed fields for the defaults of one :class:`~hsiviewer.models.spec.ModelSpec`.

    Signals
    -------
    changed()
        A field took a new valid value.

    Attributes
    ----------
    fields : dict[str, QWidget]
        The widget of each hyperparameter, in the order of the defaults.
    """

    changed = Signal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.spec = None
        self.fields: dict[str, QWidget] = {}
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def set_spec(self, spec, values: Optional[dict] = None) -> None:
        """Rebuild the form for ``spec``, filled with its defaults overridden by ``values``.

        Values that do not fit the spec (a name it lacks, a wrong type) are ignored.
        """
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self.spec, self.fields = spec, {}
        for key, default in spec.defaults.items():
            widget = self._make_field(spec, key, default)
            widget.setObjectName(f"hyper_{key}")
            widget.setToolTip(f"{key} (default {_format(default)})")
            self.fields[key] = widget
            self._layout.addRow(key, widget)
        for key, value in (values or {}).items():
            try:
                self.set_value(key, value)
            except PluginError:
                continue

    def _make_field(self, spec, key: str, default: Any) -> QWidget:
        if isinstance(default, bool):
            box = QCheckBox()
            box.setChecked(default)
            box.toggled.connect(self.changed)
            return box
        if isinstance(default, int) and key != "pca_components":
            spin = OddSpinBox() if key == "patch_size" else QSpinBox()
            if key != "patch_size":
                spin.setRange(min(0, default), INT_LIMIT)
            spin.setValue(default)
            spin.valueChanged.connect(self.changed)
            return spin
        edit = QLineEdit(_format(default))
        validator = SpecValidator(spec, key, edit)
        edit.setValidator(validator)
        edit.editingFinished.connect(lambda v=validator, e=edit: self._accept_text(v, e))
        return edit

    def _accept_text(self, validator: SpecValidator, edit: QLineEdit) -> None:
        if edit.text() != validator.last_good:
            validator.last_good = edit.text()
            self.changed.emit()

    def value(self, key: str) -> Any:
        """The typed value of field ``key`` (its last valid value while the text is incomplete)."""
        widget = self.fields[key]
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QSpinBox):
            return widget.value()
        validator = widget.validator()
        text = widget.text() if widget.hasAcceptableInput() else validator.last_good
        return self.spec.coerce(key, text)

    def values(self) -> dict:
        """Every hyperparameter, typed as its default (``patch_size`` and ``pca_components`` included)."""
        return {key: self.value(key) for key in self.fields}

    def set_value(self, key: str, value: Any) -> None:
        """Put ``value`` into field ``key``.

        Raises
        ------
        PluginError
            When ``key`` is not a hyperparameter of the spec or ``value`` does not fit its type.
        """
        if key not in self.fields:
            raise PluginError(f"model '{self.spec.name}' has no hyperparameter '{key}'")
        typed = self.spec.coerce(key, value)
        widget = self.fields[key]
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(typed))
        elif isinstance(widget, QSpinBox):
            if not widget.minimum() <= typed <= widget.maximum():
                raise PluginError(
                    f"hyperparameter '{key}' must be between {widget.minimum()} and {widget.maximum()}, got {typed}"
                )
            if isinstance(widget, OddSpinBox) and typed % 2 == 0:
                raise PluginError(f"hyperparameter '{key}' must be odd, got {typed}")
            widget.setValue(int(typed))
        else:
            widget.setText(_format(typed))
            widget.validator().last_good = widget.text()
