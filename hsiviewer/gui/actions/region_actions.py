"""Regions in the main window: the Regions tool bar and panel, File ▸ Open/Save regions, undo/redo,
the statistics, and the prompt for unsaved regions.

The statistics (mean ± std spectrum per class and of the selected region) read the scene tile by tile
where regions are (:func:`~hsiviewer.regions.statistics.tile_statistics`): on the window's thread for
small scenes, on a worker for large ones (the newest edit wins), so drawing on a big file never waits
on the disk. Pixel and region counts need no read and are shown at once.

:func:`install` wires a :class:`~hsiviewer.regions.model.RegionSet` to the map (overlay and drawing tools),
the panel and the menus, through the window's public API only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QColor, QKeySequence
from PySide6.QtWidgets import QColorDialog, QFileDialog, QInputDialog, QMessageBox, QToolBar

from hsiviewer.errors import HsiError
from hsiviewer.gui.threads.latest_worker import LatestWorker
from hsiviewer.gui.widgets.region_overlay import RegionOverlay
from hsiviewer.gui.widgets.region_tools import RegionTools
from hsiviewer.gui.widgets.regions_panel import RegionsPanel
from hsiviewer.regions.model import RegionSet
from hsiviewer.regions.statistics import label_counts, tile_statistics

TOOL_LABELS = (
    ("pan", "Pan", "Pan and zoom the map (regions are not edited)"),
    ("polygon", "Polygon", "Click corners; double-click or Enter closes; Esc cancels"),
    ("rectangle", "Rectangle", "Drag from the first pixel to the last"),
    ("lasso", "Lasso", "Drag a freehand outline"),
    ("brush", "Brush", "Paint a region with the brush radius of the Regions panel"),
    ("eraser", "Eraser", "Erase from every region under the brush"),
    ("select", "Select", "Click a region to select it, drag to move it, Delete removes it"),
)
OPEN_FILTER = (
    "Vector files (*.gpkg *.shp *.geojson *.json);;GeoPackage (*.gpkg);;Shapefile (*.shp);;GeoJSON (*.geojson *.json)"
)
STATS_DELAY_MS = 300


class RegionsController(QObject):
    """Owns the regions of the scene on display and everything that edits or shows them.

    Attributes
    ----------
    regions : RegionSet
    overlay : RegionOverlay
    tools : RegionTools
    panel : RegionsPanel
    actions : dict[str, QAction]
        ``tool_<name>``, ``undo``, ``redo``, ``open``, ``save``.
    path : Path or None
        Where the regions were last saved or opened from.
    ask_unsaved : callable() -> str
        Asks what to do with unsaved regions: ``"save"``, ``"discard"`` or ``"cancel"`` (tests replace it).
    ask_text, ask_item, ask_color : callables
        The dialogs for names, choices and colours (tests replace them).
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.regions = RegionSet()
        self.path: Optional[Path] = None
        self.stats_enabled = True
        self.overlay = RegionOverlay(window.view, self.regions)
        self.panel = RegionsPanel(self.regions)
        self.tools = RegionTools(window.view, self.regions, self.overlay, self.panel.current_class)
        self.tools.on_error = lambda title, text: window.error_dialog(title, text)
        self.ask_unsaved: Callable[[], str] = self._ask_unsaved
        self.ask_text: Callable[[str, str, str], Optional[str]] = self._ask_text
        self.ask_item: Callable[[str, str, list], Optional[str]] = self._ask_item
        self.ask_color: Callable[[tuple], Optional[tuple]] = self._ask_color
        self._stats_timer = QTimer(self)
        self._stats_timer.setSingleShot(True)
        self._stats_timer.setInterval(STATS_DELAY_MS)
        self._stats_timer.timeout.connect(self.update_statistics)
        self.stats_worker = LatestWorker("hsiviewer-stats", self)
        self.stats_worker.done.connect(self._on_statistics)
        self.stats_worker.failed.connect(self._on_statistics_failed)
        self._stats_scene = None  # the scene the statistics on their way were asked for
        self.actions: dict[str, QAction] = {}
        self._build_toolbar()
        self._build_menu()
        self.dock = window.add_dock(self.panel, "Regions", Qt.DockWidgetArea.RightDockWidgetArea)
        self._connect()

    # --- construction ---------------------------------------------------------------------------
    def _action(self, key: str, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(tip or text)
        action.triggered.connect(lambda _checked=False: slot())
        self.actions[key] = action
        return action

    def _build_toolbar(self) -> None:
        bar = QToolBar("Regions", self.window)
        bar.setObjectName("toolbar_regions")
        group = QActionGroup(self.window)
        for name, text, tip in TOOL_LABELS:
            action = self._action(f"tool_{name}", text, lambda n=name: self.tools.set_tool(n), tip=tip)
            action.setCheckable(True)
            group.addAction(action)
            bar.addAction(action)
        self.actions["tool_pan"].setChecked(True)
        bar.addSeparator()
        bar.addAction(
            self._action(
                "undo", "Undo", self.regions.undo, QKeySequence.StandardKey.Undo, "Undo the last region edit (Ctrl+Z)"
            )
        )
        bar.addAction(
            self._action(
                "redo", "Redo", self.regions.redo, "Ctrl+Shift+Z", "Redo the last undone region edit (Ctrl+Shift+Z)"
            )
        )
        self.toolbar = bar
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    def _build_menu(self) -> None:
        menus = self.window.menus
        before = menus.quit
        menus.file.insertAction(
            before,
            self._action(
                "open", "Open &regions…", self.ask_open, tip="Open training regions (GeoPackage, Shapefile, GeoJSON)"
            ),
        )
        menus.file.insertAction(
            before,
            self._action(
                "save", "&Save regions…", self.ask_save, "Ctrl+Shift+S", "Save the training regions as a GeoPackage"
            ),
        )
        menus.file.insertAction(
            before,
            self._action(
                "export_stats",
                "Export region &statistics…",
                self.ask_export_statistics,
                tip="Write the class spectra (mean, std) as CSV",
            ),
        )
        menus.file.insertSeparator(before)

    def _connect(self) -> None:
        self.window.scene_changed.connect(self._on_scene)
        self.window.installEventFilter(self)
        self.regions.changed.connect(self._on_regions_changed)
        self.tools.message.connect(lambda text: self.window.statusBar().showMessage(text, 5000))
        self.tools.tool_changed.connect(lambda name: self.actions[f"tool_{name}"].setChecked(True))
        self.tools.selection_changed.connect(lambda _rid: self._stats_timer.start())
        self.panel.brush_radius.valueChanged.connect(lambda v: setattr(self.tools, "brush_radius", float(v)))
        self.panel.add_requested.connect(lambda: self._guard("add a class", self.add_class))
        self.panel.rename_requested.connect(lambda: self._guard("rename the class", self.rename_class))
        self.panel.recolor_requested.connect(lambda: self._guard("recolour the class", self.recolor_class))
        self.panel.merge_requested.connect(lambda: self._guard("merge the classes", self.merge_class))
        self.panel.delete_requested.connect(lambda: self._guard("delete the class", self.delete_class))
        self.panel.export_requested.connect(self.ask_export_statistics)
        self.window.leave_guards.append(self.confirm_leave)
        self._sync_actions()

    def _guard(self, what: str, func, *args):
        return self.window.run_guarded(what, func, *args)

    # --- scene and state ----------------------------------------------------------------------------
    def _on_scene(self, scene) -> None:
        self.stats_worker.invalidate()  # statistics of the previous scene still being read are dropped
        self.tools.set_tool("pan")
        self.tools.select(None)
        self.path = None
        self.regions.load([], [])
        self.overlay.set_shape(scene.n_rows, scene.n_cols)
        self.panel.set_counts({})
        self.panel.show_statistics(np.zeros(0), "", [])

    def _on_regions_changed(self, kind: str, _box) -> None:
        if self.tools.selected is not None and self.tools.selected not in {r.region_id for r in self.regions.regions}:
            self.tools.select(None)
        self._sync_actions()
        self._stats_timer.start()

    def _sync_actions(self) -> None:
        self.actions["undo"].setEnabled(self.regions.can_undo)
        self.actions["redo"].setEnabled(self.regions.can_redo)
        self.actions["save"].setEnabled(len(self.regions) > 0)

    def snapshot(self) -> RegionSet:
        """A copy of the regions as they are now (training runs on it while the user goes on drawing)."""
        copy = RegionSet()
        copy.load(self.regions.classes, self.regions.regions)
        return copy

    # --- classes -------------------------------------------------------------------------------------
    def add_class(self, name: Optional[str] = None) -> None:
        """Add a class (asking for its name when not given) and select it."""
        if name is None:
            name = self.ask_text("New class", "Name of the new class:", f"Class {len(self.regions.classes) + 1}")
            if not name:
                return
        cls = self.regions.add_class(name.strip())
        self.panel.select_class(cls.class_id)

    def rename_class(self, name: Optional[str] = None) -> None:
        """Rename the selected class."""
        class_id = self.panel.current_class()
        if class_id is None:
            return
        if name is None:
            name = self.ask_text("Rename class", "New name:", self.regions.get_class(class_id).name)
            if not name:
                return
        self.regions.rename_class(class_id, name.strip())

    def recolor_class(self, color: Optional[tuple] = None) -> None:
        """Give the selected class a new colour."""
        class_id = self.panel.current_class()
        if class_id is None:
            return
        color = color or self.ask_color(self.regions.get_class(class_id).color)
        if color:
            self.regions.recolor_class(class_id, color)

    def merge_class(self, target_name: Optional[str] = None) -> None:
        """Move the regions of the selected class to another class and delete the selected one."""
        class_id = self.panel.current_class()
        if class_id is None:
            return
        others = [c.name for c in self.regions.classes if c.class_id != class_id]
        if not others:
            raise HsiError("there is no other class to merge into")
        target_name = target_name or self.ask_item(
            "Merge class", f"Merge '{self.regions.get_class(class_id).name}' into:", others
        )
        if target_name:
            target = next(c for c in self.regions.classes if c.name == target_name)
            self.regions.merge_classes(class_id, target.class_id)
            self.panel.select_class(target.class_id)

    def delete_class(self) -> None:
        """Delete the selected class and its regions (undo brings them back)."""
        class_id = self.panel.current_class()
        if class_id is not None:
            self.regions.delete_class(class_id)

    # --- files -----------------------------------------------------------------------------------------
    def ask_save(self) -> Optional[Path]:
        """File ▸ Save regions…"""
        if self.window.scene is None or not len(self.regions):
            self.window.error_dialog("Cannot save the regions", "There are no regions to save: draw some first.")
            return None
        start = str(self.path or (Path(self.window.scene.path or "regions").with_suffix(".gpkg")))
        path, _ = QFileDialog.getSaveFileName(self.window, "Save regions", start, "GeoPackage (*.gpkg)")
        return self.save(path) if path else None

    def save(self, path: str | Path) -> Optional[Path]:
        """Write the regions as a GeoPackage (and its QGIS style); errors go to a dialog."""
        from hsiviewer.regions.vector import write_regions

        path = Path(path)
        if path.suffix.lower() != ".gpkg":
            path = path.with_suffix(".gpkg")
        written = self._guard("save the regions", write_regions, path, self.regions, self.window.scene)
        if written is not None:
            self.regions.mark_saved()
            self.path = written
            self.window.statusBar().showMessage(f"{len(self.regions)} regions saved to {written}", 8000)
        return written

    def ask_open(self) -> None:
        """File ▸ Open regions…"""
        if self.window.scene is None:
            self.window.error_dialog("Cannot open regions", "Open a scene first (File ▸ Open scene…).")
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Open regions", str(self.path or ""), OPEN_FILTER)
        if path:
            field = self._choose_class_field(path)
            if field is not False:
                self.open(path, field)

    def open(self, path: str | Path, class_field: Optional[str] = None) -> bool:
        """Read regions from ``path`` onto the scene, replacing the current ones (after asking if unsaved)."""
        from hsiviewer.regions.vector import read_regions

        region_file = self._guard("open the regions", read_regions, path, class_field)
        if region_file is None:
            return False
        placed = self._guard("open the regions", region_file.to_scene, self.window.scene)
        if placed is None or not self.confirm_leave():
            return False
        self.regions.load(placed.classes, placed.regions)
        self.path = Path(path) if Path(path).suffix.lower() == ".gpkg" else None
        self._sync_actions()
        self._report_problems(region_file.notes)
        return True

    def _choose_class_field(self, path: str):
        """The class attribute to use: asked when the file was not written by hsiviewer (False: cancelled)."""
        import pyogrio

        try:
            fields = [str(f) for f in pyogrio.read_info(path)["fields"]]
        except Exception:  # unreadable: read_regions will say why, with the file's name
            return None
        if {"class_id", "class_name"} <= set(fields) or len(fields) <= 1:
            return None
        from hsiviewer.regions.vector import CLASS_FIELDS

        guess = next((f for f in fields if f.lower() in CLASS_FIELDS), fields[0])
        ordered = [guess] + [f for f in fields if f != guess]
        choice = self.ask_item("Class attribute", f"Which attribute of {Path(path).name} holds the class?", ordered)
        return choice if choice else False

    def _report_problems(self, notes: list[str]) -> None:
        from hsiviewer.regions.rasterize import rasterize_regions

        scene = self.window.scene
        problems = notes + rasterize_regions(self.regions.regions, scene.shape[:2]).problems()
        text = f"{len(self.regions)} regions in {len(self.regions.classes)} classes opened"
        self.window.statusBar().showMessage(text + (": " + "; ".join(problems) if problems else ""), 15000)
        if problems:
            self.window.error_dialog(
                "Regions opened, with notes", text + ".\n\n" + "\n".join(f"• {p}" for p in problems)
            )

    def confirm_leave(self) -> bool:
        """True when the regions may be dropped (saved, nothing drawn, or the user agreed)."""
        if not self.regions.dirty or not len(self.regions) and not self.regions.classes:
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.ask_save() is not None if self.path is None else self.save(self.path) is not None
        return answer == "discard"

    def _ask_unsaved(self) -> str:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Unsaved regions",
            "The training regions have changes that are not saved.",
            parent=self.window,
        )
        box.setStandardButtons(
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
        )
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            QMessageBox.StandardButton(answer), "cancel"
        )

    def _ask_text(self, title: str, label: str, value: str) -> Optional[str]:
        text, ok = QInputDialog.getText(self.window, title, label, text=value)
        return text if ok else None

    def _ask_item(self, title: str, label: str, items: list) -> Optional[str]:
        item, ok = QInputDialog.getItem(self.window, title, label, items, 0, False)
        return item if ok else None

    def _ask_color(self, color: tuple) -> Optional[tuple]:
        chosen = QColorDialog.getColor(QColor(*color), self.window, "Class colour")
        return (chosen.red(), chosen.green(), chosen.blue()) if chosen.isValid() else None

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        """Ask before the window closes with unsaved regions."""
        if watched is self.window and event.type() == QEvent.Type.Close:
            if not self.confirm_leave():
                event.ignore()
                return True
            self.stats_worker.stop()
        return False

    # --- statistics ----------------------------------------------------------------------------------
    def update_statistics(self) -> None:
        """Recount pixels per class and redraw the class spectra (after edits settle)."""
        self._stats_timer.stop()  # this is the update a pending one would have made
        scene = self.window.scene
        if scene is None:
            return
        tiles = self.overlay.labelled_tiles()  # only the tiles that hold regions
        class_of = self.overlay.class_lookup()
        counts = label_counts(tiles, class_of)
        self.panel.set_counts({c.class_id: counts.get(c.class_id, (0, 0)) for c in self.regions.classes})
        if not self.stats_enabled:
            self.stats_worker.invalidate()
            return
        names = {c.class_id: c.name for c in self.regions.classes}
        args = (scene, tiles, class_of, names, self.tools.selected)
        if self.window.viewport.synchronous:  # a small scene: reading costs less than a thread hop
            self.stats_worker.invalidate()
            found = self._guard("compute the region statistics", tile_statistics, *args)
            if found is not None:
                self._show_statistics(scene, *found)
        else:
            self._stats_scene = scene
            self.stats_worker.submit(tile_statistics, *args)

    def _on_statistics(self, call: int, found) -> None:
        scene = self.window.scene
        if call == self.stats_worker.latest and scene is not None and scene is self._stats_scene:
            self._show_statistics(scene, *found)

    def _on_statistics_failed(self, call: int, message: str) -> None:
        if call == self.stats_worker.latest and self.window.scene is self._stats_scene:
            self.window.error_dialog("Cannot compute the region statistics", message)

    def _show_statistics(self, scene, stats, region) -> None:
        from hsiviewer.viewer.spectra import spectrum_axis

        shown = {c.class_id for c in self.regions.classes if c.visible}
        x, axis_label, _ = spectrum_axis(scene)
        self.panel.show_statistics(x, axis_label, [s for s in stats if s.key in shown], region, scene.bad_bands)

    def ask_export_statistics(self) -> None:
        """File ▸ Export region statistics…"""
        if not self.panel.stats:
            self.window.error_dialog("Cannot export the statistics", "There are no labelled pixels yet.")
            return
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export region statistics", "region_statistics.csv", "CSV (*.csv)"
        )
        if path:
            self.export_statistics(path)

    def export_statistics(self, path: str | Path) -> Optional[Path]:
        """Write the class statistics on display as CSV (atomically)."""
        from hsiviewer.io.atomic import write_text_atomic
        from hsiviewer.regions.statistics import statistics_csv

        scene = self.window.scene
        stats = self.panel.stats + ([self.panel.region_stats] if self.panel.region_stats is not None else [])
        text = statistics_csv(stats, scene.wavelengths, scene.bad_bands)
        return self._guard("export the statistics", lambda: (write_text_atomic(path, text), Path(path))[1])


def install(window) -> RegionsController:
    """Add the Regions tool bar, panel and File menu entries to ``window``."""
    return RegionsController(window)
