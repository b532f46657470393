"""Resolution levels of a scene: level k is the scene decimated by 2**k (no Qt here).

Level 0 is the scene itself. Level k keeps every 2**k-th row and column, starting at 0:
``level_k[i, j] == scene[i * 2**k, j * 2**k]`` (nearest neighbour, GDAL's default for
overviews). Decimation rather than block means, because

- a strided read of the file *is* a level: the preview shown while a pyramid is built is pixel
  for pixel the pyramid, so nothing jumps when the pyramid lands, and a tile cached from the
  preview stays valid;
- values stay values of the file (no new ones that exist nowhere in the scene), so the status
  bar, class layers (nearest is the only right choice for class ids) and stretch levels agree;
- stretch levels computed on a level are those of an even sample of the full scene.

A :class:`LevelReader` answers ``read(level, band, rows, cols)`` (rows and cols in the level's
own pixels) from the best place: the file's own overviews (GeoTIFF), a cached pyramid
(:mod:`hsiviewer.viewer.pyramid`), or a strided read of the file.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Optional, Union

import numpy as np

from hsiviewer.data.scene import Scene
from hsiviewer.errors import SceneReadError

#: The coarsest level has no side longer than this.
SMALLEST_SIDE = 256
#: Bytes :meth:`LevelReader.warm_window` reads at a time (then it checks whether to pause or stop).
WARM_CHUNK = 1 << 20
#: The coarsest level :meth:`LevelReader.warm_window` warms: a pyramid stores level 2 and coarser
#: (:data:`hsiviewer.viewer.pyramid.FIRST_STORED`), so only levels 0 and 1 are read from the file for good.
WARM_COARSEST_LEVEL = 1
#: Chunks a reader remembers as warmed (2 GiB worth) before it forgets them all: by then the page
#: cache may have dropped the first ones, and a view the user comes back to is warmed again.
WARM_MEMORY = (2 << 30) // WARM_CHUNK


def level_shape(rows: int, cols: int, level: int) -> tuple[int, int]:
    """(rows, cols) of ``level``: ceil(rows / 2**level), ceil(cols / 2**level)."""
    f = 1 << level
    return -(-rows // f), -(-cols // f)


def top_level(rows: int, cols: int, smallest: int = SMALLEST_SIDE) -> int:
    """The coarsest level worth having: the first whose longer side is <= ``smallest``."""
    level = 0
    while max(level_shape(rows, cols, level)) > smallest:
        level += 1
    return level


def level_for_scale(scene_px_per_screen_px: float, top: int) -> int:
    """The level to draw when one screen pixel covers ``scene_px_per_screen_px`` scene pixels.

    The finest level that is not finer than the screen: floor(log2(scale)), within 0..top.
    """
    if not scene_px_per_screen_px > 1.0:
        return 0
    return max(0, min(top, int(math.floor(math.log2(scene_px_per_screen_px)))))


def stats_level(rows: int, cols: int, max_pixels: int = 1 << 18) -> int:
    """The finest level with at most ``max_pixels`` pixels: where stretch levels are computed.

    Always the same level for a scene, so the levels are the same at every zoom.
    """
    level = 0
    while np.prod(level_shape(rows, cols, level)) > max_pixels:
        level += 1
    return level


def backing_files(scene: Scene) -> list[tuple[Path, int]]:
    """(file, smallest size it must keep) of every memory-mapped file behind ``scene``.

    Reading a memory map past the end of a file that shrank kills the process (SIGBUS), so
    readers check these sizes first (:func:`check_backing_files`).
    """
    array = getattr(scene.source, "array", None)
    found = []
    while array is not None:
        if isinstance(array, np.memmap) and array.filename:
            found.append((Path(array.filename), int(array.offset) + int(array.nbytes)))
            break
        array = getattr(array, "base", None)
    return found


def check_backing_files(files: list[tuple[Path, int]]) -> None:
    """Raise :class:`SceneReadError` when a file behind the scene vanished or shrank."""
    for path, size in files:
        try:
            now = os.stat(path).st_size
        except OSError as exc:
            raise SceneReadError(f"the file vanished while open ({exc.strerror})", path) from exc
        if now < size:
            raise SceneReadError(f"the file was truncated while open: {now} bytes, the header needs {size}", path)


class LevelReader:
    """Reads one band of any level of a scene, in the file's dtype.

    Parameters
    ----------
    scene : Scene
    pyramid : CachedPyramid, optional
        Stored levels (see :mod:`hsiviewer.viewer.pyramid`); levels it lacks are read from the file.
    """

    def __init__(self, scene: Scene, pyramid=None) -> None:
        self.scene = scene
        self.pyramid = pyramid
        self.top = top_level(scene.n_rows, scene.n_cols)
        self._files = backing_files(scene)
        self._overviews = gdal_overview_levels(scene)
        self._warmed: set[int] = set()  # WARM_CHUNK-sized pieces of the data file read by warm_window
        self.warmed_bytes = 0  # read by warm_window so far (for tests and benchmarks)

    def shape(self, level: int) -> tuple[int, int]:
        """(rows, cols) of ``level``."""
        return level_shape(self.scene.n_rows, self.scene.n_cols, level)

    def source_of(self, level: int) -> str:
        """Where ``level`` is read from: ``"file"``, ``"overview"``, ``"pyramid"`` or ``"strided"``."""
        if level == 0:
            return "file"
        if level in self._overviews:
            return "overview"
        if self.pyramid is not None and self.pyramid.has(level):
            return "pyramid"
        return "strided"

    def prefetch_window(
        self,
        level: int,
        bands: Union[int, Sequence[int]],
        rows: slice,
        cols: slice,
        stop: Optional[Callable[[], bool]] = None,
    ) -> None:
        """Announce to the kernel the bytes of ``[rows, cols]`` of ``level`` in ``bands`` read from the file
        (see :func:`prefetch`), all bands in one go; a no-op for levels read elsewhere and for files of
        unknown layout.

        One announcement for every band of an RGB view, not one per band as each is read: the disk
        then gets all the reads at once (``bench/bench_viewer.py --cold-1to1-only``).
        """
        if (
            self.source_of(level) not in ("file", "strided")
            or not self._files
            or not scene_interleave_known(self.scene)
        ):
            return
        ranges = []
        for band in [bands] if isinstance(bands, int) else bands:
            ranges += self._byte_ranges(level, rows, cols, band)
        prefetch(self.scene, self._files, sorted(ranges), stop)

    def _byte_ranges(self, level: int, rows: slice, cols: slice, band: Optional[int]) -> list[tuple[int, int]]:
        """:func:`window_byte_ranges` of ``[rows, cols]`` of ``level`` (level pixels) in ``band`` (None: all)."""
        f = 1 << level
        return window_byte_ranges(
            self.scene.shape,
            self.scene.interleave,
            self.scene.dtype.itemsize,
            range(rows.start * f, (rows.stop - 1) * f + 1, f),
            range(cols.start * f, (cols.stop - 1) * f + 1),
            band,
        )

    def warm_window(
        self,
        level: int,
        rows: slice,
        cols: slice,
        cancel: Optional[Callable[[], bool]] = None,
        busy: Optional[Callable[[], bool]] = None,
        budget: Optional[int] = None,
        first: Optional[slice] = None,
    ) -> int:
        """Read the file bytes of ``[rows, cols]`` of ``level`` in *every* band into the page cache, so
        that a later change of band or composite in this view finds them there. Returns the bytes read.

        For BIL and BIP files read from the file at ``level``, levels 0 and 1 only (coarser ones come
        from the pyramid once it is built, and until then the build reads the file): there a band's view is one small
        run of bytes per line, each a random read of the disk (on the test machine 20-230 us each, so
        a 1:1 view of three new bands, some 2,500 runs, waits 50-500 ms for the disk), while the same
        lines in every band are one sequential read (0.5-0.9 GB/s there). Not for BSQ files, where a
        band's view is already one run.

        The rows ``first`` (those on screen; default ``rows``) are read first, then the rest of
        ``rows``, up to ``budget`` bytes in all (default :func:`warm_budget`); nothing is read when the
        rows ``first`` alone take more. Reads ``WARM_CHUNK`` bytes at a time; before each it stops
        when ``cancel()`` is true and waits while ``busy()`` is (the renderer is reading: it goes
        first). Chunks read before (by any view of this reader, see :data:`WARM_MEMORY`) are
        skipped. A read error ends the warming quietly: it is advice, and the renderer's own read
        reports the error.
        """
        if (
            not hasattr(os, "preadv")  # (Linux and the BSDs; elsewhere the renderer reads as it did)
            or level > WARM_COARSEST_LEVEL
            or self.source_of(level) not in ("file", "strided")
            or not self._files
            or self.scene.interleave not in ("bil", "bip")
            or not scene_interleave_known(self.scene)
        ):
            return 0
        offset = int(self.scene.metadata.get("header_offset", 0))

        def chunks_of(lines: slice) -> list[int]:
            return sorted(
                {
                    k
                    for start, length in self._byte_ranges(level, lines, cols, None)
                    for k in range((offset + start) // WARM_CHUNK, -(-(offset + start + length) // WARM_CHUNK))
                }
            )

        most = (warm_budget() if budget is None else budget) // WARM_CHUNK
        chunks = chunks_of(rows if first is None else first)
        if len(chunks) > most:
            return 0
        seen = set(chunks)
        chunks += [k for k in chunks_of(rows) if k not in seen][: most - len(chunks)]
        if len(self._warmed) > WARM_MEMORY:
            self._warmed.clear()
        todo = [k for k in chunks if k not in self._warmed]
        if not todo:
            return 0
        try:
            check_backing_files(self._files)
            fd = os.open(self._files[0][0], os.O_RDONLY)
        except (SceneReadError, OSError):
            return 0
        try:  # no kernel readahead behind these reads: it would queue megabytes ahead of the renderer's
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)  # (8 MB a time on this VM's disk)
        except (AttributeError, OSError):
            pass
        buffer = memoryview(bytearray(WARM_CHUNK))
        done = 0
        try:
            for k in todo:
                while busy is not None and busy():
                    if cancel is not None and cancel():
                        return done
                    time.sleep(0.002)
                if cancel is not None and cancel():
                    return done
                done += os.preadv(fd, [buffer], k * WARM_CHUNK)
                self._warmed.add(k)
        except OSError:
            pass  # advice only (see above)
        finally:
            os.close(fd)
            self.warmed_bytes += done
        return done

    def read(self, level: int, band: int, rows: slice, cols: slice, prefetched: bool = False) -> np.ndarray:
        """Band ``band`` of ``level`` at ``[rows, cols]`` (level pixels, step 1), as (r, c).

        Unless ``prefetched`` (the caller announced a larger window already), the window's bytes
        are announced to the kernel first.
        """
        where = self.source_of(level)
        if where == "pyramid":
            return self.pyramid.read(level, band, rows, cols)
        if where == "overview":
            return read_overview(self.scene, level, band, rows, cols)
        check_backing_files(self._files)
        if not prefetched:
            self.prefetch_window(level, band, rows, cols)
        f = 1 << level
        r_last, c_last = (rows.stop - 1) * f, (cols.stop - 1) * f
        block = self.scene.read_subregion(
            slice(rows.start * f, r_last + 1, f), slice(cols.start * f, c_last + 1, f), [band]
        )
        return block[:, :, 0]

    def pixel(self, row: int, col: int, bands: list[int]) -> np.ndarray:
        """The values of (row, col) in ``bands`` at full resolution.

        The whole spectrum of the pixel is announced to the kernel first (see
        :func:`prefetch_pixel`), so the spectrum read that follows a hover does not wait page
        by page.
        """
        check_backing_files(self._files)
        prefetch_pixel(self.scene, self._files, row, col)
        return self.scene.read_subregion(slice(row, row + 1), slice(col, col + 1), bands)[0, 0, :]


def warm_budget() -> int:
    """The most bytes :meth:`LevelReader.warm_window` reads for one view: 1 GiB, or an eighth of the
    machine's memory where that is less (the page cache must not push out what others need)."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        physical = 8 << 30
    return int(min(1 << 30, physical // 8))


def pixel_byte_ranges(
    shape: tuple[int, int, int], interleave: str, itemsize: int, row: int, col: int
) -> list[tuple[int, int]]:
    """(offset, length) in the data of a pixel's whole spectrum, merged per contiguous run."""
    rows, cols, bands = shape
    if interleave == "bip":
        return [((row * cols + col) * bands * itemsize, bands * itemsize)]
    if interleave == "bil":  # the pixel's bands lie within its line: one run of the line
        start = (row * bands * cols + col) * itemsize
        return [(start, ((bands - 1) * cols + 1) * itemsize)]
    if interleave == "bsq":  # one value per band plane: as many runs as bands
        return [(((b * rows + row) * cols + col) * itemsize, itemsize) for b in range(bands)]
    return []


def window_byte_ranges(
    shape: tuple[int, int, int], interleave: str, itemsize: int, rows: range, cols: range, band: Optional[int]
) -> list[tuple[int, int]]:
    """(offset, length) runs holding ``[rows, cols]`` of one band (all bands when None), merged."""
    n_rows, n_cols, n_bands = shape
    if not len(rows) or not len(cols) or interleave not in ("bsq", "bil", "bip"):
        return []
    c0, c1 = cols.start, cols[-1] + 1
    r = np.asarray(rows, np.int64)
    b0, b1 = (0, n_bands - 1) if band is None else (band, band)
    if interleave == "bip":
        first = (r * n_cols + c0) * n_bands + b0
        length = np.full(r.shape, ((c1 - 1 - c0) * n_bands + b1 - b0 + 1))
    elif interleave == "bil":
        first = (r * n_bands + b0) * n_cols + c0
        length = np.full(r.shape, (b1 - b0) * n_cols + c1 - c0)
    else:
        bands = np.arange(b0, b1 + 1, dtype=np.int64)
        first = ((bands[:, None] * n_rows + r[None, :]) * n_cols + c0).ravel()
        length = np.full(first.shape, c1 - c0)
    order = np.argsort(first, kind="stable")
    start, stop = first[order] * itemsize, (first[order] + length[order]) * itemsize
    # neighbours closer than a page are one read anyway
    reach = np.maximum.accumulate(stop)
    breaks = np.nonzero(start[1:] > reach[:-1] + 4096)[0] + 1
    heads = np.concatenate(([0], breaks))
    tails = np.concatenate((breaks - 1, [len(start) - 1]))
    return [(int(start[h]), int(reach[t] - start[h])) for h, t in zip(heads, tails)]


def prefetch(
    scene: Scene,
    files: list[tuple[Path, int]],
    ranges: list[tuple[int, int]],
    stop: Optional[Callable[[], bool]] = None,
) -> None:
    """Ask the kernel to read the data-file ``ranges`` now (``posix_fadvise(WILLNEED)``), until ``stop()``.

    Through a memory map, a cold strided read is one page fault after another, each waiting for
    the disk (measured here: 9.4 s for every 8th line of one band of a cold 8.7 GB BIL file).
    Announced first, the faults that follow find the pages. On the test machine's disk each call
    on cold pages returns only once its read is under way (60-120 us): announcing a view at 1:1 of
    a BIL file takes as long as reading it, so the renderer announces on a thread of its own.
    """
    if not files or not ranges or not hasattr(os, "posix_fadvise"):
        return
    path, _ = files[0]
    offset = int(scene.metadata.get("header_offset", 0))
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        for i, (start, length) in enumerate(ranges):
            if stop is not None and i % 32 == 0 and stop():
                break
            os.posix_fadvise(fd, offset + start, length, os.POSIX_FADV_WILLNEED)
    except OSError:
        pass  # advice only: the read that follows works without it
    finally:
        os.close(fd)


def prefetch_pixel(scene: Scene, files: list[tuple[Path, int]], row: int, col: int) -> None:
    """Ask the kernel to read a pixel's spectrum from a memory-mapped file now, all pages at once.

    On a BSQ file the spectrum is one value in each band plane, hundreds of megabytes apart;
    read through the memory map, each is a separate page fault waiting for the disk in turn.
    ``posix_fadvise(WILLNEED)`` queues every page at once, so a cold read costs about one disk
    round trip instead of one per band.
    """
    if scene.interleave != "bsq":
        return  # BIL and BIP spectra are one run of bytes: the kernel's readahead covers them
    prefetch(scene, files, pixel_byte_ranges(scene.shape, scene.interleave, scene.dtype.itemsize, row, col))


def scene_interleave_known(scene: Scene) -> bool:
    """True for a file-backed cube whose byte layout we know (ENVI BSQ, BIL, BIP)."""
    return scene.interleave in ("bsq", "bil", "bip") and "data_file" in scene.metadata


# --- GeoTIFF overviews ----------------------------------------------------------------------------
def gdal_overview_levels(scene: Scene) -> set[int]:
    """The levels a GDAL-read scene has as overviews (factors that are powers of two)."""
    factors = getattr(scene.source, "overview_factors", None)
    if factors is None:
        dataset = getattr(scene.source, "dataset", None)
        if dataset is None:
            return set()
        factors = dataset().overviews(1)
    return {int(math.log2(f)) for f in factors if f > 1 and f & (f - 1) == 0}


def read_overview(scene: Scene, level: int, band: int, rows: slice, cols: slice) -> np.ndarray:
    """Read ``[rows, cols]`` of ``level`` through the file's overview (GDAL picks it from ``out_shape``)."""
    from rasterio.windows import Window

    f = 1 << level
    height, width = rows.stop - rows.start, cols.stop - cols.start
    r0, c0 = rows.start * f, cols.start * f
    full_h = min(height * f, scene.n_rows - r0)
    full_w = min(width * f, scene.n_cols - c0)
    # the window's last level pixel may hang over the scene's edge: GDAL sizes overviews by ceil,
    # so the edge window maps onto whole overview pixels when read at the clipped size
    out_h, out_w = -(-full_h // f), -(-full_w // f)
    try:
        dataset = getattr(scene.source, "dataset", None)  # only GDAL-read sources have overviews
        if dataset is None:
            raise TypeError(f"{type(scene.source).__name__} has no GDAL dataset")
        block = dataset().read(band + 1, window=Window(c0, r0, full_w, full_h), out_shape=(out_h, out_w))
    except Exception as exc:  # rasterio raises several types for a broken or vanished file
        raise SceneReadError(f"cannot read overview {level}: {exc}", scene.path) from exc
    return np.asarray(block)[:height, :width]


def open_reader(scene: Scene, pyramid: Optional[object] = None) -> LevelReader:
    """A :class:`LevelReader` for ``scene`` (with stored levels from ``pyramid`` when given)."""
    return LevelReader(scene, pyramid)
