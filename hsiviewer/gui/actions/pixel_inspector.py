"""Hovering: the status bar and the live spectrum follow the pixel under the cursor.

Small scenes (those the viewport renders whole, in the window's thread) are read at once: one
pixel of a file that small is a memory read. Larger ones are read on a
:class:`~hsiviewer.gui.threads.latest_worker.LatestWorker`, because the first read of a pixel
of a big file waits on the disk (a compressed GeoTIFF block is read and inflated whole: 0.2 s
for a cold 512 x 512 DEFLATE block on the test machine) and the window must not wait with it;
the newest pixel wins, older ones still waiting are dropped. Either way
:attr:`MainWindow.pixel_hovered` fires when the pixel's description and spectrum are shown.

A click pins the pixel's spectrum, in click order. The pixel clicked is nearly always the one just
shown, whose spectrum is at hand; on a small scene any other is read at once, on a large one on a
worker of its own (one request at a time for every clicked pixel not read yet, so hovering or
clicking on never loses one), and :attr:`MainWindow.pixel_clicked` fires once it is pinned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional

from PySide6.QtCore import QEvent, QObject

from hsiviewer.errors import HsiError
from hsiviewer.gui.threads.latest_worker import LatestWorker
from hsiviewer.viewer.pixel_info import PixelInfo, read_pixel_info
from hsiviewer.viewer.spectra import spectrum_values
from hsiviewer.viewer.tiles import ViewSettings


class PixelInspector(QObject):
    """Shows the pixel under the cursor in ``window``'s status bar and spectrum panel.

    Attributes
    ----------
    extra : callable(row, col) -> str or None, or None
        More about the pixel, shown under the spectrum (see ``MainWindow.set_inspector_extra``).
    worker : LatestWorker
        Reads the pixels of large scenes.
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.extra: Optional[Callable[[int, int], Optional[str]]] = None
        self.worker = LatestWorker("hsiviewer-pixel", self)
        self.worker.done.connect(self._on_done)
        self.worker.failed.connect(self._on_failed)
        self._pending: Optional[tuple] = None  # (call id, row, col, scene) of the newest read
        self._shown: Optional[PixelInfo] = None  # the pixel on display
        self.pin_worker = LatestWorker("hsiviewer-pin", self)
        self.pin_worker.done.connect(self._on_pinned)
        self.pin_worker.failed.connect(self._on_pin_failed)
        # clicked and not pinned yet, in click order: [row, col, spectrum or None while unread]
        self._to_pin: list[list] = []
        self._pin_call: Optional[int] = None  # the pin worker's request in flight
        window.installEventFilter(self)

    @property
    def busy(self) -> bool:
        """True while a pixel asked for is not shown yet."""
        return self._pending is not None

    def inspect(self, row: int, col: int) -> None:
        """Describe (row, col) and draw its spectrum: now for a small scene, when read for a large one."""
        window = self.window
        scene = window.scene
        if scene is None:
            return
        # a snapshot of the display settings: the worker must not read the state while it changes
        settings = ViewSettings.of(window.display_state)
        args = (scene, row, col, settings, window.viewport.renderer, list(window.layers.layers))
        if window.viewport.synchronous:
            try:  # called on every mouse move: report, never raise (the file is checked before it is read)
                info = read_pixel_info(*args)
            except Exception as exc:
                self._fail(row, col, exc)
                return
            self._show(info)
            return
        self._pending = (self.worker.submit(read_pixel_info, *args), row, col, scene)

    def pin(self, row: int, col: int) -> None:
        """Pin (row, col), in click order: at once when its spectrum is at hand (the pixel on display, or
        read here on a small scene) and no earlier click is still being read, else once it is."""
        window = self.window
        scene = window.scene
        if scene is None or any((r, c) == (row, col) for r, c, _ in self._to_pin):
            return
        shown = self._shown
        spectrum = None
        if shown is not None and shown.scene is scene and (shown.row, shown.col) == (row, col):
            spectrum = shown.spectrum
        elif window.viewport.synchronous:
            try:
                spectrum = spectrum_values(scene, row, col)
            except Exception as exc:
                self._fail(row, col, exc)
                return
        self._to_pin.append([row, col, spectrum])
        self._drain_pins()

    def cancel(self, pins: bool = False) -> None:
        """Forget the pixels asked for (the cursor left the scene, another scene opens): their answers
        are not shown. With ``pins`` (another scene opens), also the clicked pixels still being read."""
        self.worker.invalidate()
        self._pending = None
        if pins:
            self.pin_worker.invalidate()
            self._pin_call = None
            self._to_pin.clear()
            self._shown = None

    def _drain_pins(self) -> None:
        """Pin the clicked pixels whose spectra are known, in click order, up to the first still unread;
        ask the pin worker for the unread ones (one request at a time, so none is ever dropped)."""
        while self._to_pin and self._to_pin[0][2] is not None:
            row, col, spectrum = self._to_pin.pop(0)
            self.window._add_pin(row, col, spectrum)
        unread = [(row, col) for row, col, spectrum in self._to_pin if spectrum is None]
        if unread and self._pin_call is None:
            self._pin_call = self.pin_worker.submit(_read_spectra, self.window.scene, unread)

    def _on_pinned(self, call_id: int, found) -> None:
        if call_id != self._pin_call:
            return  # asked for on a scene shown before
        self._pin_call = None
        failed = []
        for row, col, spectrum, error in found:
            for entry in list(self._to_pin):
                if entry[0] == row and entry[1] == col and entry[2] is None:
                    if error is None:
                        entry[2] = spectrum
                    else:
                        self._to_pin.remove(entry)
                        failed.append((row, col, error))
        self._drain_pins()
        for row, col, error in failed[:1]:  # one dialog, naming the pixel that failed
            self._fail(row, col, error)

    def _on_pin_failed(self, call_id: int, message: str) -> None:
        if call_id != self._pin_call:
            return
        self._pin_call = None
        unread = [entry for entry in self._to_pin if entry[2] is None]
        self._to_pin = [entry for entry in self._to_pin if entry[2] is not None]
        self._drain_pins()
        if unread:
            self._fail(unread[0][0], unread[0][1], message.splitlines()[0])

    def _on_done(self, call_id: int, info: PixelInfo) -> None:
        if self._pending is None or call_id != self._pending[0]:
            return  # a newer pixel was asked for, or the cursor left
        self._pending = None
        if info.scene is self.window.scene:  # not a pixel of the scene before
            self._show(info)

    def _on_failed(self, call_id: int, message: str) -> None:
        if self._pending is None or call_id != self._pending[0]:
            return
        _, row, col, scene = self._pending
        self._pending = None
        if scene is self.window.scene:
            self._fail(row, col, message.splitlines()[0])  # one line in the status bar, no traceback

    def _show(self, info: PixelInfo) -> None:
        window = self.window
        self._shown = info
        window.pixel_label.setText(info.text)
        window.spectrum_panel.show_spectrum(info.spectrum)
        if self.extra is not None:
            try:
                text = self.extra(info.row, info.col)
            except Exception as exc:  # a plug-in's bug should not break hovering
                text = f"<i>{type(exc).__name__}: {exc}</i>"
            window.spectrum_panel.set_extra_text(text)
        window.pixel_hovered.emit(info.row, info.col)

    def _fail(self, row: int, col: int, exc: Exception | str) -> None:
        self.window.spectrum_panel.hide_live()
        self.window._view_error(f"read pixel ({row}, {col})", exc)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        """On close, end the reading thread."""
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.cancel(pins=True)
            self.worker.stop()
            self.pin_worker.stop()
        return False


def _read_spectra(scene, pixels: list[tuple[int, int]], cancel=None) -> list[tuple]:
    """The pin worker's call: (row, col, spectrum, None) or (row, col, None, error) for each pixel, so a
    pixel that fails to read costs only its own pin."""
    found: list[tuple] = []
    for row, col in pixels:
        try:
            found.append((row, col, spectrum_values(scene, row, col), None))
        except HsiError as exc:
            found.append((row, col, None, str(exc)))
        except Exception as exc:  # a reader's OSError: one line, as for hovering
            found.append((row, col, None, f"{type(exc).__name__}: {exc}"))
    return found
