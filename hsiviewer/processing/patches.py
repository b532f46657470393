"""Patches around labelled pixels, cut lazily from one zero-padded cube.

A scene is padded once (``pad_cube``); a patch centred on pixel (row, col) of the scene is then the
slice ``padded[row:row + S, col:col + S]``. Nothing of size N x S x S x k is ever built except one
batch at a time: :func:`patches_for` gathers a whole batch with one fancy-indexing call. The torch side
(datasets, loaders, the layouts of model inputs) is :mod:`hsiviewer.engine.batches`.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def pad_cube(cube: np.ndarray, radius: int) -> np.ndarray:
    """Zero-pad a (rows, cols, k) cube by ``radius`` pixels on each side of both image axes.

    Zero padding (as in the HybridSN study) lets border pixels be classified like any other.

    Parameters
    ----------
    cube : ndarray (rows, cols, k)
        The preprocessed scene; converted to float32.
    radius : int
        ``patch_size // 2``.

    Returns
    -------
    ndarray (rows + 2 radius, cols + 2 radius, k), float32, C-contiguous
    """
    if cube.ndim != 3:
        raise ValueError(f"expected a (rows, cols, bands) cube, got shape {cube.shape}")
    if radius < 0:
        raise ValueError(f"the padding radius must be >= 0, got {radius}")
    rows, cols, k = cube.shape
    padded = np.zeros((rows + 2 * radius, cols + 2 * radius, k), np.float32)
    padded[radius : radius + rows, radius : radius + cols] = cube
    return padded


def patches_for(padded: np.ndarray, rows: np.ndarray, cols: np.ndarray, patch_size: int) -> np.ndarray:
    """Gather the patches centred on scene pixels (rows[i], cols[i]) in one call.

    Parameters
    ----------
    padded : ndarray (rows + 2r, cols + 2r, k)
        From :func:`pad_cube` with ``r = patch_size // 2``.
    rows, cols : int arrays (N,)
        Pixel coordinates in the *unpadded* scene.
    patch_size : int
        S (odd).

    Returns
    -------
    ndarray (N, S, S, k), float32 (a transposed view of a fresh (N, k, S, S) array)
    """
    windows = sliding_window_view(padded, (patch_size, patch_size), axis=(0, 1))  # (H, W, k, S, S) view
    # Gathering (N, k, S, S) copies whole S-pixel runs; the transpose back is a free view, and the
    # Conv layouts of to_model_input undo it without another copy.
    block = windows[np.asarray(rows, np.intp), np.asarray(cols, np.intp)]
    return block.transpose(0, 2, 3, 1)
