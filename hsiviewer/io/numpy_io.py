"""NumPy ``.npy`` / ``.npz`` scenes, with metadata from a JSON sidecar."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from hsiviewer.data.classes import ClassTable
from hsiviewer.data.scene import ArraySource, Scene
from hsiviewer.errors import SceneReadError
from hsiviewer.io.file_checks import check_scene_array
from hsiviewer.io.sidecar import check_band_fields, read_sidecar, sidecar_path

CUBE_KEYS = ("data", "cube", "image", "hsi")
LABEL_KEYS = ("labels", "gt", "ground_truth", "label")


def read_numpy(path: Path, variable: Optional[str] = None) -> Scene:
    """Read a cube (rows, cols, bands) from ``.npy`` (memory-mapped) or ``.npz``.

    In an ``.npz`` the cube is ``variable``, else the first of ``data``/``cube``/``image``/``hsi``,
    else the only 3-D array; a 2-D integer array named ``labels`` (or ``gt``) becomes the ground truth.
    """
    try:
        if path.suffix.lower() == ".npy":
            cube = _load_npy(path)
            labels = None
        else:
            with np.load(path) as archive:
                arrays = {k: archive[k] for k in archive.files}
            cube = _pick_cube(path, arrays, variable)
            labels = _pick_labels(arrays, cube.shape[:2])
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Python objects" in str(exc):
            raise SceneReadError(
                "holds Python objects (an object array); hsiviewer does not unpickle them, "
                "as that could run code from the file: save the cube as numbers",
                path,
            ) from exc
        raise
    if cube.ndim != 3:
        raise SceneReadError(f"holds a {cube.ndim}-D array {cube.shape}; a scene needs (rows, cols, bands)", path)
    check_scene_array(cube.shape, cube.dtype, path)  # before the sidecar is matched to its bands
    return scene_from_array(path, cube, labels, read_sidecar(path))


def _load_npy(path: Path) -> np.ndarray:
    """Memory-map a ``.npy``; an empty array cannot be mapped and is read (it is empty)."""
    try:
        return np.load(path, mmap_mode="r")
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Python objects" in str(exc):
            raise
        return np.load(path)


def scene_from_array(path: Optional[Path], cube, labels: Optional[np.ndarray], meta: dict) -> Scene:
    """Wrap an array-like cube (or a ready :class:`~hsiviewer.data.scene.PixelSource`, such as a lazy
    reader's) and sidecar-style metadata into a :class:`Scene`."""
    n_bands = cube.shape[2]
    check_band_fields(meta, n_bands, None if path is None else sidecar_path(path))

    def vector(key: str, dtype=float) -> Optional[np.ndarray]:
        value = meta.get(key)
        if value is None:
            return None
        arr = np.asarray(value, dtype=dtype)
        if arr.shape != (n_bands,):
            raise SceneReadError(f"metadata '{key}' has {arr.size} values for {n_bands} bands", path)
        return arr

    classes = ClassTable.from_dict(meta) if meta.get("classes") else None
    if labels is not None:
        classes = ClassTable.from_labels(
            labels, classes.names if classes else None, classes.colors if classes else None
        )
    default = meta.get("default_bands")  # one band (grey) or three, checked above
    return Scene(
        path=path,
        source=cube if hasattr(cube, "read_subregion") else ArraySource(cube),
        wavelengths=vector("wavelengths"),
        fwhm=vector("fwhm"),
        bad_bands=vector("bad_bands", bool),
        band_names=list(meta["band_names"]) if meta.get("band_names") else None,
        default_bands=_three_bands(default),
        nodata=meta.get("nodata"),
        labels=labels,
        classes=classes,
        metadata={k: meta[k] for k in ("description", "source", "licence") if k in meta},
    )


def _pick_cube(path: Path, arrays: dict, variable: Optional[str]) -> np.ndarray:
    if variable is not None:
        if variable not in arrays:
            raise SceneReadError(f"has no array named '{variable}' (it has {', '.join(arrays)})", path)
        return arrays[variable]
    for key in CUBE_KEYS:
        if key in arrays and arrays[key].ndim == 3:
            return arrays[key]
    cubes = [k for k, a in arrays.items() if a.ndim == 3]
    if len(cubes) != 1:
        raise SceneReadError(
            f"holds {len(cubes)} 3-D arrays ({', '.join(cubes) or 'none'}); name the cube's variable", path
        )
    return arrays[cubes[0]]


def _pick_labels(arrays: dict, shape: tuple) -> Optional[np.ndarray]:
    for key in LABEL_KEYS:
        arr = arrays.get(key)
        if arr is not None and arr.shape == tuple(shape) and np.issubdtype(arr.dtype, np.integer):
            return arr
    return None


def _three_bands(default) -> Optional[tuple[int, int, int]]:
    """The sidecar's default bands as (r, g, b): one band means grey (the same band three times)."""
    if default is None:
        return None
    r, g, b = (int(band) for band in (list(default) * 3)[:3])
    return (r, g, b)
