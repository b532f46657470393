"""Spectral tools in the main window: the Library panel and the Tools menu (matching, band math, mask).

:func:`install` adds them to a :class:`~hsiviewer.gui.main_window.MainWindow`. The work runs in the
core (:mod:`hsiviewer.spectral`): matching and band math on a :class:`QtJob` with progress and
cancel, the results as layers of the window's :class:`LayerStack` (a class layer and a continuous
score layer for matching, a continuous layer for band math). Masks are in
:mod:`hsiviewer.gui.actions.mask_tools`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from hsiviewer.data.classes import ClassTable
from hsiviewer.errors import ExportError
from hsiviewer.gui.actions.mask_tools import MaskTools
from hsiviewer.gui.threads.qt_workers import QtJob
from hsiviewer.gui.widgets.library_panel import LibraryPanel
from hsiviewer.gui.widgets.spectral_dialogs import (
    BandMathDialog,
    MatchDialog,
)
from hsiviewer.spectral.matching import MatchResult
from hsiviewer.viewer.continuous import ContinuousLayer
from hsiviewer.viewer.library_view import LibraryView

LIBRARY_FILTER = "Spectral libraries (*.sli *.hdr *.csv *.txt *.asc);;All files (*)"


class SpectralTools(QObject):
    """The controller of the spectral tools of one window.

    Attributes
    ----------
    library : LibraryView
    panel : LibraryPanel
    match_dialog, band_math_dialog : QDialog
    masks : MaskTools
        Tools ▸ Mask… and ``window.analysis_mask``.
    last_match : MatchResult or None
        The latest matching result (its threshold can still be changed).
    job : QtJob or None
        The running matching or band-math job.
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.library = LibraryView()
        self.panel = LibraryPanel(self.library)
        window.add_dock(self.panel, "Library", Qt.DockWidgetArea.RightDockWidgetArea)
        self.match_dialog = MatchDialog(window)
        self.band_math_dialog = BandMathDialog(window)
        self.masks = MaskTools(window)
        self.last_match: MatchResult | None = None
        self._match_layers: tuple[str, str] | None = None
        self.job: QtJob | None = None
        self._build_menu()
        self._connect()
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        """On closing the window: stop the running job and wait for its thread."""
        if watched is self.window and event.type() == QEvent.Type.Close and self.job is not None:
            self.job.cancel()
            self.job.wait(30000)
        return False

    # --- wiring -------------------------------------------------------------------------
    def _build_menu(self) -> None:
        bar = self.window.menuBar()
        self.menu = bar.addMenu("&Tools")
        bar.insertMenu(self.window.menus.help.menuAction(), self.menu)  # before Help

        def action(text: str, slot, tip: str) -> QAction:
            act = QAction(text, self.window)
            act.setStatusTip(tip)
            act.triggered.connect(lambda _checked=False: slot())
            self.menu.addAction(act)
            return act

        self.open_library_action = action(
            "Open spectral &library…",
            self.ask_open_library,
            "Read reference spectra (ENVI .sli, CSV, USGS splib07, ECOSTRESS)",
        )
        self.match_action = action(
            "Spectral &matching…", self.show_match, "Map the scene against the library (SAM or SID)"
        )
        self.band_math_action = action("&Band math…", self.show_band_math, "An index or expression by wavelength")
        self.mask_action = action(
            "Mas&k…", self.masks.show, "Threshold a layer into a mask for display, training and prediction"
        )
        self.menu.addSeparator()
        self.export_action = action(
            "&Export selected layer as GeoTIFF…",
            self.ask_export_layer,
            "Class layers as class maps, continuous layers as float32",
        )

    def _connect(self) -> None:
        w = self.window
        self.library.changed.connect(self.refresh_references)
        w.scene_changed.connect(self._on_scene)
        self.panel.open_requested.connect(self.ask_open_library)
        self.panel.save_requested.connect(self.ask_save_library)
        self.panel.add_pins_requested.connect(lambda: w.run_guarded("add the pinned spectra", self.add_pins))
        self.panel.add_means_requested.connect(lambda: w.run_guarded("add the region means", self.add_region_means))
        self.match_dialog.run_requested.connect(self.run_match)
        self.match_dialog.cancel_requested.connect(self.cancel)
        self.match_dialog.threshold_changed.connect(self.set_match_threshold)
        self.band_math_dialog.run_requested.connect(self.run_band_math)
        self.band_math_dialog.cancel_requested.connect(self.cancel)

    def _on_scene(self, _scene) -> None:
        self.last_match = None
        self.refresh_references()

    # --- library ------------------------------------------------------------------------
    def open_library(self, path: str | Path) -> None:
        """Read a library file and show it (errors in a dialog)."""
        from hsiviewer.spectral.library_io import read_library

        lib = self.window.run_guarded(f"open {Path(path).name}", read_library, path)
        if lib is not None:
            self.library.set_library(lib)
            self.window.statusBar().showMessage(
                f"Library {Path(path).name}: {len(lib)} spectra, {lib.describe_scale()}", 8000
            )

    def ask_open_library(self) -> None:
        """Tools ▸ Open spectral library…"""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open spectral library", "", LIBRARY_FILTER)
        if path:
            self.open_library(path)

    def save_library(self, path: str | Path) -> Path | None:
        """Write the library (.sli or .csv by suffix); errors in a dialog."""
        from hsiviewer.spectral.library_io import write_library

        if self.library.library is None or not len(self.library):
            self.window.error_dialog("Cannot save the library", "The library is empty: open one or add pins.")
            return None
        return self.window.run_guarded("save the library", write_library, self.library.library, path)

    def ask_save_library(self) -> None:
        """The panel's Save… button."""
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Save spectral library", "library.sli", "ENVI spectral library (*.sli);;CSV table (*.csv)"
        )
        if path:
            self.save_library(path if Path(path).suffix else path + ".sli")

    def add_pins(self) -> int:
        """Add every pinned spectrum to the library; returns how many."""
        scene = self.window.scene
        if scene is None or not self.window.pins.pins:
            raise ExportError("there are no pinned spectra to add (click pixels to pin them)")
        pinned = self.window.spectrum_panel.pinned_data()  # read when pinned: no read here
        for pin, spectrum in pinned:
            self.library.add_spectrum(f"pixel {pin.row}, {pin.col}", spectrum, scene)
        return len(pinned)

    def add_region_means(self) -> int:
        """Add each class's mean spectrum over the drawn training regions to the library; returns how many."""
        from hsiviewer.regions.statistics import tile_statistics

        scene = self.window.scene
        tools = getattr(self.window, "region_tools", None)
        if scene is None or tools is None or not tools.regions.regions:
            raise ExportError("there are no training regions to take class means from (draw or open regions)")
        names = {c.class_id: c.name for c in tools.regions.classes}
        # the region ids the map already holds, tile by tile: no raster of the whole scene
        stats, _ = tile_statistics(scene, tools.overlay.labelled_tiles(), tools.overlay.class_lookup(), names)
        if not stats:
            raise ExportError("the training regions cover no pixel of this scene")
        for s in stats:
            self.library.add_spectrum(f"{s.name} (mean of {s.n_pixels} px, {s.n_regions} regions)", s.mean, scene)
        return len(stats)

    def refresh_references(self) -> None:
        """Draw the ticked library spectra, resampled to the scene, in the spectrum plot."""
        scene = self.window.scene
        panel = self.window.spectrum_panel
        if scene is None or not len(self.library):
            panel.set_references([])
            return
        lib = self.window.run_guarded("show the library on this scene", self.library.for_scene, scene)
        if lib is None:
            panel.set_references([])
            return
        panel.set_references(
            [
                (name, lib.spectra[i], self.library.color(i))
                for i, name in enumerate(lib.names)
                if self.library.visible[i]
            ]
        )

    def references(self):
        """The ticked library spectra on the scene's bands, as a :class:`SpectralLibrary`."""
        from hsiviewer.errors import HsiError

        lib = self.library.for_scene(self.window.scene)
        ticked = [i for i, shown in enumerate(self.library.visible) if shown]
        if lib is None or not ticked:
            raise HsiError("no reference spectra: open a library or add pinned spectra, and tick the ones to match")
        return lib.subset(ticked)

    # --- jobs ---------------------------------------------------------------------------
    def _start(self, job: QtJob, dialog, on_finished) -> None:
        self.job = job
        dialog.set_running(True)
        job.progress.connect(dialog.show_progress)
        job.finished.connect(on_finished)
        job.failed.connect(lambda message, _trace: self.window.error_dialog(f"{job.name} failed", message))
        job.ended.connect(lambda: self._on_ended(dialog))
        job.start()

    def _on_ended(self, dialog) -> None:
        self.job = None
        dialog.set_running(False)

    def cancel(self) -> None:
        """Ask the running job to stop at its next tile."""
        if self.job is not None:
            self.job.cancel()

    def _busy(self) -> bool:
        if self.job is not None:
            self.window.error_dialog("Busy", f"{self.job.name} is still running; wait or cancel it.")
            return True
        if self.window.scene is None:
            self.window.error_dialog("No scene", "Open a scene first.")
            return True
        return False

    # --- matching -----------------------------------------------------------------------
    def show_match(self) -> None:
        """Tools ▸ Spectral matching…"""
        ticked = sum(self.library.visible)
        self.match_dialog.references.setText(
            f"{ticked} ticked spectra of the Library panel"
            if ticked
            else "none: open a library or add pins in the Library panel"
        )
        self.match_dialog.show()
        self.match_dialog.raise_()

    def run_match(self) -> None:
        """Match the scene against the ticked library spectra in a worker."""
        from hsiviewer.spectral.matching import match_scene

        if self._busy():
            return
        refs = self.window.run_guarded("match", self.references)
        if refs is None:
            return
        method = self.match_dialog.method.currentData()
        job = QtJob(
            partial(
                match_scene, self.window.scene, refs, method=method, threshold=self.match_dialog.current_threshold()
            ),
            f"Matching ({method.upper()})",
            parent=self,
            frequent=("match",),
        )
        self._start(job, self.match_dialog, partial(self._on_matched, self.window.scene))

    def _on_matched(self, scene, result) -> None:
        if result is None or scene is not self.window.scene:
            self.match_dialog.status.setText("Matching was cancelled or the scene changed: nothing was added.")
            return
        if result.cancelled:
            self.match_dialog.status.setText("Matching was cancelled: nothing was added.")
            return
        self.last_match = result
        tag = result.method.upper()
        classes_name, score_name = f"{tag} classes", f"{tag} score"
        self._match_layers = (classes_name, score_name)
        levels = (0.0, float(np.nanpercentile(result.score, 98))) if np.isfinite(result.score).any() else None
        self.window.layers.insert(
            ContinuousLayer(score_name, result.score, "magma_r", levels, result.score_name, opacity=0.8, visible=False)
        )
        self.window.add_class_layer(classes_name, result.class_map, self._match_classes(result))
        self.window.layers.select(self.window.layers.get(classes_name))
        self._report_match()

    def _match_classes(self, result) -> ClassTable:
        """The reference names, each class in the colour of its curve in the spectrum plot."""
        ticked = [i for i, shown in enumerate(self.library.visible) if shown]
        colors = (
            {k: self.library.color(i) for k, i in enumerate(ticked, start=1)}
            if len(ticked) == len(result.names)
            else {}
        )
        return ClassTable.from_ids(range(1, len(result.names) + 1), dict(enumerate(result.names, start=1)), colors)

    def set_match_threshold(self, threshold: float | None) -> None:
        """Re-classify the last matching result with another threshold (no matching again)."""
        if self.last_match is None or self._match_layers is None:
            return
        self.last_match.threshold = threshold
        layer = self.window.layers.get(self._match_layers[0])
        if layer is not None:
            layer.set_data(self.last_match.class_map, self._match_classes(self.last_match))
        self._report_match()

    def _report_match(self) -> None:
        result = self.last_match
        if result is None:
            return
        done = int(np.count_nonzero(result.class_map))
        self.match_dialog.status.setText(
            f"{result.method.upper()} against {len(result.names)} references in {result.seconds:.1f} s: "
            f"{done:,} of {result.best.size:,} pixels classified"
        )

    # --- band math ----------------------------------------------------------------------
    def show_band_math(self) -> None:
        """Tools ▸ Band math…"""
        self.band_math_dialog.show()
        self.band_math_dialog.raise_()

    def run_band_math(self) -> None:
        """Check the expression now (errors in a dialog), then evaluate it in a worker."""
        from hsiviewer.spectral.bandmath import evaluate, parse_expression

        if self._busy():
            return
        dialog = self.band_math_dialog
        text = dialog.expression.text()
        expr = self.window.run_guarded("evaluate the expression", parse_expression, text, self.window.scene)
        if expr is None:
            return
        name = dialog.name.text().strip() or "Index"
        job = QtJob(
            partial(evaluate, self.window.scene, expr), f"Band math {name}", parent=self, frequent=("bandmath",)
        )
        self._start(
            job, dialog, partial(self._on_band_math, self.window.scene, name, expr, dialog.colormap.currentText())
        )

    def _on_band_math(self, scene, name: str, expr, colormap: str, values) -> None:
        if values is None or scene is not self.window.scene:
            self.band_math_dialog.status.setText("Cancelled: nothing was added.")
            return
        layer = self.window.layers.insert(ContinuousLayer(name, values, colormap, description=expr.text))
        self.window.layers.select(layer)
        nodata = int(np.count_nonzero(~np.isfinite(values)))
        self.band_math_dialog.status.setText(f"{name} = {expr.text}\n{expr.describe(scene)}\n{nodata:,} nodata pixels")

    # --- export -------------------------------------------------------------------------
    def export_layer(self, path: str | Path) -> Path:
        """Write the selected layer: a class map, or a float32 GeoTIFF for a continuous layer."""
        from hsiviewer.io.export import write_class_map, write_float_map

        layer, scene = self.window.layers.selected, self.window.scene
        if layer is None or scene is None:
            raise ExportError("there is no layer to export")
        if isinstance(layer, ContinuousLayer):
            return write_float_map(path, layer.values, layer.description, like=scene)
        return write_class_map(path, layer.labels, layer.classes, like=scene)

    def ask_export_layer(self) -> None:
        """Tools ▸ Export selected layer as GeoTIFF…"""
        layer = self.window.layers.selected
        name = (layer.name if layer is not None else "layer").replace(" ", "_")
        path, _ = QFileDialog.getSaveFileName(self.window, "Export layer", f"{name}.tif", "GeoTIFF (*.tif *.tiff)")
        if path:
            written = self.window.run_guarded("export the layer", self.export_layer, path)
            if written is not None:
                self.window.statusBar().showMessage(f"Wrote {written}", 8000)


def install(window) -> SpectralTools:
    """Add the Library panel and the Tools menu to ``window``; returns the controller."""
    return SpectralTools(window)
