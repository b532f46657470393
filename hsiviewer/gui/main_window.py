"""The main window: the map canvas in the middle, dockable panels around it, menus and status bar.

Public API for panels that plug in (a training panel, for example):

- :attr:`MainWindow.scene` and the :attr:`MainWindow.scene_changed` signal;
- :meth:`MainWindow.add_class_layer` to show a class map, :meth:`MainWindow.add_dock` to add a panel;
- the signals :attr:`MainWindow.pixel_hovered` and :attr:`MainWindow.pixel_clicked` (row, col);
- :meth:`MainWindow.set_inspector_extra` to show more about the pixel under the cursor;
- :attr:`MainWindow.error_dialog` (replaceable) and :meth:`MainWindow.run_guarded` to report errors;
- :attr:`MainWindow.leave_guards`: callables asked before another scene opens (False keeps the current one).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QWidget

from hsiviewer import open_scene as read_scene
from hsiviewer.data.classes import ClassTable
from hsiviewer.data.scene import Scene
from hsiviewer.errors import HsiError
from hsiviewer.gui.actions.menus import build_menus
from hsiviewer.gui.actions.model_menu import install as install_model_tools
from hsiviewer.gui.actions.pixel_inspector import PixelInspector
from hsiviewer.gui.actions.region_actions import install as install_region_tools
from hsiviewer.gui.actions.scene_opener import SceneOpener
from hsiviewer.gui.actions.spectral_tools import install as install_spectral_tools
from hsiviewer.gui.actions.viewport import ViewportController
from hsiviewer.gui.widgets.display_panel import DisplayPanel
from hsiviewer.gui.widgets.image_view import SceneView
from hsiviewer.gui.widgets.layers_panel import LayersPanel
from hsiviewer.gui.widgets.spectrum_panel import SpectrumPanel
from hsiviewer.viewer.display import DisplayState
from hsiviewer.viewer.layers import ClassLayer, LayerStack
from hsiviewer.viewer.pins import PinnedPixels

GROUND_TRUTH = "Ground truth"


class MainWindow(QMainWindow):
    """The hsiviewer main window.

    Signals
    -------
    pixel_hovered(row, col)
        The cursor is over pixel (row, col) of the scene.
    pixel_clicked(row, col)
        The user clicked pixel (row, col), and its spectrum is pinned (on a large scene once read on a
        worker, unless it was the pixel on display).
    scene_changed(scene)
        A scene was opened (after the layers of the previous one were removed).
    image_shown()
        The image asked for last (display settings, zoom, pan) is on the canvas.

    Attributes
    ----------
    display_state : DisplayState
    pins : PinnedPixels
    layers : LayerStack
    view : SceneView
    display_panel, spectrum_panel, layers_panel : QWidget
    error_dialog : callable(title, message)
        How errors are shown; a critical ``QMessageBox`` unless replaced (tests do).
    """

    pixel_hovered = Signal(int, int)
    pixel_clicked = Signal(int, int)
    scene_changed = Signal(object)
    image_shown = Signal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("hsiviewer")
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry() if screen is not None else None
        self.resize(
            min(1400, int(room.width() * 0.95)) if room else 1400, min(900, int(room.height() * 0.95)) if room else 900
        )
        self.setAcceptDrops(True)
        self._scene: Optional[Scene] = None
        self.error_dialog: Callable[[str, str], None] = self._critical_box
        #: Each returns False to keep the current scene (unsaved work the user wants to keep).
        self.leave_guards: list[Callable[[], bool]] = []
        self.display_state = DisplayState()
        self.pins = PinnedPixels()
        self.layers = LayerStack()
        self.view = SceneView()
        self.view.setAcceptDrops(False)  # let dropped files reach the window
        self.view.viewport().setAcceptDrops(False)
        self.setCentralWidget(self.view)
        self.display_panel = DisplayPanel(self.display_state)
        self.spectrum_panel = SpectrumPanel(self.pins)
        self.layers_panel = LayersPanel(self.layers)
        self.docks: dict[str, QDockWidget] = {}
        self.add_dock(self.display_panel, "Display", Qt.DockWidgetArea.LeftDockWidgetArea)
        self.add_dock(self.layers_panel, "Layers", Qt.DockWidgetArea.LeftDockWidgetArea)
        self.add_dock(self.spectrum_panel, "Spectrum", Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.docks["Display"], self.docks["Spectrum"]], [290, 520], Qt.Orientation.Horizontal)
        self.pixel_label = QLabel("Open a scene (File ▸ Open scene…, or drop a file here)")
        self.statusBar().addWidget(self.pixel_label, 1)
        # What the reader assumed or dropped (units, encodings, ignored header keys): one line
        # here, every sentence in the tooltip.
        self.warnings_label = QLabel("")
        self.warnings_label.setVisible(False)
        self.statusBar().addPermanentWidget(self.warnings_label)
        self._view_error_shown = False
        self.menus = build_menus(self)
        self.viewport = ViewportController(self)  # reads and stretches off this thread
        self.inspector = PixelInspector(self)  # the status bar and live spectrum of the hovered pixel
        self.opener = SceneOpener(self)  # File > Open and drops: read on a worker, then shown
        self._connect()
        self.model_tools = install_model_tools(self)  # training, results and the Model menu
        self.region_tools = install_region_tools(self)  # drawing training regions, File ▸ Open/Save regions
        self.spectral_tools = install_spectral_tools(self)  # Library panel, Tools menu, window.analysis_mask

    def _connect(self) -> None:
        self.display_state.changed.connect(self._refresh_image)
        self.view.pixel_hovered.connect(self.inspect_pixel)
        self.view.pixel_left.connect(self._on_leave)
        self.view.pixel_clicked.connect(self._on_click)
        self.pins.changed.connect(lambda: self.view.set_pins(self.pins.pins))
        self.layers.added.connect(self.view.add_layer)
        self.layers.removed.connect(self.view.remove_layer)
        self.spectrum_panel.export_requested.connect(self.menus.export_spectra.trigger)

    # --- public API -------------------------------------------------------------------
    @property
    def scene(self) -> Optional[Scene]:
        """The scene on display, or None."""
        return self._scene

    def open_scene(self, path: str | Path, labels: str | Path | None = None) -> Optional[Scene]:
        """Read ``path`` (and a ground-truth raster ``labels``) and show it.

        Errors are shown with :attr:`error_dialog`; the current scene then stays.

        Returns
        -------
        Scene or None
            The opened scene, or None when it could not be read (or a leave guard kept the current one).
        """
        if not all(guard() for guard in self.leave_guards):
            return None
        scene = self.run_guarded(f"open {Path(path).name}", read_scene, path, labels=labels)
        if scene is not None:
            self.set_scene(scene)
        return scene

    def open_scene_in_background(self, path: str | Path, labels: str | Path | None = None) -> None:
        """Open ``path`` as File ▸ Open scene and dropped files do: read on a worker thread, then shown.

        The window keeps running while the file is read (see
        :mod:`hsiviewer.gui.actions.scene_opener`); :attr:`scene_changed` fires when the scene is
        shown. Errors are shown with :attr:`error_dialog`, and the current scene then stays. The leave
        guards are asked once the file has been read.
        """
        self.opener.open(path, labels)

    def set_scene(self, scene: Scene) -> None:
        """Show an already opened :class:`~hsiviewer.data.scene.Scene`; its labels become a layer.

        The reader's warnings are shown in the status bar (:attr:`warnings_label`).
        """
        self._scene = scene
        self._view_error_shown = False
        self.inspector.cancel(pins=True)  # a pixel of the previous scene still being read is not shown
        self.opener.cancel()  # nor a file still being read for File > Open: this scene came later
        self.viewport.set_scene(scene)
        self.pins.clear()
        self.layers.clear()
        self.setWindowTitle(f"{scene.name} — hsiviewer")
        self.view.set_shape(scene.n_rows, scene.n_cols)
        self.spectrum_panel.set_scene(scene)
        self.display_panel.set_scene(None)  # so it does not mirror the new state on the old scene
        self.display_state.reset(scene)  # renders the image through _refresh_image
        self.display_panel.set_scene(scene)
        self.menus.set_presets(scene)
        if scene.labels is not None:
            self.add_class_layer(GROUND_TRUTH, scene.labels, scene.classes)
        self.pixel_label.setText(f"{scene.name}: {scene.n_rows} x {scene.n_cols} pixels, {scene.n_bands} bands")
        self._show_reader_warnings(scene)
        self.scene_changed.emit(scene)

    def _show_reader_warnings(self, scene: Scene) -> None:
        warnings = [str(w) for w in scene.metadata.get("warnings", [])]
        self.warnings_label.setVisible(bool(warnings))
        if warnings:
            self.warnings_label.setText(
                f"⚠ {len(warnings)} reader warning{'s' if len(warnings) > 1 else ''}: "
                + warnings[0][:80]
                + ("…" if len(warnings[0]) > 80 else "")
            )
        self.warnings_label.setToolTip("\n".join(f"• {w}" for w in warnings))

    def add_class_layer(self, name: str, array: np.ndarray, classes: Optional[ClassTable] = None) -> ClassLayer:
        """Draw a class map (rows, cols) of ids (0 = transparent) over the scene.

        A layer of the same name is updated in place (so a panel can refresh its prediction).

        Raises
        ------
        ValueError
            When no scene is open, or the array is not 2-D integer of the scene's size.
        """
        if self._scene is None:
            raise ValueError("open a scene before adding a class layer")
        if np.shape(array) != (self._scene.n_rows, self._scene.n_cols):
            raise ValueError(
                f"class layer '{name}' is {np.shape(array)} but the scene is "
                f"{self._scene.n_rows} x {self._scene.n_cols}"
            )
        return self.layers.add(name, array, classes)

    def add_dock(
        self, widget: QWidget, title: str, area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
    ) -> QDockWidget:
        """Put ``widget`` in a dockable panel called ``title`` (listed in View ▸ Panels)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[title] = dock
        if hasattr(self, "menus"):
            self.menus.panels.addAction(dock.toggleViewAction())
        return dock

    def set_inspector_extra(self, provider: Optional[Callable[[int, int], Optional[str]]]) -> None:
        """Show ``provider(row, col)`` (rich text or None) under the spectrum for the hovered pixel.

        Pass None to remove it. Errors of the provider are shown in place of its text.
        """
        self.inspector.extra = provider
        if provider is None:
            self.spectrum_panel.set_extra_text(None)

    def pin_pixel(self, row: int, col: int) -> None:
        """Pin the spectrum of (row, col) now, reading it here if it is not known yet (a click on a large
        scene reads it on a worker instead, see :meth:`PixelInspector.pin`)."""
        if self._scene is not None:
            self.pins.add(row, col)

    def status_text(self) -> str:
        """The pixel description in the status bar."""
        return self.pixel_label.text()

    def run_guarded(self, what: str, func: Callable, *args, **kwargs):
        """Call ``func``; on an error show a dialog "Cannot <what>" and return None."""
        try:
            return func(*args, **kwargs)
        except HsiError as exc:
            self.error_dialog(f"Cannot {what}", str(exc))
        except (OSError, ValueError, KeyError, IndexError) as exc:
            self.error_dialog(f"Cannot {what}", f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # an unexpected bug must not close the app with unsaved work
            self.error_dialog(
                f"Cannot {what}",
                f"Unexpected error: {type(exc).__name__}: {exc}\n\n" + "".join(traceback.format_exception(exc)[-3:]),
            )
        return None

    def _critical_box(self, title: str, message: str) -> None:
        QMessageBox.critical(self, title, message)

    def _view_error(self, what: str, exc: Exception | str) -> None:
        """An error while displaying, hovering, clicking or drawing: in the status bar each time, in a
        dialog once per scene (it would otherwise pop up on every mouse move), and the window stays usable."""
        text = (
            exc if isinstance(exc, str) else str(exc) if isinstance(exc, HsiError) else f"{type(exc).__name__}: {exc}"
        )
        self.pixel_label.setText(f"Cannot {what}: {text}")
        if not self._view_error_shown:
            self._view_error_shown = True
            self.error_dialog(
                f"Cannot {what}", text + "\n\n(Further errors of this scene are shown in the status bar only.)"
            )

    # --- reactions --------------------------------------------------------------------
    def _refresh_image(self, _field: str = "") -> None:
        self.viewport.refresh()

    def inspect_pixel(self, row: int, col: int) -> None:
        """Describe (row, col) in the status bar and draw its live spectrum, as hovering does.

        Large scenes are read on a worker (see :mod:`hsiviewer.gui.actions.pixel_inspector`):
        :attr:`pixel_hovered` fires when the pixel is shown.
        """
        self.inspector.inspect(row, col)

    def _on_leave(self) -> None:
        self.inspector.cancel()
        self.spectrum_panel.hide_live()

    def _on_click(self, row: int, col: int) -> None:
        if self._scene is not None:
            self.inspector.pin(row, col)  # pinned (and pixel_clicked) once its spectrum is read

    def _add_pin(self, row: int, col: int, spectrum: np.ndarray) -> None:
        """Pin (row, col), whose ``spectrum`` the inspector read, and say it was clicked."""
        self.spectrum_panel.remember(row, col, spectrum)
        self.pin_pixel(row, col)
        self.pixel_clicked.emit(row, col)

    # --- drag and drop ----------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        """Accept a drag that carries a local file."""
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt name)
        """Open the first dropped local file as a scene."""
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_scene_in_background(paths[0])
