"""Start the viewer: check that Qt can open a window, create the application, show the main window.

``run_app(..., screenshot=PATH)`` renders the window off screen, with the ground truth shown and
a few spectra pinned, saves it as a PNG and returns, which works without any display.
"""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional

import numpy as np

EXIT_OK = 0
EXIT_NO_DISPLAY = 2

XCB_PACKAGES = (
    "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 "
    "libxcb-shape0 libxkbcommon-x11-0 libegl1"
)
SCREENSHOT_SIZE = (1400, 900)
PROBE = [sys.executable, "-c", "from PySide6.QtWidgets import QApplication; QApplication([])"]


def display_problem(env: Mapping[str, str] | None = None, probe: Sequence[str] = tuple(PROBE)) -> Optional[str]:
    """Why Qt could not open a window here, in one line, or None when it can.

    Only X11 on Linux is probed (the platform where a missing system library makes Qt abort):
    without ``QT_QPA_PLATFORM``, with ``DISPLAY`` set, a throw-away process starts a
    ``QApplication``; if it fails, the message names the Debian/Ubuntu packages to install.

    Parameters
    ----------
    env : mapping, optional
        The environment to judge (default ``os.environ``).
    probe : sequence of str
        The command that starts a QApplication.
    """
    env = os.environ if env is None else env
    if env.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return None
    if not env.get("DISPLAY"):
        if env.get("WAYLAND_DISPLAY"):
            return None
        return (
            "there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set); to save a picture of "
            "the viewer use 'hsiviewer gui --screenshot OUT.png', or run with QT_QPA_PLATFORM=offscreen"
        )
    try:
        result = subprocess.run(list(probe), capture_output=True, text=True, timeout=60, env=dict(env))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Qt cannot open a window: the start-up check failed ({exc})"
    if result.returncode == 0:
        return None
    stderr = result.stderr or ""
    if "could not connect to display" in stderr.lower():
        return (
            f"Qt cannot connect to the display DISPLAY={env.get('DISPLAY')}; check that the X server "
            "runs and allows connections, or use --screenshot OUT.png / QT_QPA_PLATFORM=offscreen"
        )
    missing = [] if ctypes.util.find_library("xcb-cursor") else ["libxcb-cursor0"]
    if missing or "xcb" in stderr:
        named = ", ".join(missing) + " ..." if missing else "for the xcb platform plugin"
        return (
            f"Qt cannot open a window: missing system libraries ({named}). "
            f"On Debian/Ubuntu: sudo apt-get install {XCB_PACKAGES}"
        )
    last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {result.returncode}"
    return f"Qt cannot open a window: {last}"


def _drop_offscreen_noise(_mode, _context, message: str) -> None:
    """Qt message handler: the offscreen plugin warns about every dock; keep the rest."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def _application(screenshot: bool):
    """The running QApplication, created (off screen for screenshots) when there is none."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if screenshot:
            from PySide6.QtCore import qInstallMessageHandler

            os.environ["QT_QPA_PLATFORM"] = "offscreen"
            qInstallMessageHandler(_drop_offscreen_noise)
        app = QApplication([sys.argv[0] if sys.argv else "hsiviewer"])
        app.setApplicationName("hsiviewer")
        app.setOrganizationName("hsiviewer")
        app.setDesktopFileName("hsiviewer")  # docks match the window to hsiviewer.desktop by this
    from PySide6.QtGui import QIcon

    from hsiviewer.data.resources import resources_dir

    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "hsiviewer.png")))
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    return app


def showcase_pixels(labels: Optional[np.ndarray], count: int = 3) -> list[tuple[int, int]]:
    """Pixels worth pinning in a demonstration: one of each of the ``count`` largest classes.

    The pixel is the middle one (in row-major order) of its class, so the choice is fixed.
    """
    if labels is None:
        return []
    ids, sizes = np.unique(labels[labels > 0], return_counts=True)
    pixels = []
    for class_id in ids[np.argsort(-sizes, kind="stable")][:count]:
        flat = np.flatnonzero(labels == class_id)
        row, col = np.unravel_index(flat[len(flat) // 2], labels.shape)
        pixels.append((int(row), int(col)))
    return pixels


def save_screenshot(window, app, path: str | Path) -> bool:
    """Pin a few labelled pixels, lay the window out and save ``window.grab()`` to ``path``."""
    scene = window.scene
    # three pinned spectra and a fourth pixel "under the cursor" (the dashed live curve)
    pixels = showcase_pixels(scene.labels, count=4) if scene is not None else []
    if scene is not None and len(pixels) < 4:
        pixels = [(scene.n_rows * i // 5, scene.n_cols * i // 5) for i in (1, 2, 3, 4)]
    for row, col in pixels[:3]:
        window.pin_pixel(row, col)
    if pixels:
        window.inspect_pixel(*pixels[-1])
    window.resize(*SCREENSHOT_SIZE)  # the offscreen "screen" is only 800 x 800
    window.show()
    for _ in range(3):
        app.processEvents()
    window.view.reset_zoom()
    app.processEvents()
    # a large scene's image and hovered pixel arrive from worker threads: wait for both (bounded)
    deadline = time.monotonic() + 30.0
    while (
        window.scene is not None
        and (not window.viewport.is_current() or window.inspector.busy)
        and time.monotonic() < deadline
    ):
        app.processEvents()
        time.sleep(0.005)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return bool(window.grab().save(str(path)))


def run_app(scene_path: str | None = None, labels_path: str | None = None, screenshot: str | None = None) -> int:
    """Run the viewer.

    Parameters
    ----------
    scene_path : str, optional
        The scene to open (the bundled demo when None).
    labels_path : str, optional
        A ground-truth raster for the scene.
    screenshot : str, optional
        Save a PNG of the window there and return instead of running the event loop.

    Returns
    -------
    int
        The exit code: 0, or 2 when Qt cannot open a window or the screenshot fails.
    """
    if screenshot is None:
        problem = display_problem()
        if problem is not None:
            print(f"hsiviewer: error: {problem}", file=sys.stderr)
            return EXIT_NO_DISPLAY
    app = _application(screenshot is not None)
    from hsiviewer import demo_scene_path
    from hsiviewer.gui.main_window import MainWindow

    window = MainWindow()
    failures: list[str] = []
    if screenshot is not None:  # no modal dialog without a screen: report on stderr
        window.error_dialog = lambda title, text: failures.append(f"{title}: {text}")
    scene = window.open_scene(scene_path or demo_scene_path(), labels=labels_path)
    if screenshot is None:
        window.show()
        return int(app.exec())
    if scene is None or not save_screenshot(window, app, screenshot):
        print(f"hsiviewer: error: {'; '.join(failures) or f'cannot save {screenshot}'}", file=sys.stderr)
        window.close()
        return EXIT_NO_DISPLAY
    window.close()
    return EXIT_OK
