"""File ▸ Open scene and dropped files: the file is read on a worker, then shown.

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
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QEvent, QObject

from hsiviewer import open_scene as read_scene
from hsiviewer.errors import HsiError, SceneReadError
from hsiviewer.gui.threads.latest_worker import LatestWorker


def _read(path: Path, labels: Optional[Path], cancel=None):
    """The worker's call: the scene at ``path`` (``cancel`` is the worker's; a read is not split).

    The errors a file can raise become one line naming it, as ``MainWindow.run_guarded`` words them;
    a bug still reaches the dialog with its traceback.
    """
    try:
        return read_scene(path, labels=labels)
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
        self._pending: Optional[tuple[int, Path, str]] = None  # (call id, path, status text before)
        window.installEventFilter(self)

    @property
    def busy(self) -> bool:
        """True while a file asked for is being read."""
        return self._pending is not None

    def open(self, path: str | Path, labels: str | Path | None = None) -> None:
        """Read ``path`` (and a ground-truth raster ``labels``) on the worker; show it when read."""
        path = Path(path)
        before = self._pending[2] if self._pending is not None else self.window.pixel_label.text()
        self.window.pixel_label.setText(f"Opening {path.name}…")
        call = self.worker.submit(_read, path, None if labels is None else Path(labels))
        self._pending = (call, path, before)

    def cancel(self) -> None:
        """Forget the file being read (its scene is not shown)."""
        if self._pending is not None:
            self.worker.invalidate()
            self.window.pixel_label.setText(self._pending[2])
            self._pending = None

    def _take(self, call: int) -> Optional[tuple[int, Path, str]]:
        pending = self._pending
        if pending is None or call != pending[0]:
            return None  # replaced by a newer file, or cancelled
        self._pending = None
        return pending

    def _on_done(self, call: int, scene) -> None:
        pending = self._take(call)
        if pending is None:
            return
        window = self.window
        if not all(guard() for guard in window.leave_guards):
            window.pixel_label.setText(pending[2])
            return
        window.set_scene(scene)

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
