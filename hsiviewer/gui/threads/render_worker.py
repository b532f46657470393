"""Renders views and builds pyramids off the window's thread; the newest view request wins.

:class:`RenderWorker` is a :class:`~hsiviewer.gui.threads.latest_worker.LatestWorker`: one plain
thread that takes the newest pending request, drops the older ones, and renders it with
:meth:`hsiviewer.viewer.tiles.ViewRenderer.render`, which checks between tile rows (and strips of
rows read from a memory-mapped file) whether a newer request came (then it stops, keeping the tiles
it read in the cache). Results cross to the GUI
thread as Qt signals (queued: the worker never touches a widget). :class:`PyramidJob` builds a
scene's pyramid on its own thread.
"""

from __future__ import annotations

import os
import threading
from typing import Optional

from PySide6.QtCore import QObject, Signal

from hsiviewer.errors import Cancelled, HsiError
from hsiviewer.gui.threads import qt_gc
from hsiviewer.gui.threads.latest_worker import LatestWorker
from hsiviewer.progress import CancelToken

#: Niceness of the pyramid thread (Linux sets it per thread).
PYRAMID_NICE = 10


def run_as_background_chore() -> None:
    """Lower the calling thread's priority to :data:`PYRAMID_NICE`: on a busy machine the window's
    thread and the renderer go first (a no-op where threads have no niceness of their own)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PYRAMID_NICE)
    except (AttributeError, OSError):
        pass


class RenderWorker(LatestWorker):
    """The render thread of the main window: :meth:`submit` renders a view request.

    Signals
    -------
    done(request_id, ViewImage)
    failed(request_id, message)
    partial(request_id, ViewImage)
        The image so far of a request still reading tiles from the file (see
        :meth:`hsiviewer.viewer.tiles.ViewRenderer.render`); ``done`` follows with the whole image.
    """

    partial = Signal(int, object)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__("hsiviewer-render", parent)

    def submit(self, renderer, settings, request) -> int:  # type: ignore[override]
        """Ask for ``request`` with ``settings``; returns its id. A pending older request is dropped."""
        return super().submit(self._render, renderer, settings, request)

    def _render(self, renderer, settings, request, cancel):
        call = self.running_call
        return renderer.render(settings, request, cancel, partial=lambda view: self.partial.emit(call, view))


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
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(cache, scene), name="hsiviewer-pyramid", daemon=True)

    def start(self) -> None:
        """Start the build (connect to :attr:`done` and :attr:`failed` first: a stored pyramid is done at once)."""
        # before the thread exists: a garbage collection on it would free GUI-thread Qt objects there
        qt_gc.collect_on_gui_thread_while(lambda: not self._ended.is_set())
        self._thread.start()

    def _run(self, cache, scene) -> None:
        try:
            self._build(cache, scene)
        finally:
            self._ended.set()

    def _build(self, cache, scene) -> None:
        run_as_background_chore()
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
        if wait and self._thread.ident is not None:
            self._thread.join(timeout=30)

    def wait(self, timeout: float = 600.0) -> bool:
        """Wait for the build to end; True when it did (False when it was never started)."""
        if self._thread.ident is None:
            return False
        self._thread.join(timeout)
        return not self._thread.is_alive()
