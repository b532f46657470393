"""One background thread that runs the newest call asked of it; calls still waiting are dropped.

The viewer asks for many things faster than a disk answers (a slider dragged over the bands, the
cursor moved over the map); only the last one matters. :class:`LatestWorker` keeps at most one
call waiting: a new :meth:`~LatestWorker.submit` replaces it. The running call is passed a
``cancel`` callable that turns true as soon as a newer call is submitted, so long work can stop
between steps (:class:`hsiviewer.errors.Cancelled`). Results cross to the GUI thread as queued
Qt signals carrying the call's id; the receiver compares it with :attr:`LatestWorker.latest`.
The worker never touches a widget, and while a call runs the cyclic garbage collector runs on the
GUI thread only (:mod:`hsiviewer.gui.threads.qt_gc`).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any, Optional

from PySide6.QtCore import QObject, Signal

from hsiviewer.errors import Cancelled, HsiError
from hsiviewer.gui.threads import qt_gc


class LatestWorker(QObject):
    """A plain thread running the newest submitted call.

    Parameters
    ----------
    name : str
        The thread's name (shown by debuggers and stack dumps).

    Signals
    -------
    done(call_id, result)
        The call ``call_id`` returned ``result`` and no newer call had been submitted by then.
    failed(call_id, message)
        The call raised; ``message`` is one line for an :class:`~hsiviewer.errors.HsiError`, else
        the exception with the last frames of its traceback.
    """

    done = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, name: str = "hsiviewer-worker", parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._wake = threading.Condition()
        self._job: Optional[tuple] = None
        self._latest = 0
        self._running = False
        self._running_call = 0
        self._stopping = False
        self.dropped = 0  # calls replaced before they started, or stopped half-way (for tests)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def latest(self) -> int:
        """The id of the newest call submitted (or of the last :meth:`invalidate`)."""
        return self._latest

    @property
    def running_call(self) -> int:
        """The id of the call running now (read it from within the call, to tag what it sends)."""
        return self._running_call

    @property
    def idle(self) -> bool:
        """True when no call is waiting or running."""
        with self._wake:
            return self._job is None and not self._running

    def submit(self, fn: Callable[..., Any], *args: Any) -> int:
        """Run ``fn(*args, cancel=...)`` on the thread; returns the call's id. A waiting call is dropped.

        Call it on the GUI thread: until the worker is idle again, garbage is collected there only.
        """
        with self._wake:
            if self._stopping:
                return self._latest  # the window is closing: nothing runs any more
        qt_gc.collect_on_gui_thread_while(lambda: not self.idle)
        with self._wake:
            self._latest += 1
            if self._job is not None:
                self.dropped += 1
            self._job = (self._latest, fn, args)
            self._wake.notify()
            return self._latest

    def invalidate(self) -> None:
        """Make every call submitted so far stale: a waiting one is dropped, a running one's result too."""
        with self._wake:
            self._latest += 1
            if self._job is not None:
                self.dropped += 1
            self._job = None

    def stop(self) -> None:
        """End the thread after the running call (call on close); the running call is made stale, so
        long work stops at its next check instead of making the window wait."""
        with self._wake:
            self._stopping = True
            self._latest += 1
            self._job = None
            self._wake.notify()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._wake:
                while self._job is None and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                job_id, fn, args = self._job
                self._job = None
                self._running = True
                self._running_call = job_id
            try:
                self._run(job_id, fn, args)
            finally:
                fn = args = None  # do not keep the last call's scene and renderer alive while waiting
                with self._wake:
                    self._running = False

    def _drop(self) -> None:
        with self._wake:
            self.dropped += 1

    def _run(self, job_id: int, fn: Callable[..., Any], args: tuple) -> None:
        try:
            result = fn(*args, cancel=lambda: self._latest != job_id)
        except Cancelled:
            self._drop()
            return
        except HsiError as exc:
            self.failed.emit(job_id, str(exc))
            return
        except Exception as exc:  # a reader's OSError or a bug: reported, the thread lives on
            self.failed.emit(job_id, f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exception(exc)[-2:]))
            return
        if job_id == self._latest:
            self.done.emit(job_id, result)
        else:
            self._drop()
