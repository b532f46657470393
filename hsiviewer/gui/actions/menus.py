"""The menu bar of the main window: File, View and Help."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from hsiviewer import __version__
from hsiviewer.data.scene import Scene
from hsiviewer.gui.actions import file_actions
from hsiviewer.viewer.display import rgb_presets

ABOUT = (
    f"<h3>hsiviewer {__version__}</h3>"
    "<p>View, inspect, classify and export hyperspectral images.</p>"
    "<p>Hover to see a pixel's spectrum, click to pin it; pick a band or three for RGB in the "
    "Display panel; class layers and their legends are in the Layers panel.</p>"
)


class Menus:
    """The window's actions, so tests and plug-ins can trigger them by name.

    Attributes
    ----------
    open_scene, open_class_map, export_class_map, export_spectra, quit : QAction
    band_mode, rgb_mode, reset_zoom, about : QAction
    presets, panels : QMenu
    """

    def __init__(self, window) -> None:
        self.window = window
        bar = window.menuBar()
        self.file = bar.addMenu("&File")
        self.view = bar.addMenu("&View")
        self.help = bar.addMenu("&Help")
        self._build_file()
        self._build_view()
        self.about = self._action(self.help, "&About hsiviewer", self._show_about)

    def _action(self, menu: QMenu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _guarded(self, what: str, func):
        return lambda: self.window.run_guarded(what, func, self.window)

    def _build_file(self) -> None:
        m = self.file
        self.open_scene = self._action(
            m,
            "&Open scene…",
            self._guarded("open the scene", file_actions.ask_open_scene),
            QKeySequence.StandardKey.Open,
            "Open an ENVI, GeoTIFF, MATLAB or NumPy hyperspectral scene",
        )
        self.open_class_map = self._action(
            m,
            "Open &class map…",
            self._guarded("open the class map", file_actions.ask_open_class_map),
            "Ctrl+L",
            "Add a class raster as a layer",
        )
        m.addSeparator()
        self.export_class_map = self._action(
            m,
            "&Export class map…",
            self._guarded("export the class map", file_actions.ask_export_class_map),
            "Ctrl+E",
            "Write the selected class layer as a GeoTIFF",
        )
        self.export_spectra = self._action(
            m,
            "Export &pinned spectra…",
            self._guarded("export the spectra", file_actions.ask_export_spectra),
            None,
            "Write the pinned spectra as CSV",
        )
        m.addSeparator()
        self.quit = self._action(m, "&Quit", self.window.close, QKeySequence.StandardKey.Quit)

    def _build_view(self) -> None:
        m = self.view
        state = self.window.display_state
        group = QActionGroup(self.window)
        self.band_mode = self._action(m, "Single &band", lambda: state.set_mode("band"), "Ctrl+1")
        self.rgb_mode = self._action(m, "&RGB", lambda: state.set_mode("rgb"), "Ctrl+2")
        for action in (self.band_mode, self.rgb_mode):
            action.setCheckable(True)
            group.addAction(action)
        self.presets = m.addMenu("RGB &presets")
        self.presets.setEnabled(False)
        m.addSeparator()
        self.reset_zoom = self._action(m, "&Zoom to scene", self.window.view.reset_zoom, "Ctrl+0")
        self.panels = m.addMenu("P&anels")
        for dock in self.window.docks.values():
            self.panels.addAction(dock.toggleViewAction())

    def set_presets(self, scene: Scene) -> None:
        """Fill View ▸ RGB presets for ``scene``."""
        self.presets.clear()
        state = self.window.display_state
        for name, bands in rgb_presets(scene).items():
            action = self.presets.addAction(name)
            action.triggered.connect(lambda _=False, b=bands: (state.set_rgb(b), state.set_mode("rgb")))
        self.presets.setEnabled(not self.presets.isEmpty())

    def sync_mode(self, mode: str) -> None:
        """Tick the action of the current display mode."""
        (self.band_mode if mode == "band" else self.rgb_mode).setChecked(True)

    def _show_about(self) -> None:
        QMessageBox.about(self.window, "About hsiviewer", ABOUT)


def build_menus(window) -> Menus:
    """Create the menu bar of ``window`` and return its actions."""
    return Menus(window)
