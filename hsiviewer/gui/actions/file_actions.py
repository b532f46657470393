"""The File menu's actions: ask for a file, then call the core (readers, export, CSV).

Each function takes the :class:`~hsiviewer.gui.main_window.MainWindow` and raises typed errors;
the window runs them through its error guard, which shows a dialog and keeps the app running.
The file dialogs are looked up on :class:`QFileDialog` at call time, so tests can patch them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import QFileDialog

from hsiviewer.errors import ExportError
from hsiviewer.viewer.spectra import spectrum_axis, write_spectra_csv

SCENE_FILTER = (
    "Hyperspectral scenes (*.hdr *.bsq *.bil *.bip *.img *.dat *.tif *.tiff *.mat *.npy *.npz);;"
    "ENVI header (*.hdr);;GeoTIFF (*.tif *.tiff);;MATLAB (*.mat);;NumPy (*.npy *.npz);;"
    "All files (*)"
)
LABELS_FILTER = "Class maps (*.hdr *.tif *.tiff *.mat *.npy *.npz *.img *.dat);;GeoTIFF (*.tif *.tiff);;All files (*)"


def _start_dir(window) -> str:
    scene = window.scene
    return str(scene.path.parent) if scene is not None and scene.path is not None else ""


def ask_open_scene(window) -> None:
    """File ▸ Open scene…: pick a scene file and open it (read on a worker, shown when read)."""
    path, _ = QFileDialog.getOpenFileName(window, "Open scene", _start_dir(window), SCENE_FILTER)
    if path:
        window.open_scene_in_background(path)


def ask_open_class_map(window) -> None:
    """File ▸ Open class map…: pick a class-map raster; it is read on a worker and added as a layer.

    Raises
    ------
    SceneReadError
        When no scene is open.
    """
    path, _ = QFileDialog.getOpenFileName(window, "Open class map", _start_dir(window), LABELS_FILTER)
    if path:
        window.opener.open_class_map(path)


def _save_path(window, title: str, name: str, file_filter: str, suffix: str) -> Optional[Path]:
    start = str(Path(_start_dir(window)) / name) if _start_dir(window) else name
    path, _ = QFileDialog.getSaveFileName(window, title, start, file_filter)
    if not path:
        return None
    path = Path(path)
    return path if path.suffix else path.with_suffix(suffix)


def ask_export_class_map(window) -> Optional[Path]:
    """File ▸ Export class map…: write the selected class layer as a GeoTIFF.

    Raises
    ------
    ExportError
        When there is no class layer, or writing fails.
    """
    from hsiviewer.io.export import write_class_map

    layer = window.layers.selected
    if window.scene is None or layer is None:
        raise ExportError("there is no class layer to export (open a scene with labels or a class map)")
    if not hasattr(layer, "labels"):
        raise ExportError(f"'{layer.name}' is a continuous layer; export it with Tools ▸ Export selected layer")
    path = _save_path(
        window, "Export class map", f"{layer.name.replace(' ', '_')}.tif", "GeoTIFF (*.tif *.tiff)", ".tif"
    )
    if path is None:
        return None
    write_class_map(path, layer.labels, layer.classes, like=window.scene)
    window.statusBar().showMessage(f"Wrote class map '{layer.name}' to {path}", 8000)
    return path


def ask_export_spectra(window) -> Optional[Path]:
    """File ▸ Export pinned spectra…: write the pinned spectra as CSV.

    Raises
    ------
    ExportError
        When nothing is pinned, or writing fails.
    """
    scene = window.scene
    pinned = window.spectrum_panel.pinned_data()
    if scene is None or not pinned:
        raise ExportError("there are no pinned spectra to export (click pixels to pin them)")
    path = _save_path(
        window, "Export pinned spectra", f"{Path(scene.name).stem}_spectra.csv", "CSV table (*.csv)", ".csv"
    )
    if path is None:
        return None
    x, _, column = spectrum_axis(scene)
    write_spectra_csv(path, x, column, [(pin.column_name, values) for pin, values in pinned])
    window.statusBar().showMessage(f"Wrote {len(pinned)} spectra to {path}", 8000)
    return path
