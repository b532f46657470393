"""Keep Python's cyclic garbage collection on the GUI thread while background threads run Python.

CPython runs its cyclic collector on whichever thread happens to cross the allocation threshold.
While a training job allocates tensors and modules, that is nearly always the worker thread, and
a collection there destroys every unreachable object of the whole process, GUI-thread Qt objects
included: pyqtgraph leaves ``QPixmap``, ``QPicture``, ``QPainterPath``, ``QMenu`` and ``QTimer``
objects in reference cycles, a closed window leaves its ``QThread`` and worker ``QObject``. Their
C++ destructors then run on the worker thread (shiboken releases the interpreter lock for them)
while the GUI thread paints with the same objects: undefined behaviour in Qt, and the cause of a
rare hang of the training panel (a worker stuck at an allocation, the GUI thread stuck in a paint).

:func:`collect_on_gui_thread_while` turns automatic collection off for as long as a background
thread runs and collects the young generations from a timer on the GUI thread instead (the pattern
of pyqtgraph's ``GarbageCollector`` and calibre); when the last such thread has ended, automatic
collection is on again. A full collection, which can take half a second on a big heap, is done at
most once a minute meanwhile, so that the event loop keeps ticking.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Optional

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

#: How often the GUI thread checks the allocation counts (milliseconds).
INTERVAL_MS = 100
#: Least time between two full collections while background threads run (seconds).
FULL_EVERY_S = 60.0


class _GuiThreadCollector(QObject):
    """Owns the timer; lives on the GUI thread."""

    def __init__(self) -> None:
        super().__init__()
        self._alive: list[Callable[[], bool]] = []
        self._disabled_gc = False
        self._last_full = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.tick)

    @property
    def active(self) -> bool:
        """True while automatic collection is off because of a running background thread."""
        return self._disabled_gc

    def add(self, alive: Callable[[], bool]) -> None:
        self._alive.append(alive)
        self._take_over()
        if not self._timer.isActive():
            self._timer.start()

    def _take_over(self) -> None:
        """Turn automatic collection off while a thread runs. When someone else had turned it off (the
        application, or the engine load during its imports) it stays theirs to turn on, and is taken
        over at the next tick should they turn it on while a thread still runs."""
        if gc.isenabled():  # also when someone turned it on again meanwhile (the engine load does)
            gc.disable()
            if not self._disabled_gc:
                self._disabled_gc = True
                self._last_full = time.monotonic()

    def tick(self) -> None:
        """Collect what the counts call for; turn automatic collection on when no thread is left."""
        self._alive = [alive for alive in self._alive if alive()]
        if not self._alive and not self._disabled_gc:
            self._timer.stop()
            return
        if self._alive:
            self._take_over()
        if not self._disabled_gc:
            return
        if not self._alive:
            self._timer.stop()
            self._disabled_gc = False
            gc.enable()
            return
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if counts[0] <= thresholds[0]:
            return
        generation = 1 if counts[1] > thresholds[1] else 0
        if counts[2] > thresholds[2] and time.monotonic() - self._last_full >= FULL_EVERY_S:
            generation = 2
            self._last_full = time.monotonic()
        gc.collect(generation)


_COLLECTOR: Optional[_GuiThreadCollector] = None


def _collector() -> _GuiThreadCollector:
    global _COLLECTOR
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        raise RuntimeError("collect_on_gui_thread_while must be called on the GUI thread of a running application")
    if _COLLECTOR is None:
        _COLLECTOR = _GuiThreadCollector()
    return _COLLECTOR


def collect_on_gui_thread_while(alive: Callable[[], bool]) -> None:
    """Collect garbage only on the GUI thread for as long as ``alive()`` returns True.

    Call it on the GUI thread *before* the background thread starts (``alive`` must be True for a
    thread that has not started yet), so that no collection can run on that thread at all.

    Parameters
    ----------
    alive : callable
        Returns False once the background thread has ended; called on the GUI thread only.
    """
    _collector().add(alive)


def update() -> None:
    """Re-check the running threads now (the GUI thread after joining one: no wait for the timer)."""
    if _COLLECTOR is not None:
        _COLLECTOR.tick()


def collecting_on_gui_thread() -> bool:
    """True while automatic collection is off because a background thread runs."""
    return _COLLECTOR is not None and _COLLECTOR.active
