"""Run a core call on a QThread: progress events become signals, Cancel sets the core's token.

A worker never touches a widget. The GUI connects to its signals, which Qt delivers on the GUI
thread (queued connections), and calls :meth:`QtJob.cancel` from the Cancel button.
"""
from __future__ import annotations

import traceback
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..errors import Cancelled, HsiError
from ..progress import CancelToken, ProgressEvent


class _Runner(QObject):
    """Lives on the worker thread and makes the one core call."""

    progress = Signal(object)
    done = Signal(object)
    failed = Signal(str, str)

    def __init__(self, fn: Callable[..., Any], token: CancelToken) -> None:
        super().__init__()
        self._fn = fn
        self._token = token

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(progress=self.progress.emit, cancel=self._token)
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

    Signals
    -------
    progress(ProgressEvent)
        Each progress point of the core call.
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

    def __init__(self, fn: Callable[..., Any], name: str = "job", parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.name = name
        self.token = CancelToken()
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._runner = _Runner(fn, self.token)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self._runner.progress.connect(self._on_progress)
        self._runner.done.connect(self._on_done)
        self._runner.failed.connect(self._on_failed)
        self._thread.finished.connect(self._on_thread_finished)
        self._outcome: tuple[str, tuple] | None = None

    def start(self) -> None:
        """Start the job on its own thread."""
        self._thread.start()

    def cancel(self) -> None:
        """Ask the core call to stop at its next check point (a batch, a tile)."""
        self.token.cancel()

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread.isRunning()

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
        # Emit results only once the thread is down, so a handler may start the next job at once.
        if self._outcome is not None:
            kind, args = self._outcome
            getattr(self, kind).emit(*args)
        self.ended.emit()
