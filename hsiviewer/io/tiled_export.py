"""Class maps written strip by strip: memory bounded by a strip, not by the scene.

:class:`ClassMapWriter` writes the same files as :func:`hsiviewer.io.export.write_class_map` and
:func:`~hsiviewer.io.export.write_confidence_map` (tiled, DEFLATE, the colour table, the class
names in the ``HSIVIEWER_CLASSES`` tag, ``<map>.tif.aux.xml`` and ``<map>.qml``), but takes the rows
as they are predicted (rasterio windowed writes) into temporary files beside the targets. Nothing
appears under the target names until :meth:`ClassMapWriter.finish` has added the overviews and
renamed every file into place; :meth:`ClassMapWriter.abort` removes the temporary files.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Optional

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

from hsiviewer.data.classes import ClassTable
from hsiviewer.errors import ExportError
from hsiviewer.io.export import BAND_DESCRIPTION, CLASSES_TAG, _aux_path, _profile, _writing
from hsiviewer.io.export_styles import pam_xml, qgis_style, rgba

#: Overviews stop once the smaller side of the coarsest level is under this many pixels.
OVERVIEW_MIN_SIZE = 256


def overview_factors(rows: int, cols: int) -> list[int]:
    """Decimation factors 2, 4, 8 ... until the coarsest level is under :data:`OVERVIEW_MIN_SIZE`."""
    factors, f = [], 2
    while min(rows, cols) / (f // 2) > OVERVIEW_MIN_SIZE:
        factors.append(f)
        f *= 2
    return factors


class ClassMapWriter:
    """A class map (and optionally its confidence) GeoTIFF being written strip by strip.

    Parameters
    ----------
    path : str or Path
        The class map ``.tif``; ``<path>.aux.xml`` and ``<stem>.qml`` are written beside it.
    shape : (rows, cols)
    classes : ClassTable
        Names and colours (as for :func:`~hsiviewer.io.export.write_class_map`).
    class_ids : sequence of int
        Every id the map can hold (decides uint8 or uint16 up front).
    confidence_path : str or Path, optional
        Also write the float32 confidence (nodata NaN) here.
    like : Scene, optional
        Its CRS and transform are copied.
    overviews : bool
        Add internal overviews (nearest for classes, average for confidence) when finishing.

    Raises
    ------
    ExportError
        When a target folder is missing or the files cannot be created.
    """

    def __init__(
        self,
        path: str | Path,
        shape: tuple[int, int],
        classes: ClassTable,
        class_ids,
        confidence_path: str | Path | None = None,
        like: Any = None,
        overviews: bool = True,
    ) -> None:
        self.path = Path(path)
        self.confidence_path = Path(confidence_path) if confidence_path is not None else None
        self.shape = (int(shape[0]), int(shape[1]))
        self.classes = classes
        self.overviews = overviews
        top = max([0, *classes.ids, *(int(i) for i in class_ids)])
        self.dtype = np.uint8 if top <= 255 else np.uint16
        self.present: set[int] = set()
        self.rows_written = 0
        self._tmp: list[Path] = []
        try:
            self._dst = self._create(self.path, self.dtype, 0, like)
            self._conf = (
                self._create(self.confidence_path, np.float32, float("nan"), like)
                if self.confidence_path is not None
                else None
            )
        except BaseException:
            self.abort()
            raise

    # --- writing ------------------------------------------------------------------------
    def write_rows(self, row: int, class_rows: np.ndarray, confidence_rows: Optional[np.ndarray] = None) -> None:
        """Write rows ``[row, row + len(class_rows))`` of the map (and of the confidence)."""
        ids = np.asarray(class_rows)
        window = Window(0, row, self.shape[1], ids.shape[0])
        with _writing(self.path), _gdal():
            self._dst.write(ids.astype(self.dtype, copy=False), 1, window=window)
            if self._conf is not None and confidence_rows is not None:
                self._conf.write(np.asarray(confidence_rows, np.float32), 1, window=window)
        self.present.update(np.unique(ids).tolist())
        self.rows_written += ids.shape[0]

    def finish(self) -> Path:
        """Add the colour table, names and overviews, close, and rename every file into place."""
        table = ClassTable.from_ids(set(self.classes.ids) | self.present, self.classes.names, self.classes.colors)
        try:
            with _writing(self.path), _gdal():
                # A TIFF palette holds no alpha: GDAL makes the nodata entry (0) transparent itself.
                self._dst.write_colormap(1, {i: rgba(table, i) for i in table.ids})
                self._dst.set_band_description(1, BAND_DESCRIPTION)
                self._dst.update_tags(**{CLASSES_TAG: json.dumps(table.to_dict(), separators=(",", ":"))})
                self._close(self._dst, Resampling.nearest)
                if self._conf is not None:
                    self._conf.set_band_description(1, "confidence")
                    self._close(self._conf, Resampling.average)
                aux = self._sidecar(_aux_path(self.path), pam_xml(table, BAND_DESCRIPTION))
                qml = self._sidecar(self.path.with_suffix(".qml"), qgis_style(table))
            tif_tmp, conf_tmp = self._tmp[0], (self._tmp[1] if self._conf is not None else None)
            self._rename(tif_tmp, self.path)
            if self.confidence_path is not None and conf_tmp is not None:  # both set, or neither (__init__)
                self._rename(conf_tmp, self.confidence_path)
                # As write_confidence_map: a class map's aux.xml left here before would now be wrong.
                with contextlib.suppress(FileNotFoundError):
                    _aux_path(self.confidence_path).unlink()
            self._rename(aux, _aux_path(self.path))
            self._rename(qml, self.path.with_suffix(".qml"))
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        """Close and delete the temporary files; the targets stay as they were."""
        for dst in (getattr(self, "_dst", None), getattr(self, "_conf", None)):
            if dst is not None and not dst.closed:
                with contextlib.suppress(Exception), _gdal():
                    dst.close()
        for tmp in self._tmp:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._tmp.clear()

    @property
    def temporary_paths(self) -> list[Path]:
        """The temporary files being written (for tests and clean-up checks)."""
        return list(self._tmp)

    # --- helpers ------------------------------------------------------------------------
    def _create(self, target: Path, dtype, nodata: float, like: Any):
        tmp = self._temp_for(target, target.suffix + ".part")
        profile = _profile(target, self.shape, dtype, nodata=nodata, like=like, crs=None, transform=None)
        with _writing(target), _gdal(), warnings.catch_warnings():
            # Leaving out the georeferencing of an ungeoreferenced scene is on purpose.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterio.open(tmp, "w", **profile)

    def _temp_for(self, target: Path, suffix: str) -> Path:
        if target.is_dir():
            raise ExportError("is a folder; give a file name such as map.tif", target)
        if not target.parent.is_dir():
            raise ExportError(f"the folder {target.parent} does not exist", target)
        try:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
        except OSError as exc:
            raise ExportError(f"cannot write here ({exc.strerror})", target) from exc
        os.close(fd)
        self._tmp.append(Path(name))
        return Path(name)

    def _close(self, dst, resampling: Resampling) -> None:
        factors = overview_factors(*self.shape) if self.overviews else []
        if factors:
            dst.build_overviews(factors, resampling)
        dst.close()

    def _sidecar(self, target: Path, text: str) -> Path:
        tmp = self._temp_for(target, ".part")
        tmp.write_text(text, encoding="utf-8")
        return tmp

    def _rename(self, tmp: Path, target: Path) -> None:
        # mkstemp creates 0600 files; give the result the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
        self._tmp.remove(tmp)


def _gdal() -> rasterio.Env:
    # PAM off: GDAL would otherwise leave a .aux.xml named after the temporary file.
    return rasterio.Env(GDAL_PAM_ENABLED=False)
