"""Spectral statistics of training regions: per class (and per region) mean, standard deviation, counts."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class SpectrumStats:
    """Mean and standard deviation (population) of the spectra of a set of pixels.

    Attributes
    ----------
    key : int
        The class id (or region id).
    name : str
    n_pixels, n_regions : int
    mean, std : float arrays (bands,)
    """

    key: int
    name: str
    n_pixels: int
    n_regions: int
    mean: np.ndarray
    std: np.ndarray


def class_statistics(
    scene,
    labels: np.ndarray,
    region_ids: np.ndarray,
    names: dict[int, str],
    rows_per_block: Optional[int] = None,
    offset: tuple[int, int] = (0, 0),
) -> list[SpectrumStats]:
    """Mean ± std spectrum, pixel and region counts of every class present in ``labels``.

    ``labels`` and ``region_ids`` cover the scene, or a window of it whose top-left pixel is
    ``offset = (row, col)`` (the map view passes the block that holds its regions). The cube is read
    in row blocks (only the rows that hold labelled pixels, only the window's columns), so memory
    stays bounded on large scenes.
    """
    labels = np.asarray(labels)
    row0, col0 = int(offset[0]), int(offset[1])
    columns = slice(col0, col0 + labels.shape[1])
    present = [int(c) for c in np.unique(labels) if c > 0]
    if not present:
        return []
    moments = {c: _Moments(scene.n_bands) for c in present}
    for r0, r1 in _row_blocks(labels, scene, rows_per_block):
        block_labels = labels[r0:r1]
        block = scene.read_subregion(slice(row0 + r0, row0 + r1), columns).astype(np.float64)
        for c in np.unique(block_labels):
            if c > 0:
                moments[int(c)].add(block[block_labels == c])
    return [moments[c].stats(c, names.get(c, f"Class {c}"), len(np.unique(region_ids[labels == c]))) for c in present]


def region_statistics(
    scene, region_ids: np.ndarray, region_id: int, name: str = "", offset: tuple[int, int] = (0, 0)
) -> Optional[SpectrumStats]:
    """Mean ± std spectrum of one region's pixels (None when it has no pixel); ``offset`` as for
    :func:`class_statistics`."""
    rows, cols = np.nonzero(np.asarray(region_ids) == int(region_id))
    if not len(rows):
        return None
    rows, cols = rows + int(offset[0]), cols + int(offset[1])
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    block = scene.read_subregion(slice(r0, r1), slice(c0, c1)).astype(np.float64)
    spectra = block[rows - r0, cols - c0]
    return SpectrumStats(
        int(region_id), name or f"region {region_id}", len(spectra), 1, spectra.mean(axis=0), spectra.std(axis=0)
    )


class _Moments:
    """Running count, sum and sum of squares of spectra (float64), for mean and population std."""

    def __init__(self, n_bands: int) -> None:
        self.n = 0
        self.sum = np.zeros(n_bands)
        self.squares = np.zeros(n_bands)

    def add(self, spectra: np.ndarray) -> None:
        self.n += len(spectra)
        self.sum += spectra.sum(axis=0)
        self.squares += np.square(spectra).sum(axis=0)

    def stats(self, key: int, name: str, n_regions: int) -> SpectrumStats:
        mean = self.sum / self.n
        std = np.sqrt(np.maximum(self.squares / self.n - mean**2, 0.0))
        return SpectrumStats(key, name, self.n, n_regions, mean, std)


def label_counts(tiles, class_of: np.ndarray) -> dict[int, tuple[int, int]]:
    """{class id: (regions, pixels)} of region-id ``tiles``, an iterable of ``(row0, col0, ids)``
    (int32 region ids, 0 = none); ``class_of[region id]`` is the region's class. Reads nothing."""
    pixels: dict[int, int] = {}
    regions: dict[int, set] = {}
    for _, _, ids in tiles:
        ids = np.asarray(ids)
        found, n = np.unique(ids[ids > 0], return_counts=True)
        for rid, k in zip(found.tolist(), n.tolist()):
            c = int(class_of[rid])
            if c > 0:
                pixels[c] = pixels.get(c, 0) + k
                regions.setdefault(c, set()).add(rid)
    return {c: (len(regions[c]), pixels[c]) for c in pixels}


def tile_statistics(
    scene,
    tiles,
    class_of: np.ndarray,
    names: dict[int, str],
    selected: Optional[int] = None,
    cancel: Optional[Callable[[], bool]] = None,
) -> tuple[list[SpectrumStats], Optional[SpectrumStats]]:
    """Class statistics (as :func:`class_statistics`) and those of region ``selected``, from region-id tiles.

    ``tiles`` is an iterable of ``(row0, col0, ids)`` as the map's region layer keeps them (only the
    tiles that hold a region); ``class_of[region id]`` is the region's class. Each tile reads only the
    block of the scene around its labelled pixels, so two fields in opposite corners of a huge scene
    cost their own pixels, not the rows and columns between them. ``cancel`` is asked between tiles
    (:class:`~hsiviewer.errors.Cancelled`).
    """
    from hsiviewer.errors import Cancelled

    n_bands = scene.n_bands
    moments: dict[int, _Moments] = {}
    regions: dict[int, set] = {}
    region = _Moments(n_bands)
    for row0, col0, ids in tiles:
        if cancel is not None and cancel():
            raise Cancelled("newer statistics were asked for")
        ids = np.asarray(ids)
        labels = np.asarray(class_of)[ids]
        rows, cols = np.nonzero(labels > 0)
        if not len(rows):
            continue
        r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        block = scene.read_subregion(slice(row0 + r0, row0 + r1), slice(col0 + c0, col0 + c1)).astype(np.float64)
        labels, ids = labels[r0:r1, c0:c1], ids[r0:r1, c0:c1]
        for c in np.unique(labels).tolist():
            if c <= 0:
                continue
            inside = labels == c
            moments.setdefault(c, _Moments(n_bands)).add(block[inside])
            regions.setdefault(c, set()).update(np.unique(ids[inside]).tolist())
        if selected is not None:
            region.add(block[ids == selected])
    stats = [moments[c].stats(c, names.get(c, f"Class {c}"), len(regions[c])) for c in sorted(moments)]
    chosen = region.stats(int(selected), f"region {selected}", 1) if selected is not None and region.n else None
    return stats, chosen


def statistics_csv(
    stats: list[SpectrumStats], wavelengths: Optional[np.ndarray] = None, bad_bands: Optional[np.ndarray] = None
) -> str:
    """CSV text: one row per band (band, wavelength, bad), then ``<name> mean`` and ``<name> std`` columns.

    A header block of ``#`` lines gives each class's pixel and region counts.
    """
    out = io.StringIO()
    for s in stats:
        out.write(f"# {s.name} (id {s.key}): {s.n_pixels} pixels in {s.n_regions} region(s)\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["band", "wavelength_nm", "bad_band"] + [f"{s.name} {what}" for s in stats for what in ("mean", "std")]
    )
    n_bands = len(stats[0].mean) if stats else 0
    for b in range(n_bands):
        wl = "" if wavelengths is None else f"{float(wavelengths[b]):.4f}"
        bad = "" if bad_bands is None else int(bool(bad_bands[b]))
        writer.writerow([b + 1, wl, bad] + [f"{v:.6g}" for s in stats for v in (s.mean[b], s.std[b])])
    return out.getvalue()


def _row_blocks(labels: np.ndarray, scene, rows_per_block: Optional[int]):
    labelled_rows = np.flatnonzero((labels > 0).any(axis=1))
    if not len(labelled_rows):
        return
    step = rows_per_block or max(1, 4_000_000 // max(1, scene.n_cols * scene.n_bands))
    first, last = int(labelled_rows[0]), int(labelled_rows[-1]) + 1
    for r0 in range(first, last, step):
        yield r0, min(last, r0 + step)
