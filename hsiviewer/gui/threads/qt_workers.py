"""Run a core call on a QThread: progress events become signals, Cancel sets the core's token.

A worker never touches a widget. The GUI connects to its signals, which Qt delivers on the GUI
thread (queued connections), and calls :meth:`QtJob.cancel` from the Cancel button.

Frequent progress stages (a batch, a tile) are thinned on the worker thread before they cross to
the GUI thread: a repaint per batch would cost the event loop more than the batch itself costs the
worker. Every other stage (an epoch, the evaluation) is always delivered.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Optional

from PySide6.QtCore import QObject, QThread, Signal, Slot

from hsiviewer.errors import Cancelled, HsiError
from hsiviewer.gui.threads import qt_gc
from hsiviewer.progress import CancelToken, ProgressEvent

#: Stages sent once per batch or tile, thinned to at most one signal per ``min_interval_s``.
FREQUENT_STAGES = ("batch", "predict", "evaluate")


class _Runner(QObject):
    """Lives on the worker thread and makes the one core call."""

    progress = Signal(object)
    done = Signal(object)
    failed = Signal(str, str)

    def __init__(
        self, fn: Callable[..., Any], token: CancelToken, min_interval_s: float, frequent: Iterable[str]
    ) -> None:
        super().__init__()
        self._fn = fn
        self._token = token
        self._min_interval = float(min_interval_s)
        self._frequent = frozenset(frequent)
        self._last_sent: dict[str, float] = {}
        self._lock = threading.Lock()
        #: Events the core sent, by stage, and those it sent after cancel was asked (all, unthinned).
        self.sent: Counter = Counter()
        self.sent_after_cancel: Counter = Counter()

    def report(self, event: ProgressEvent) -> None:
        """The progress callback handed to the core call (runs on the worker thread)."""
        with self._lock:
            self.sent[event.stage] += 1
            if self._token.cancelled:
                self.sent_after_cancel[event.stage] += 1
        if event.stage in self._frequent and event.done < event.total:
            now = time.monotonic()
            if now - self._last_sent.get(event.stage, -1e9) < self._min_interval:
                return
            self._last_sent[event.stage] = now
        self.progress.emit(event)

    @Slot()
    def run(self) -> None:
        try:
            self._call()
        finally:
            # End the thread's event loop from the thread itself, so that QtJob.wait() works
            # without the GUI event loop running (closing the window, tests).
            self.thread().quit()

    def _call(self) -> None:
        try:
            result = self._fn(progress=self.report, cancel=self._token)
        except Cancelled:
            self.done.emit(None)
        except HsiError as exc:
            self.failed.emit(str(exc), "")
        except Exception as exc:  # report any failure of the core call as a dialog, never a crash
            self.failed.emit(f"{type(exc).__name__}: {exc}", traceback.format_exc())
        else:
            self.done.emit(result)


class QtJob(QObject):
    """One background job.

    Parameters
    ----------
    fn : callable
        Called on the worker thread as ``fn(progress=callback, cancel=token)``; its return value
        is delivered by :attr:`finished`.
    name : str
        What the job does, for status lines ("Training hybridsn").
    min_interval_s : float
        Least time between two delivered events of a frequent stage (default 0.1 s: 10 per second).
    frequent : iterable of str
        The stages to thin (:data:`FREQUENT_STAGES`); the last event of a stage always passes.

    Signals
    -------
    progress(ProgressEvent)
        Progress points of the core call (frequent stages thinned).
    finished(object)
        The core call's result (``None`` when it was cancelled before producing one).
    failed(str, str)
        A message for the user and a traceback (empty for expected errors).
    ended()
        Always last, after finished or failed, once the thread has stopped.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str, str)
    ended = Signal()

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str = "job",
        parent: Optional[QObject] = None,
        min_interval_s: float = 0.1,
        frequent: Iterable[str] = FREQUENT_STAGES,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.token = CancelToken()
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._runner = _Runner(fn, self.token, min_interval_s, frequent)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self._runner.progress.connect(self._on_progress)
        self._runner.done.connect(self._on_done)
        self._runner.failed.connect(self._on_failed)
        self._thread.finished.connect(self._on_thread_finished)
        self._outcome: tuple[str, tuple] | None = None

    def start(self) -> None:
        """Start the job on its own thread."""
        # Before the thread exists: a garbage collection on it would destroy GUI-thread Qt objects there.
        thread = self._thread
        qt_gc.collect_on_gui_thread_while(lambda: not thread.isFinished())
        thread.start()

    def cancel(self) -> None:
        """Ask the core call to stop at its next check point (a batch, a tile)."""
        self.token.cancel()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self.token.cancelled

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread.isRunning()

    @property
    def events_sent(self) -> Counter:
        """How many events the core call sent, by stage (before thinning)."""
        return Counter(self._runner.sent)

    @property
    def events_after_cancel(self) -> Counter:
        """How many events the core call sent after :meth:`cancel`, by stage: a measure of how
        quickly it stopped (at most one ``"batch"`` for a call that checks before every batch)."""
        return Counter(self._runner.sent_after_cancel)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the thread ends (tests and shutdown only)."""
        return self._thread.wait(msecs)

    @Slot(object)
    def _on_progress(self, event: ProgressEvent) -> None:
        self.progress.emit(event)

    @Slot(object)
    def _on_done(self, result: Any) -> None:
        self._outcome = ("finished", (result,))
        self._thread.quit()

    @Slot(str, str)
    def _on_failed(self, message: str, trace: str) -> None:
        self._outcome = ("failed", (message, trace))
        self._thread.quit()

    @Slot()
    def _on_thread_finished(self) -> None:
        # QThread.finished arrives while the thread is still winding down. Join it here (PySide
        # releases the interpreter lock in wait()) before any handler drops this job: destroying a
        # QThread that is still finishing makes ~QThread wait for it while holding the interpreter
        # lock the thread's last steps may need, a deadlock. It ends at once: finished was its last act.
        self._thread.wait()
        qt_gc.update()
        # Emit results only once the thread is down, so a handler may start the next job at once.
        if self._outcome is not None:
            kind, args = self._outcome
            getattr(self, kind).emit(*args)
        self.ended.emit()
