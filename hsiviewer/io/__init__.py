"""Readers: one small module per format behind :func:`open_scene` and :func:`open_labels`.

=================  =========================================  ==========================
extension          reader                                     module
=================  =========================================  ==========================
``.hdr`` + data    ENVI (BSQ/BIL/BIP, either byte order)      :mod:`hsiviewer.io.envi`
``.mat``           MATLAB v5 (scipy) and v7.3 (HDF5)          :mod:`hsiviewer.io.matlab`
``.npy``/``.npz``  NumPy                                      :mod:`hsiviewer.io.numpy_io`
anything else      GeoTIFF and other GDAL rasters (rasterio)  :mod:`hsiviewer.io.gdal`
=================  =========================================  ==========================
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hsiviewer.data.classes import ClassTable
from hsiviewer.data.scene import Scene
from hsiviewer.errors import HsiError, SceneReadError
from hsiviewer.io.file_checks import check_input_file, check_scene_array
from hsiviewer.io.formats import ENVI_DATA_SUFFIXES, detect_format, find_envi_header


def _reader_for(path: Path):
    # Readers are imported on first use: h5py, scipy.io and rasterio cost start-up time.
    kind = detect_format(path)
    if kind == "numpy":
        from hsiviewer.io.numpy_io import read_numpy

        return read_numpy
    if kind == "matlab":
        from hsiviewer.io.matlab import read_mat

        return read_mat
    if kind == "envi":
        from hsiviewer.io.envi import read_envi

        return read_envi
    from hsiviewer.io.gdal import read_gdal

    return read_gdal


def open_scene(path: str | Path, labels: str | Path | None = None, variable: str | None = None) -> Scene:
    """Open a hyperspectral scene, lazily.

    Parameters
    ----------
    path : str or Path
        An ENVI header or data file, a GeoTIFF (or other GDAL raster), a ``.mat``, ``.npy`` or ``.npz``.
    labels : str or Path, optional
        A label raster (same formats, 2-D integer) to attach as ground truth.
    variable : str, optional
        For ``.mat`` / ``.npz``: the name of the variable holding the cube.

    Returns
    -------
    Scene

    Raises
    ------
    SceneReadError
        When the file is missing, of an unknown format or unreadable; the message names the file.
    """
    path = check_input_file(path, "scene file")
    reader = _reader_for(path)
    try:
        scene = reader(path, variable=variable) if variable is not None else reader(path)
    except HsiError:
        raise
    except Exception as exc:  # a library's own error: name the file and keep its words
        raise SceneReadError(f"cannot be read as a scene ({type(exc).__name__}: {exc})", path) from exc
    check_scene_array(scene.shape, scene.dtype, path)
    if labels is not None:
        attach_labels(scene, labels)
    return scene


def open_labels(path: str | Path, variable: str | None = None) -> tuple[np.ndarray, ClassTable]:
    """Read a label or class-map raster.

    Returns
    -------
    labels : ndarray (rows, cols) of int
        0 = unlabelled / unclassified.
    classes : ClassTable
        Names and colours from the file (ENVI classification header, GeoTIFF colour table and
        category names, or a JSON sidecar), defaults elsewhere.

    Raises
    ------
    SceneReadError
    """
    path = check_input_file(path, "label raster")
    from hsiviewer.io.labels import read_labels

    try:
        return read_labels(path, variable=variable)
    except HsiError:
        raise
    except Exception as exc:
        raise SceneReadError(f"cannot be read as a label raster ({type(exc).__name__}: {exc})", path) from exc


def attach_labels(scene: Scene, path: str | Path) -> Scene:
    """Read ``path`` with :func:`open_labels` and set it as the scene's ground truth."""
    labels, classes = open_labels(path)
    if labels.shape != scene.shape[:2]:
        raise SceneReadError(
            f"labels are {labels.shape[0]} x {labels.shape[1]} but the scene is {scene.n_rows} x {scene.n_cols}", path
        )
    scene.labels = labels
    scene.classes = classes
    return scene


__all__ = ["open_scene", "open_labels", "attach_labels", "find_envi_header", "ENVI_DATA_SUFFIXES"]
