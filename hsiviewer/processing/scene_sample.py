"""Preprocessing fitted and applied from a scene's file, without holding the raw cube.

:func:`fit_on_scene` reads only the pixels a fit looks at (at most
:data:`~hsiviewer.processing.preprocess.MAX_FIT_PIXELS`, picked with the seed exactly as
:meth:`Preprocessor.fit` picks them from a cube in memory, so the result is the same), a block
of rows at a time; :func:`transform_scene` applies a preprocessor block by block, so only the
preprocessed cube (k channels, float32) is ever whole.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from hsiviewer.processing.preprocess import MAX_FIT_PIXELS, Preprocessor, sample_indices

#: Values (rows x cols x bands) of the raw cube read at once.
READ_BLOCK_VALUES = 8_000_000


def read_pixels(scene, flat: np.ndarray) -> np.ndarray:
    """The spectra (N, bands) of sorted flat pixel indices ``flat``, read a block of rows at a time."""
    flat = np.asarray(flat, np.int64)
    cols, bands = scene.n_cols, scene.n_bands
    out = np.empty((len(flat), bands), scene.dtype)
    step = _block_rows(scene)
    rows = flat // cols
    for a in range(0, scene.n_rows, step):
        lo, hi = np.searchsorted(rows, [a, a + step])
        if lo == hi:
            continue  # no sampled pixel in these rows: not read at all
        block = scene.read_subregion(slice(a, a + step), slice(None))
        out[lo:hi] = block.reshape(-1, bands)[flat[lo:hi] - a * cols]
    return out


def fit_on_scene(
    scene,
    mask: Optional[np.ndarray] = None,
    n_components: Optional[int] = None,
    whiten: bool = True,
    seed: int = 0,
    max_pixels: int = MAX_FIT_PIXELS,
) -> Preprocessor:
    """:meth:`Preprocessor.fit` on the pixels of ``scene`` where ``mask`` is True, read from its file.

    Parameters
    ----------
    scene : Scene
    mask : bool array (rows, cols), optional
        The pixels to fit on (all without one).
    n_components, whiten, seed, max_pixels
        As for :meth:`Preprocessor.fit`.

    Returns
    -------
    Preprocessor
    """
    where = sample_indices(np.ones(scene.shape[:2], bool) if mask is None else mask, seed, max_pixels)
    return Preprocessor().fit_spectra(read_pixels(scene, where), n_components, whiten, seed)


def transform_scene(scene, pre: Preprocessor, valid: Optional[np.ndarray] = None) -> np.ndarray:
    """``pre`` applied to the whole scene, a block of rows at a time: float32 (rows, cols, k).

    Pixels outside ``valid`` are set to 0 (as the zero padding outside the scene).
    """
    cube = np.empty((scene.n_rows, scene.n_cols, pre.n_outputs), np.float32)
    step = _block_rows(scene)
    for a in range(0, scene.n_rows, step):
        cube[a : a + step] = pre.transform(scene.read_subregion(slice(a, a + step), slice(None)))
    if valid is not None:
        cube[~valid] = 0.0
    return cube


def transform_scene_padded(
    scene, pre: Preprocessor, valid: Optional[np.ndarray], radius: int, memmap_bytes: Optional[int] = None
) -> np.ndarray:
    """``pre`` applied to the scene and zero-padded by ``radius``, as ``pad_cube(transform_scene(...))``.

    The preprocessed values are written straight into the padded array, so the cube is held once.
    When the padded array would exceed ``memmap_bytes`` it lives in an unlinked temporary file
    (``numpy.memmap``): patches are then read from the file through the page cache, which the
    system bounds and reclaims, instead of the process's own memory.
    """
    rows, cols, k = scene.n_rows, scene.n_cols, pre.n_outputs
    shape = (rows + 2 * radius, cols + 2 * radius, k)
    nbytes = int(np.prod(shape)) * 4
    padded: np.ndarray
    if memmap_bytes is not None and nbytes > memmap_bytes:
        import tempfile

        with tempfile.TemporaryFile(prefix="hsiviewer-cube-") as f:  # gone when the array is
            padded = np.memmap(f, np.float32, "w+", shape=shape)  # zero-filled, as a new file reads
    else:
        padded = np.zeros(shape, np.float32)
    step = _block_rows(scene)
    for a in range(0, rows, step):
        block = pre.transform(scene.read_subregion(slice(a, a + step), slice(None)))
        if valid is not None:
            block[~valid[a : a + step]] = 0.0
        padded[radius + a : radius + a + block.shape[0], radius : radius + cols] = block
    return padded


def _block_rows(scene) -> int:
    return max(1, READ_BLOCK_VALUES // max(1, scene.n_cols * scene.n_bands))
