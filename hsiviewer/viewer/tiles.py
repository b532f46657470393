"""What the canvas shows: the visible extent at screen resolution, assembled from cached tiles.

The canvas asks for a :class:`ViewRequest` (the scene's visible rows and columns and the
level that matches the screen, see :func:`hsiviewer.viewer.levels.level_for_scale`). A
:class:`ViewRenderer` answers with a :class:`ViewImage`: the tiles of each band on screen at
that level, put together and stretched, and where they go in scene pixels. Tiles are
``TILE`` x ``TILE`` level pixels, float32 with NaN for nodata, kept in a :class:`TileCache`
with a byte budget (least recently used go first).

Stretch levels come from one fixed level of the whole band (:func:`stats_level`), so they
are the same at every zoom; the histogram shows the same values. No Qt: the GUI runs
:meth:`ViewRenderer.render` on a worker thread and passes a ``cancel`` callable that says when a
newer request has made this one stale.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

from hsiviewer.errors import Cancelled
from hsiviewer.processing.stretch import apply_stretch, compute_levels
from hsiviewer.viewer.levels import LevelReader, level_shape, scene_interleave_known, stats_level

TILE = 256
DEFAULT_BUDGET = 192 * 2**20
#: Bytes of band samples (at most 1 MiB a band, see :func:`~hsiviewer.viewer.levels.stats_level`) a renderer keeps.
SAMPLE_BUDGET = 48 * 2**20
#: A request still reading from the file after this many seconds shows its image so far ...
PARTIAL_AFTER_S = 0.05
#: ... and again after each further this many seconds.
PARTIAL_EVERY_S = 0.1
#: Rows of a tile a render reads at a time (it checks its clock and whether it is stale in between).
STRIP_ROWS = 64


@dataclass(frozen=True)
class ViewRequest:
    """The part of the scene on screen: rows ``[r0, r1)``, cols ``[c0, c1)`` at ``level``."""

    r0: int
    r1: int
    c0: int
    c1: int
    level: int

    @classmethod
    def whole(cls, rows: int, cols: int, level: int = 0) -> ViewRequest:
        """All of a ``rows`` x ``cols`` scene."""
        return cls(0, rows, 0, cols, level)

    def tiles(self, rows: int, cols: int) -> tuple[range, range]:
        """The tile rows and tile columns of the level that cover the request."""
        f = 1 << self.level
        r0 = min(max(0, self.r0), rows - 1)
        c0 = min(max(0, self.c0), cols - 1)
        r1 = max(min(rows, self.r1), r0 + 1)
        c1 = max(min(cols, self.c1), c0 + 1)
        last_row, last_col = -(-r1 // f) - 1, -(-c1 // f) - 1
        return (range(r0 // f // TILE, last_row // TILE + 1), range(c0 // f // TILE, last_col // TILE + 1))


@dataclass
class ViewSettings:
    """The display settings a rendering depends on (a snapshot of a ``DisplayState``)."""

    mode: str
    band: int
    rgb: tuple[int, int, int]
    colormap: Optional[str]
    params: dict
    #: When set, the image is made display-ready on the worker: uint8 RGBA, levels and colours applied
    #: (band mode through this (256, 3|4) uint8 table; an array of zeros' shape (0,) means grey).
    lut: Optional[np.ndarray] = None

    @classmethod
    def of(cls, state) -> ViewSettings:
        """Snapshot ``state`` (a :class:`~hsiviewer.viewer.display.DisplayState`)."""
        return cls(state.mode, state.band, tuple(state.rgb), state.colormap, dict(state.stretch_params()))

    @property
    def bands(self) -> list[int]:
        """The bands on screen."""
        return [self.band] if self.mode == "band" else list(self.rgb)


@dataclass
class ViewImage:
    """What the canvas draws for one request.

    Attributes
    ----------
    image : ndarray
        Band mode: float32 (r, c) raw values, NaN where nodata; RGB: float32 (r, c, 3) in [0, 1].
    levels : (float, float)
        Display levels of ``image``.
    colormap : str or None
    band_levels : list of (float, float)
        The stretch levels of each band shown.
    rect : (x, y, width, height)
        Where ``image`` goes, in scene pixels (column, row of the upper-left corner).
    level : int
    sample : ndarray
        The values the stretch levels come from (band mode: the band at the stats level), for
        the histogram.
    """

    image: np.ndarray
    levels: tuple[float, float]
    colormap: Optional[str]
    band_levels: list[tuple[float, float]]
    rect: tuple[float, float, float, float]
    level: int
    sample: Optional[np.ndarray] = None


class TileCache:
    """Tiles by key, kept under a byte budget; the least recently used are dropped. Thread-safe."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET) -> None:
        self.budget = int(budget_bytes)
        self.nbytes = 0
        self._tiles: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Optional[np.ndarray]:
        """The tile stored under ``key`` (now the most recently used), or None."""
        with self._lock:
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
            return tile

    def put(self, key: tuple, tile: np.ndarray) -> None:
        """Store ``tile``; older tiles go until the cache fits its budget."""
        with self._lock:
            old = self._tiles.pop(key, None)
            if old is not None:
                self.nbytes -= old.nbytes
            self._tiles[key] = tile
            self.nbytes += tile.nbytes
            while self.nbytes > self.budget and len(self._tiles) > 1:
                _, dropped = self._tiles.popitem(last=False)
                self.nbytes -= dropped.nbytes

    def clear(self) -> None:
        """Drop every tile."""
        with self._lock:
            self._tiles.clear()
            self.nbytes = 0

    def __len__(self) -> int:
        return len(self._tiles)


class ViewRenderer:
    """Renders requests for one scene from its levels, through a tile cache.

    Parameters
    ----------
    reader : LevelReader
    cache : TileCache, optional
    """

    def __init__(self, reader: LevelReader, cache: Optional[TileCache] = None) -> None:
        self.reader = reader
        self.scene = reader.scene
        self.cache = cache if cache is not None else TileCache()
        self.stats_level = stats_level(self.scene.n_rows, self.scene.n_cols)
        self._levels: dict[tuple, tuple[float, float]] = {}
        # the bands' samples, kept apart from the tile cache (which may drop them): the coarse image
        # of a view comes from them and must cost no read
        self._samples = TileCache(SAMPLE_BUDGET)
        self._lock = threading.Lock()

    # --- tiles -----------------------------------------------------------------------------------
    def tile(self, level: int, band: int, tr: int, tc: int, prefetched: bool = False) -> np.ndarray:
        """Tile (tr, tc) of band ``band`` at ``level``: float32, NaN where nodata."""
        return self.row_tiles(level, band, tr, range(tc, tc + 1), prefetched)[0]

    def row_tiles(
        self,
        level: int,
        band: int,
        tr: int,
        tile_cols: range,
        prefetched: bool = False,
        between: Optional[Callable[[], None]] = None,
    ) -> list[np.ndarray]:
        """The tiles (tr, tc) of band ``band`` at ``level`` for ``tc`` in ``tile_cols``, in that order.

        Those not cached are read together, one read across them: in a BIL or BIP file a band's row
        is one run of bytes, so a row of three tiles costs one page fault a row instead of three
        (on the flight line of ``bench/bench_viewer.py``, reading a 1:1 RGB view's tiles from the
        page cache took 4.5 instead of 18 ms). With ``between``, they are read :data:`STRIP_ROWS` rows at a time and
        ``between()`` is called after each strip but the last (a render checks its clock and
        ``cancel`` there: a cold tile row of a BIL file is 256 random reads a tile, 5-50 ms).
        """
        found = {tc: self.cache.get((level, band, tr, tc)) for tc in tile_cols}
        missing = [tc for tc, tile in found.items() if tile is None]
        if missing:
            lr, lc = self.reader.shape(level)
            rows = slice(tr * TILE, min(lr, (tr + 1) * TILE))
            cols = slice(missing[0] * TILE, min(lc, (missing[-1] + 1) * TILE))
            block = self._read_block(level, band, rows, cols, prefetched, between)
            for tc in missing:
                tile = block[:, (tc - missing[0]) * TILE : (tc - missing[0] + 1) * TILE].astype(np.float32)
                if self.scene.nodata is not None:
                    tile[tile == np.float32(self.scene.nodata)] = np.nan
                tile.setflags(write=False)
                self.cache.put((level, band, tr, tc), tile)
                found[tc] = tile
        return [found[tc] for tc in tile_cols]  # type: ignore[misc]

    def _read_block(
        self, level: int, band: int, rows: slice, cols: slice, prefetched: bool, between: Optional[Callable[[], None]]
    ) -> np.ndarray:
        """``[rows, cols]`` of ``band`` at ``level`` in the file's dtype, in strips when ``between`` is given."""
        if between is None:
            return self.reader.read(level, band, rows, cols, prefetched)
        block = None
        for r0 in range(rows.start, rows.stop, STRIP_ROWS):
            r1 = min(rows.stop, r0 + STRIP_ROWS)
            strip = self.reader.read(level, band, slice(r0, r1), cols, prefetched)
            if block is None:
                block = np.empty((rows.stop - rows.start, strip.shape[1]), strip.dtype)
            block[r0 - rows.start : r1 - rows.start] = strip
            if r1 < rows.stop:  # after the last strip the caller checks anyway
                between()
        assert block is not None
        return block

    def band_image(
        self, level: int, band: int, tile_rows: range, tile_cols: range, cancel: Optional[Callable[[], bool]] = None
    ) -> np.ndarray:
        """The tiles ``tile_rows`` x ``tile_cols`` of a band put together (level pixels).

        The file bytes of the tiles not cached yet are announced to the kernel in one go first.
        """
        missing = bool(self.announce(level, [band], tile_rows, tile_cols))
        rows: list[list[np.ndarray]] = [[] for _ in tile_rows]
        for i, tr in enumerate(tile_rows):
            if cancel is not None and cancel():
                raise Cancelled("a newer view was asked for")
            rows[i] = self.row_tiles(level, band, tr, tile_cols, prefetched=missing)
        return np.block(rows) if len(rows) * len(rows[0]) > 1 else np.array(rows[0][0])

    def announce(
        self, level: int, bands: list[int], tile_rows: range, tile_cols: range, background: bool = False
    ) -> Union[bool, _Readahead]:
        """Announce to the kernel, in one go, the file bytes of the tiles of ``bands`` not cached yet
        (see :meth:`~hsiviewer.viewer.levels.LevelReader.prefetch_window`); False when none were missing.

        With ``background`` the announcement runs on a thread of its own (each call on cold pages waits
        until its read is under way), and the :class:`_Readahead` running it is returned: the caller
        reads meanwhile and calls :meth:`_Readahead.finish` before it returns.
        """
        missing = [
            (b, tr, tc)
            for b in bands
            for tr in tile_rows
            for tc in tile_cols
            if self.cache.get((level, b, tr, tc)) is None
        ]
        if not missing:
            return False
        lr, lc = self.reader.shape(level)
        rows_of, cols_of = [tr for _, tr, _ in missing], [tc for _, _, tc in missing]
        args = (
            level,
            sorted({b for b, _, _ in missing}),
            slice(min(rows_of) * TILE, min(lr, (max(rows_of) + 1) * TILE)),
            slice(min(cols_of) * TILE, min(lc, (max(cols_of) + 1) * TILE)),
        )
        if background:
            return _Readahead(self.reader.prefetch_window, args)
        self.reader.prefetch_window(*args)
        return True

    def warm(
        self,
        request: ViewRequest,
        cancel: Optional[Callable[[], bool]] = None,
        busy: Optional[Callable[[], bool]] = None,
    ) -> int:
        """Read the file bytes of ``request``'s tiles in every band into the page cache, so that the
        next change of band or composite in this view costs no disk read; returns the bytes read.

        The lines on screen go first, then the rest of the tiles' lines (see
        :meth:`~hsiviewer.viewer.levels.LevelReader.warm_window`: which files, how much, and how
        ``cancel`` and ``busy`` are obeyed). The GUI runs it on a thread of its own once a view is
        on screen; each new request stops it (the view asked for goes first) and the next view shown
        starts it again, skipping what was read.
        """
        lr, lc = self.reader.shape(request.level)
        tile_rows, tile_cols = request.tiles(self.scene.n_rows, self.scene.n_cols)
        rows = slice(tile_rows[0] * TILE, min(lr, (tile_rows[-1] + 1) * TILE))
        cols = slice(tile_cols[0] * TILE, min(lc, (tile_cols[-1] + 1) * TILE))
        f = 1 << request.level
        on_screen = slice(max(rows.start, request.r0 // f), max(rows.start + 1, min(rows.stop, -(-request.r1 // f))))
        return self.reader.warm_window(request.level, rows, cols, cancel, busy, first=on_screen)

    def sample(self, band: int) -> np.ndarray:
        """The whole band at the stats level: what stretch levels and the histogram use."""
        found = self._samples.get((band,))
        if found is None:
            level = self.stats_level
            tr, tc = ViewRequest.whole(self.scene.n_rows, self.scene.n_cols, level).tiles(
                self.scene.n_rows, self.scene.n_cols
            )
            found = self.band_image(level, band, tr, tc)
            found.setflags(write=False)
            self._samples.put((band,), found)
        return found

    def stored_sample(self, band: int) -> Optional[np.ndarray]:
        """The sample of ``band`` if it is in memory (see :meth:`sample`), else None: never reads."""
        return self._samples.get((band,))

    def band_levels(self, band: int, params: dict) -> tuple[float, float]:
        """The stretch levels of ``band`` for ``params`` (``DisplayState.stretch_params``)."""
        if params["kind"] == "manual":
            low, high = params["levels"]
            return float(low), float(high)
        key = self._level_key(band, params)
        with self._lock:
            found = self._levels.get(key)
        if found is None:
            low, high = compute_levels(
                self.sample(band), params["kind"], low=params["low"], high=params["high"], k=params["k"]
            )
            found = (float(low), float(high))
            with self._lock:
                self._levels[key] = found
        return found

    @staticmethod
    def _level_key(band: int, params: dict) -> tuple:
        return (band, params["kind"], params["low"], params["high"], params["k"])

    # --- views -----------------------------------------------------------------------------------
    def render(
        self,
        settings: ViewSettings,
        request: ViewRequest,
        cancel: Optional[Callable[[], bool]] = None,
        partial: Optional[Callable[[ViewImage], None]] = None,
    ) -> ViewImage:
        """The image of ``request`` with ``settings``.

        Tiles are read a tile row at a time, band by band (each band's row of tiles in one read,
        see :meth:`row_tiles`). With ``partial``, the file bytes of the view are announced to the
        kernel on a readahead thread while the tiles are read (it ends before this returns), and a
        request still reading from the file :data:`PARTIAL_AFTER_S` after this call (stretch levels
        of new bands count) calls ``partial(image so far)``, then again every :data:`PARTIAL_EVERY_S`
        (checked before the first tile row, after each strip of :data:`STRIP_ROWS` rows read from a
        memory-mapped file, and after each band of each tile row): the
        tiles read so far at full detail, the rest filled from the bands' samples at the stats level
        (nearest neighbour). The samples are kept in memory since their stretch levels were computed
        (:data:`SAMPLE_BUDGET`), so the coarse image costs no read; when one of them is not in memory
        (dropped, or never read because the levels are manual) there is no coarse image. The canvas
        thus shows a coarse image of new bands at once and sharpens as tiles arrive. Each partial
        image is a copy the caller may keep. Without ``partial`` (the window's own thread renders
        small scenes) no thread is started.

        Raises
        ------
        Cancelled
            When ``cancel()`` turns true between two tile rows of a band, or two strips of rows read
            from a memory-mapped file (a newer request came).
        """
        params = settings.params
        if settings.mode != "band" and params["kind"] == "manual":
            params = dict(params, kind="percentile")  # manual levels belong to one band
        bands = settings.bands
        tile_rows, tile_cols = request.tiles(self.scene.n_rows, self.scene.n_cols)
        # Drawn as it goes: the view's bytes are announced beside the reads that follow (stretch
        # samples, then tiles), so that tiles arrive while the rest is still being asked for.
        start = time.perf_counter()  # the partial images' clock runs from here: stretch levels count too
        readahead = self.announce(request.level, bands, tile_rows, tile_cols, background=partial is not None)
        try:
            return self._render(settings, request, params, bands, readahead, cancel, partial, start)
        finally:
            if isinstance(readahead, _Readahead):
                readahead.finish()

    def _render(self, settings, request, params, bands, readahead, cancel, partial, start) -> ViewImage:
        rows, cols = self.scene.n_rows, self.scene.n_cols
        tile_rows, tile_cols = request.tiles(rows, cols)
        level = request.level
        f = 1 << level
        lr, lc = level_shape(rows, cols, level)
        y0, x0 = tile_rows[0] * TILE, tile_cols[0] * TILE
        height = min(lr, (tile_rows[-1] + 1) * TILE) - y0
        width = min(lc, (tile_cols[-1] + 1) * TILE) - x0
        rect = (float(x0 * f), float(y0 * f), float(width * f), float(height * f))
        announced = bool(readahead)
        new_bands = [band for band in bands if self._level_key(band, params) not in self._levels]
        if len(new_bands) > 1:  # their levels come from their samples: announced together too
            whole_rows, whole_cols = ViewRequest.whole(rows, cols, self.stats_level).tiles(rows, cols)
            self.announce(self.stats_level, new_bands, whole_rows, whole_cols)
        levels = [self.band_levels(band, params) for band in bands]
        channels = [np.empty((height, width), np.float32) for _ in bands]
        progressive = partial is not None and announced and level < self.stats_level
        first = (tile_rows[0], tile_cols[0])
        # (tile row, tile col, channel) not read yet: what the coarse image stands in for
        pending = {(tr, tc, i) for tr in tile_rows for tc in tile_cols for i in range(len(bands))}
        last: Optional[float] = None  # when the last partial image was sent

        def maybe_partial() -> None:
            nonlocal last
            if not (progressive and pending):
                return
            now = time.perf_counter()
            if last is None:
                if now - start < PARTIAL_AFTER_S:
                    return
                if not self._fill_coarse(channels, bands, level, (y0, x0), first, pending):
                    return  # a sample is no longer in memory: no coarse image (it would cost reads)
            elif now - last < PARTIAL_EVERY_S:
                return
            partial(self._image(settings, channels, levels, rect, level, None, copy=True))
            last = now

        # strips where a read costs by the row (a memory-mapped ENVI file), not by the block (GDAL)
        strips = (
            progressive and self.reader.source_of(level) in ("file", "strided") and scene_interleave_known(self.scene)
        )

        def between_strips() -> None:
            if cancel is not None and cancel():
                raise Cancelled("a newer view was asked for")
            maybe_partial()

        between = between_strips if strips else None
        maybe_partial()  # the levels of new bands may have taken a while already
        for tr in tile_rows:
            r0 = (tr - first[0]) * TILE
            for i, (band, channel) in enumerate(zip(bands, channels)):
                if cancel is not None and cancel():
                    raise Cancelled("a newer view was asked for")
                for tc, tile in zip(tile_cols, self.row_tiles(level, band, tr, tile_cols, announced, between)):
                    c0 = (tc - first[1]) * TILE
                    channel[r0 : r0 + tile.shape[0], c0 : c0 + tile.shape[1]] = tile
                    pending.discard((tr, tc, i))
                maybe_partial()
        sample = self.sample(settings.band) if settings.mode == "band" else None
        return self._image(settings, channels, levels, rect, level, sample)

    def _fill_coarse(
        self,
        channels: list[np.ndarray],
        bands: list[int],
        level: int,
        origin: tuple[int, int],
        first_tile: tuple[int, int],
        pending: set[tuple[int, int, int]],
    ) -> bool:
        """Fill the ``pending`` (tile row, tile col, channel) of ``channels`` (level pixels from
        ``origin``) from the bands' stored samples; False (nothing filled) when one is not stored."""
        samples = []
        for band in bands:
            sample = self.stored_sample(band)
            if sample is None:
                return False
            samples.append(sample)
        k = 1 << (self.stats_level - level)
        height, width = channels[0].shape
        for tr, tc, i in pending:
            r0, c0 = (tr - first_tile[0]) * TILE, (tc - first_tile[1]) * TILE
            rows, cols = min(TILE, height - r0), min(TILE, width - c0)
            channels[i][r0 : r0 + rows, c0 : c0 + cols] = _upsampled(
                samples[i], k, origin[0] + r0, origin[1] + c0, rows, cols
            )
        return True

    @staticmethod
    def _image(
        settings: ViewSettings,
        channels: list[np.ndarray],
        levels: list[tuple[float, float]],
        rect: tuple[float, float, float, float],
        level: int,
        sample: Optional[np.ndarray],
        copy: bool = False,
    ) -> ViewImage:
        """The :class:`ViewImage` of the band values ``channels`` (one, or three for RGB)."""
        if settings.lut is not None:
            lut = settings.lut if settings.mode == "band" else None
            return ViewImage(to_rgba(channels, levels, lut), (0.0, 255.0), None, list(levels), rect, level, sample)
        if settings.mode == "band":
            image = channels[0].copy() if copy else channels[0]
            return ViewImage(image, levels[0], settings.colormap, list(levels), rect, level, sample)
        stretched = [apply_stretch(data, low, high) for data, (low, high) in zip(channels, levels)]
        return ViewImage(np.dstack(stretched), (0.0, 1.0), None, list(levels), rect, level)

    def values_at(self, state, row: int, col: int) -> list[float]:
        """The raw values at (row, col), full resolution: one in band mode, three in RGB mode.

        ``state`` is a ``DisplayState`` or a :class:`ViewSettings` snapshot of one.
        """
        bands = (state if isinstance(state, ViewSettings) else ViewSettings.of(state)).bands
        values = self.reader.pixel(row, col, bands).astype(np.float64)
        if self.scene.nodata is not None:
            values[values == self.scene.nodata] = np.nan
        return [float(v) for v in values]


def _upsampled(sample: np.ndarray, k: int, y: int, x: int, rows: int, cols: int) -> np.ndarray:
    """Rows ``[y, y + rows)`` and cols ``[x, x + cols)`` of ``sample`` enlarged ``k`` times (nearest
    neighbour; past its last row or column, the last one). Each value is repeated by broadcasting, a
    plain copy: a third of the time of a gather (``sample[np.ix_(...)]``) of the same pixels."""
    n, m = sample.shape
    if (y + rows - 1) // k >= n or (x + cols - 1) // k >= m:  # past the edge: the gather, clamped
        rr = np.minimum(np.arange(y, y + rows) // k, n - 1)
        cc = np.minimum(np.arange(x, x + cols) // k, m - 1)
        return sample[np.ix_(rr, cc)]
    block = sample[y // k : (y + rows - 1) // k + 1, x // k : (x + cols - 1) // k + 1]
    big = np.broadcast_to(block[:, None, :, None], (block.shape[0], k, block.shape[1], k)).reshape(
        block.shape[0] * k, block.shape[1] * k
    )
    dy, dx = y - y // k * k, x - x // k * k
    return big[dy : dy + rows, dx : dx + cols]


class _Readahead:
    """Runs one announcement of file bytes on a thread of its own (see :meth:`ViewRenderer.announce`).

    The thread lives no longer than the render that started it (:meth:`finish` stops and joins it):
    it then runs only while the render worker does, whose thread keeps the garbage collector on the
    GUI thread (:mod:`hsiviewer.gui.threads.qt_gc`).
    """

    def __init__(self, fn: Callable, args: tuple) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=fn, args=args, kwargs={"stop": self._stop.is_set}, name="hsiviewer-readahead", daemon=True
        )
        self._thread.start()

    def __bool__(self) -> bool:
        return True

    def finish(self) -> None:
        """Stop announcing (what is still unread is not needed any more) and wait for the thread."""
        self._stop.set()
        self._thread.join()


#: Pixels :func:`to_rgba` works on at a time: its temporaries stay in the CPU's cache (a whole view's
#: float32 temporaries do not: stretching a 1:1 RGB view was bound by memory traffic, 20-25 ms).
RGBA_STRIP_PIXELS = 1 << 16


def to_rgba(
    channels: list[np.ndarray], levels: list[tuple[float, float]], lut: Optional[np.ndarray] = None
) -> np.ndarray:
    """Stretch one channel (through ``lut``) or three to a display-ready (r, c, 4) uint8 image.

    The same linear map as :func:`hsiviewer.processing.stretch.apply_stretch` (``low`` -> 0,
    ``high`` -> 255, clipped), in float32, a strip of rows at a time into scratch buffers reused
    from strip to strip; nodata (NaN in any channel) is transparent.
    """
    rows, cols = channels[0].shape
    out = np.empty((rows, cols, 4), np.uint8)
    strip = max(1, RGBA_STRIP_PIXELS // max(1, cols))
    x = np.empty((strip, cols), np.float32)
    nan = np.empty((strip, cols), bool)
    valid = np.empty((strip, cols), bool)
    grey = np.empty((strip, cols), np.uint8)
    maps = [
        (np.float32(low), np.float32(255.0 / (high - low)) if high - low > 0 else np.float32(0.0))
        for low, high in levels
    ]
    for r0 in range(0, rows, strip):
        r1 = min(rows, r0 + strip)
        xs, ns, vs, gs = x[: r1 - r0], nan[: r1 - r0], valid[: r1 - r0], grey[: r1 - r0]
        vs.fill(True)
        for c, (data, (low, scale)) in enumerate(zip(channels, maps)):
            np.subtract(data[r0:r1], low, out=xs)
            xs *= scale
            np.isnan(xs, out=ns)
            np.copyto(xs, np.float32(0.0), where=ns)
            np.logical_not(ns, out=ns)
            vs &= ns
            np.clip(xs, np.float32(0.0), np.float32(255.0), out=xs)
            xs += np.float32(0.5)
            np.copyto(gs, xs, casting="unsafe")
            if len(channels) > 1:
                out[r0:r1, :, c] = gs
            elif lut is not None and len(lut):
                out[r0:r1, :, :3] = lut[gs][:, :, :3]
            else:
                out[r0:r1, :, 0] = out[r0:r1, :, 1] = out[r0:r1, :, 2] = gs
        np.multiply(vs, np.uint8(255), out=out[r0:r1, :, 3], casting="unsafe")
    return out


def label_window(labels: np.ndarray, request: ViewRequest) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The class ids of ``request`` at its level (every 2**level-th id: nearest) and their rect.

    Class layers live in memory, so their level is a strided view taken when drawn: the same
    pixels a stored overview would hold, without storing one.
    """
    rows, cols = labels.shape
    tile_rows, tile_cols = request.tiles(rows, cols)
    f = 1 << request.level
    y0, x0 = tile_rows[0] * TILE * f, tile_cols[0] * TILE * f
    y1 = min(rows, (tile_rows[-1] + 1) * TILE * f)
    x1 = min(cols, (tile_cols[-1] + 1) * TILE * f)
    window = labels[y0:y1:f, x0:x1:f]
    return window, (float(x0), float(y0), float(window.shape[1] * f), float(window.shape[0] * f))
