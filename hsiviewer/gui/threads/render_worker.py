"""Renders views and builds pyramids off the window's thread; the newest view request wins.

:class:`RenderWorker` owns one plain thread that takes the newest pending request, drops the
older ones, and renders it with :meth:`hsiviewer.viewer.tiles.ViewRenderer.render`, which checks
between tiles whether a newer request came (then it stops, keeping the tiles it read in the
cache). Results cross to the GUI thread as Qt signals (queued: the worker never touches a
widget). :class:`PyramidJob` builds a scene's pyramid on its own thread.
"""

from __future__ import annotations

import os
import threading
import traceback
from typing import Optional

from PySide6.QtCore import QObject, Signal

from hsiviewer.errors import Cancelled, HsiError
from hsiviewer.progress import CancelToken

#: Niceness of the pyramid thread (Linux sets it per thread).
PYRAMID_NICE = 10


class RenderWorker(QObject):
    """A render thread for the main window.

    Signals
    -------
    rendered(request_id, ViewImage)
    failed(request_id, message)
    """

    rendered = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._wake = threading.Condition()
        self._job: Optional[tuple] = None
        self._latest = 0
        self._stopping = False
        self.dropped = 0  # requests replaced before they started or stopped half-way (for tests)
        self._thread = threading.Thread(target=self._loop, name="hsiviewer-render", daemon=True)
        self._thread.start()

    @property
    def latest(self) -> int:
        """The id of the newest request submitted."""
        return self._latest

    def submit(self, renderer, settings, request) -> int:
        """Ask for ``request`` with ``settings``; returns its id. A pending older request is dropped."""
        with self._wake:
            self._latest += 1
            if self._job is not None:
                self.dropped += 1
            self._job = (self._latest, renderer, settings, request)
            self._wake.notify()
            return self._latest

    def stop(self) -> None:
        """End the thread after the current request (call on close)."""
        with self._wake:
            self._stopping = True
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
                job_id, renderer, settings, request = self._job
                self._job = None
            self._run(job_id, renderer, settings, request)

    def _run(self, job_id: int, renderer, settings, request) -> None:
        try:
            image = renderer.render(settings, request, cancel=lambda: self._latest != job_id)
        except Cancelled:
            self.dropped += 1
            return
        except HsiError as exc:
            self.failed.emit(job_id, str(exc))
            return
        except Exception as exc:  # a reader's OSError or a bug: reported, the thread lives on
            self.failed.emit(job_id, f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exception(exc)[-2:]))
            return
        if job_id == self._latest:
            self.rendered.emit(job_id, image)
        else:
            self.dropped += 1


class PyramidJob(QObject):
    """Builds the pyramid of a scene in the background (see :class:`hsiviewer.viewer.pyramid.PyramidCache`).

    Signals
    -------
    done(CachedPyramid)
    failed(message)
    """

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, cache, scene, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.token = CancelToken()
        self._thread = threading.Thread(target=self._run, args=(cache, scene), name="hsiviewer-pyramid", daemon=True)
        self._thread.start()

    def _run(self, cache, scene) -> None:
        try:  # a background chore: on a busy machine the window's thread and the renderer go first
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PYRAMID_NICE)
        except (AttributeError, OSError):
            pass
        try:
            pyramid = cache.build(scene, cancel=self.token)
        except Cancelled:
            return
        except (HsiError, OSError, ValueError) as exc:
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        self.done.emit(pyramid)

    def cancel(self, wait: bool = True) -> None:
        """Stop the build (a partial pyramid is removed) and wait for the thread."""
        self.token.cancel()
        if wait:
            self._thread.join(timeout=30)

    def wait(self, timeout: float = 600.0) -> bool:
        """Wait for the build to end; True when it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()
