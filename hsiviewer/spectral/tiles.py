"""Row tiles of a scene, read one tile ahead on a helper thread.

Matching and band math alternate reading a tile (waiting on the disk) and computing on it (NumPy
and BLAS, which release the interpreter lock). Reading the next tile while the current one is
computed overlaps the two, so a cold read costs about max(read, compute) instead of their sum.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def row_tiles(n_rows: int, n_cols: int, tile_pixels: int) -> list[tuple[int, int]]:
    """[(first row, end row), ...] of about ``tile_pixels`` pixels each."""
    step = max(1, int(tile_pixels) // max(1, n_cols))
    return [(a, min(n_rows, a + step)) for a in range(0, n_rows, step)]


def read_ahead(
    scene, tiles: list[tuple[int, int]], bands: Sequence[int] | np.ndarray | None = None, dtype=None
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield (a, b, block) for each tile, the next tile being read (and cast to ``dtype``) meanwhile.

    Stopping the iteration early (a cancel) waits for the one pending read and leaves nothing running.
    """

    def read(a: int, b: int) -> np.ndarray:
        block = scene.read_subregion(slice(a, b), slice(None), bands)
        # C order: the block of a BIL or BSQ file is a transposed view, and the kernels want rows of pixels.
        return np.array(block, dtype=dtype, copy=True, order="C")

    if not tiles:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hsiviewer-read") as pool:
        pending = pool.submit(read, *tiles[0])
        for i, (a, b) in enumerate(tiles):
            block = pending.result()
            if i + 1 < len(tiles):
                pending = pool.submit(read, *tiles[i + 1])
            yield a, b, block
