"""JSON for the core's results: numpy numbers and arrays, enums and paths become plain values."""

from __future__ import annotations

import json
from typing import Any


def to_plain(value: Any) -> Any:
    """``json.dumps`` default: arrays and numpy scalars via ``tolist``, enums by value, else ``str``."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "value"):  # an Enum such as InputKind
        return value.value
    return str(value)


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` with :func:`to_plain` for what JSON does not know."""
    return json.dumps(obj, default=to_plain, **kwargs)
