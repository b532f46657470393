"""The main window's image: asks for what is on screen, draws it when it arrives.

A :class:`ViewportController` turns display-state and zoom/pan changes into view requests
(:class:`hsiviewer.viewer.tiles.ViewRequest`: the visible extent at the level that matches the
screen). Small scenes (at most :data:`SYNC_PIXELS` pixels) are rendered whole, at full resolution,
right away: reading them costs less than a thread hop. Larger ones go to a
:class:`~hsiviewer.gui.threads.render_worker.RenderWorker`; the newest request wins and an
answer to an older one is dropped. A request still reading from the file after 50 ms is drawn as it
goes: coarse at once (from the samples the stretch levels came from), sharpening as tiles arrive.
Once a view read from a BIL or BIP file is on screen, a warming thread reads its lines in every
band into the page cache (:meth:`ViewRenderer.warm`; each new request stops it first), so the next band or
composite in that view costs no disk read. Scenes big enough get a pyramid built in the background
(:class:`~hsiviewer.viewer.pyramid.PyramidCache`); until it is there the same levels are read
from the file with a stride (the same pixels, more slowly). When the image of the newest request
is on the canvas, the window's ``image_shown`` signal fires.

Read errors (a file truncated or removed while open) are shown once per scene, in the status bar
and a dialog; the window stays up.
"""

from __future__ import annotations

import os
import time
from typing import Optional

import numpy as np
from PySide6.QtCore import QEvent, QObject

from hsiviewer.data.scene import Scene
from hsiviewer.gui.threads.latest_worker import LatestWorker
from hsiviewer.gui.threads.render_worker import PyramidJob, RenderWorker, run_as_background_chore
from hsiviewer.gui.widgets.image_view import colormap_lut
from hsiviewer.viewer.levels import LevelReader
from hsiviewer.viewer.pyramid import PyramidCache, needs_pyramid
from hsiviewer.viewer.tiles import TileCache, ViewImage, ViewRenderer, ViewRequest, ViewSettings

#: Scenes with at most this many pixels are rendered whole and synchronously.
SYNC_PIXELS = 1_000_000

# The viewer keeps its own tile cache, so GDAL's block cache (5 % of the RAM by default) would only
# hold the same pixels twice: cap it unless the user chose a size.
os.environ.setdefault("GDAL_CACHEMAX", "64")


class ViewportController(QObject):
    """Keeps the canvas of ``window`` showing the display state of its scene.

    Attributes
    ----------
    renderer : ViewRenderer or None
    pyramid_job : PyramidJob or None
        The pyramid being built for the current scene.
    last_view : ViewImage or None
        The image on the canvas.
    shown_at : float
        ``time.perf_counter()`` when ``last_view`` was drawn.
    """

    def __init__(self, window, cache: Optional[PyramidCache] = None) -> None:
        super().__init__(window)
        self.window = window
        self.cache = cache
        self.tiles = TileCache()
        self.worker = RenderWorker(self)
        self.worker.done.connect(self._on_rendered)
        self.worker.partial.connect(self._on_partial)
        self.worker.failed.connect(self._on_failed)
        self.warmer = LatestWorker("hsiviewer-warm", self)
        self.warmer.failed.connect(self._on_warm_failed)
        self.renderer: Optional[ViewRenderer] = None
        self.pyramid_job: Optional[PyramidJob] = None
        self.last_view: Optional[ViewImage] = None
        self.shown_at = 0.0
        self.partials_shown = 0  # images drawn while tiles were still being read (for tests and benchmarks)
        self.shown_request: Optional[ViewRequest] = None
        self._sync = True
        self._pending_request: Optional[ViewRequest] = None
        self._state_ready = False
        self._build_after_first_image: Optional[PyramidCache] = None
        window.view.view_changed.connect(self._on_view_changed)
        window.installEventFilter(self)

    @property
    def synchronous(self) -> bool:
        """True when the scene is rendered whole in the window's thread."""
        return self._sync

    def set_scene(self, scene: Scene) -> None:
        """Start over for ``scene``: a new reader, an empty tile cache, a pyramid if worth it.

        A render of the previous scene still running is made stale (it stops at its next check, and
        neither its partial images nor its result are drawn); it keeps the old tile cache to itself.
        """
        self.worker.invalidate()
        self.warmer.invalidate()
        if self.pyramid_job is not None:
            self.pyramid_job.cancel(wait=False)
            self.pyramid_job = None
        self.tiles = TileCache()
        self.last_view = None
        self.shown_request = None
        self._pending_request = None
        self._state_ready = False  # the display state still holds the previous scene's bands
        self._sync = scene.n_rows * scene.n_cols <= SYNC_PIXELS
        self._build_after_first_image = None
        pyramid = None
        if not self._sync and needs_pyramid(scene):
            cache = self.cache if self.cache is not None else PyramidCache()
            try:
                pyramid = cache.lookup(scene)
            except OSError as exc:  # an unwritable cache: read from the file at every level
                self._status(f"No pyramid cache: {exc}")
            else:
                if pyramid is None:  # built once the first image is up: that comes first
                    self._build_after_first_image = cache
        self.renderer = ViewRenderer(LevelReader(scene, pyramid), self.tiles)

    def _start_pyramid(self, cache: PyramidCache) -> None:
        self.pyramid_job = PyramidJob(cache, self.renderer.scene, self)
        self.pyramid_job.done.connect(self._on_pyramid)
        self.pyramid_job.failed.connect(lambda msg: self._status(f"No pyramid: {msg}"))
        self.pyramid_job.start()  # after connecting: a pyramid another process just built is done at once

    def refresh(self) -> None:
        """Ask for the image of the current display state and view."""
        if self.renderer is None:
            return
        self._state_ready = True
        settings = ViewSettings.of(self.window.display_state)
        if self._sync:
            scene = self.renderer.scene
            whole = ViewRequest.whole(scene.n_rows, scene.n_cols)
            try:
                view = self.renderer.render(settings, whole)
            except Exception as exc:  # a file that fails to read must not take the window with it
                self.window._view_error("display the scene", exc)
                return
            self._show(view, whole)
            return
        request = self.window.view.visible_request(self.renderer.reader.top)
        if request is None:
            return
        lut = colormap_lut(settings.colormap if settings.mode == "band" else None)
        settings.lut = np.zeros((0, 4), np.uint8) if lut is None else np.asarray(lut, np.uint8)
        self._pending_request = request
        self.warmer.invalidate()  # the renderer goes first; warming starts again once this view is shown
        self.worker.submit(self.renderer, settings, request)

    # --- answers ---------------------------------------------------------------------------------
    def _on_view_changed(self) -> None:
        if self.renderer is None or self._sync or not self._state_ready:
            return
        request = self.window.view.visible_request(self.renderer.reader.top)
        if request is not None and request != self._pending_request:
            self.refresh()

    def _on_rendered(self, request_id: int, view: ViewImage) -> None:
        if request_id != self.worker.latest or self.renderer is None:
            return  # a newer request is on its way
        self._show(view, self._pending_request)

    def _on_partial(self, request_id: int, view: ViewImage) -> None:
        """Draw the image so far of a request still reading from the file (coarse, sharpening)."""
        if request_id != self.worker.latest or self.renderer is None or self._sync:
            return
        self.window.view.show_view(view)
        self.partials_shown += 1

    def is_current(self) -> bool:
        """True when the canvas shows the answer to the newest request and the view has not moved since."""
        if self.renderer is None or self.last_view is None:
            return False
        if self._sync:
            return True
        return self.shown_request is not None and self.shown_request == self.window.view.visible_request(
            self.renderer.reader.top
        )

    def _show(self, view: ViewImage, request: Optional[ViewRequest]) -> None:
        window = self.window
        window.view.show_view(view)
        if window.display_state.mode == "band" and view.sample is not None:
            window.display_panel.show_histogram(view.sample, view.levels)
        window.menus.sync_mode(window.display_state.mode)
        self.last_view = view
        self.shown_request = request
        self.shown_at = time.perf_counter()
        window.image_shown.emit()
        if request is not None and not self._sync and self.renderer is not None:
            self.warmer.submit(self._warm, self.renderer, request)
        if self._build_after_first_image is not None:
            cache, self._build_after_first_image = self._build_after_first_image, None
            self._start_pyramid(cache)

    def _warm(self, renderer: ViewRenderer, request: ViewRequest, cancel) -> int:
        """On the warming thread: read ``request``'s lines in every band while the render thread is idle."""
        run_as_background_chore()  # like the pyramid
        return renderer.warm(request, cancel, busy=lambda: not self.worker.idle)

    def _on_warm_failed(self, call_id: int, message: str) -> None:
        if call_id == self.warmer.latest:  # (not one of a previous view or scene)
            self._status(f"Reading ahead stopped: {message}")

    def _on_failed(self, request_id: int, message: str) -> None:
        if request_id == self.worker.latest:
            if self.last_view is not None:  # not a half-sharp partial image of the failed request
                self.window.view.show_view(self.last_view)
            self.report_error(message)

    def report_error(self, message: str) -> None:
        """Show a read error: in the status bar always, in a dialog once per scene (the window's one flag
        for all errors of a scene, hover included)."""
        self.window._view_error("display the scene", message)

    def _on_pyramid(self, pyramid) -> None:
        if self.renderer is not None and self.pyramid_job is not None and self.sender() is self.pyramid_job:
            self.renderer.reader.pyramid = pyramid  # same pixels as the strided reads: no redraw needed
            self.pyramid_job = None

    def _status(self, text: str) -> None:
        self.window.pixel_label.setText(text)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        """On close, stop the pyramid build and the render thread."""
        if watched is self.window and event.type() == QEvent.Type.Close:
            if self.pyramid_job is not None:
                self.pyramid_job.cancel(wait=True)
                self.pyramid_job = None
            self.warmer.stop()
            self.worker.stop()
        return False
