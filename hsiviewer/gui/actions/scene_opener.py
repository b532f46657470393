"""File ▸ Open scene, Open recent, dropped files and File ▸ Open class map: read on a worker, then shown.

Opening reads from the disk: an ENVI header, or a GeoTIFF's header and the directories of its
overviews, scattered through the file. Cold, that took the window's thread 115-236 ms on a 30,000 x
30,000 GeoTIFF on the test machine (``bench/bench_viewer.py``), longer on a network drive. Here the
reader runs on a :class:`~hsiviewer.gui.threads.latest_worker.LatestWorker` and the window keeps
running; the scene is shown (:meth:`MainWindow.set_scene`) when it has been read. A second file
asked for while the first is read replaces it.

The leave guards (unsaved regions) are asked once the file has been read, just before the scene is
replaced: a file that cannot be read then costs no question and leaves the work as it is, and no
edit made while the file was read is lost unasked. ``MainWindow.open_scene`` stays the synchronous
call for scripts, tests and the start-up scene.

A class map (a raster of the scene's size, held in memory as a layer: 900 MB for a 30,000 x 30,000
scene) is read the same way and added as a layer when read; one still being read when another
scene is shown is forgotten, since it was checked against the scene it was asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QEvent, QObject

from hsiviewer import open_labels as read_class_map
from hsiviewer import open_scene as read_scene
from hsiviewer.errors import HsiError, SceneReadError
from hsiviewer.gui.threads.latest_worker import LatestWorker


def _read(path: Path, labels: Optional[Path], cancel=None):
    """The worker's call: the scene at ``path`` (``cancel`` is the worker's; a read is not split).

    The errors a file can raise become one line naming it, as ``MainWindow.run_guarded`` words them;
    a bug still reaches the dialog with its traceback.
    """
    return _guarded(path, read_scene, path, labels=labels)


def _read_class_map(path: Path, shape: tuple[int, int], cancel=None):
    """The worker's call for a class map: (labels, classes), checked against the scene's ``shape``."""
    labels, classes = _guarded(path, read_class_map, path)
    if labels.shape != shape:
        raise SceneReadError(
            f"the class map is {labels.shape[0]} x {labels.shape[1]} pixels but the scene is {shape[0]} x {shape[1]}",
            path,
        )
    return labels, classes


def _guarded(path: Path, read: Callable, *args, **kwargs):
    try:
        return read(*args, **kwargs)
    except HsiError:
        raise
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise SceneReadError(f"{type(exc).__name__}: {exc}", path) from exc


class SceneOpener(QObject):
    """Opens scenes for ``window`` without its thread waiting on the file.

    Attributes
    ----------
    worker : LatestWorker
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.worker = LatestWorker("hsiviewer-open", self)
        self.worker.done.connect(self._on_done)
        self.worker.failed.connect(self._on_failed)
        # (call id, path, status text before, what to do with what was read)
        self._pending: Optional[tuple[int, Path, str, Callable[[Any], None]]] = None
        window.installEventFilter(self)

    @property
    def busy(self) -> bool:
        """True while a file asked for is being read."""
        return self._pending is not None

    def open(self, path: str | Path, labels: str | Path | None = None) -> None:
        """Read ``path`` (and a ground-truth raster ``labels``) on the worker; show it when read."""
        path = Path(path)
        self._submit(path, self._show_scene, _read, path, None if labels is None else Path(labels))

    def open_class_map(self, path: str | Path) -> None:
        """Read the class map ``path`` on the worker; add it as a layer named after the file when read.

        Raises
        ------
        SceneReadError
            When no scene is open, or another is still being opened (a file that cannot be read, or of
            another size than the scene's, is shown in a dialog once read).
        """
        path = Path(path)
        scene = self.window.scene
        if scene is None:
            raise SceneReadError("open a scene before its class map", path)
        if self._pending is not None and self._pending[3] == self._show_scene:
            raise SceneReadError(
                f"{self._pending[1].name} is still being opened: open its class map once it is shown", path
            )
        self._submit(path, lambda read: self._add_class_map(path, *read), _read_class_map, path, scene.shape[:2])

    def _submit(self, path: Path, then: Callable[[Any], None], fn: Callable, *args) -> None:
        before = self._pending[2] if self._pending is not None else self.window.pixel_label.text()
        self.window.pixel_label.setText(f"Opening {path.name}…")
        call = self.worker.submit(fn, *args)
        self._pending = (call, path, before, then)

    def cancel(self) -> None:
        """Forget the file being read (its scene is not shown)."""
        if self._pending is not None:
            self.worker.invalidate()
            self.window.pixel_label.setText(self._pending[2])
            self._pending = None

    def _take(self, call: int) -> Optional[tuple[int, Path, str, Callable[[Any], None]]]:
        pending = self._pending
        if pending is None or call != pending[0]:
            return None  # replaced by a newer file, or cancelled
        self._pending = None
        return pending

    def _on_done(self, call: int, result) -> None:
        pending = self._take(call)
        if pending is None:
            return
        self.window.pixel_label.setText(pending[2])
        pending[3](result)

    def _show_scene(self, scene) -> None:
        window = self.window
        if all(guard() for guard in window.leave_guards):
            window.set_scene(scene)

    def _add_class_map(self, path: Path, labels, classes) -> None:
        layer = self.window.run_guarded("open the class map", self.window.add_class_layer, path.stem, labels, classes)
        if layer is not None:
            self.window.statusBar().showMessage(f"Opened class map {path.name}", 5000)

    def _on_failed(self, call: int, message: str) -> None:
        pending = self._take(call)
        if pending is None:
            return
        self.window.pixel_label.setText(pending[2])
        self.window.error_dialog(f"Cannot open {pending[1].name}", message)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        """Stop the worker when the window closes (installed before the region tools, whose guard may
        keep the window open: a refused close never reaches this filter)."""
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.cancel()
            self.worker.stop()
        return False
