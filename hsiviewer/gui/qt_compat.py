"""Work around a reference-counting bug of PySide6 6.12.0 on Python 3.11 and older.

PySide6/shiboken6 6.12.0 returns ``None`` from every ``void`` Qt method without taking a
reference to it (and does the same with ``True``/``False`` on some paths). From Python 3.12 on
these objects are immortal (PEP 683), so nothing happens; on 3.11 their reference counts
fall with every call until the interpreter aborts with "Fatal Python error: none_dealloc" or
"bool_dealloc", within a minute of normal use of the viewer. PySide6 6.11.3 does not have
the bug. The real fix is a PySide6 without it (or Python >= 3.12); until then
:func:`protect_singletons` detects the bug and gives the three singletons so large a
reference count that it cannot reach zero, which is what Python 3.12 does by design.
"""

from __future__ import annotations

import ctypes
import sys

#: Added to the reference counts of None, True and False when the bug is present:
#: more than any process makes Qt calls in its lifetime.
_HEADROOM = 1 << 40


def pyside_drops_none_references(calls: int = 32) -> bool:
    """True when calling a ``void`` Qt method lowers the reference count of ``None``."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(calls):
        probe.setObjectName("probe")
    return sys.getrefcount(None) <= before - calls // 2


def protect_singletons() -> bool:
    """Raise the reference counts of None, True and False when PySide6 leaks them away.

    Returns
    -------
    bool
        True when the bug was found and worked around.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not pyside_drops_none_references():
        return False
    for singleton in (None, True, False):
        # ob_refcnt is the first field of every CPython object (release builds)
        ctypes.c_ssize_t.from_address(id(singleton)).value += _HEADROOM
    return True
