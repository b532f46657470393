"""Viewer at scale: a big BIL flight line and a 30,000 x 30,000 GeoTIFF, against today's renderer.

Generates (in a temporary folder on /tmp, removed afterwards unless --keep):

- a BIL scene, 16,000 x 640 x 425 int16 (8.7 GB) by default, tiled from the real EnMAP Berlin cube
  (``../shared/data/georef``; the demo scene when absent), written in row chunks;
- a 30,000 x 30,000 single-band uint16 GeoTIFF (tiled 512 x 512, internal overviews 2..64, nearest);
- a 2,000 x 2,000 x 224 BIL scene for the baseline (today's synchronous ``DisplayRenderer`` path).

and measures, each part in a fresh process with one offscreen ``MainWindow`` of 1400 x 900: time
from File > Open (``MainWindow.open_scene_in_background``: read on a worker) to the first image on
screen (the file's pages evicted first: cold), band, RGB and stretch changes (median and worst,
whole scene and 1:1 zoom), panning at 1:1, hover cold (pages evicted) and warm (until the pixel is
shown, and the time the window's thread spends in the handler), the longest gap of a 10 ms QTimer
on the event loop, and RssAnon of the process. The pyramid cache starts empty.

Run: ``python bench/bench_viewer.py [--quick] [--out bench/results/viewer.json]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BERLIN = REPO.parent / "shared" / "data" / "georef" / "EnMAP_BerlinUrbanGradient.hdr"


# --- data --------------------------------------------------------------------------------------------
def source_cube() -> np.ndarray:
    """A small real cube (rows, cols, bands) to tile from: EnMAP Berlin, else the demo scene."""
    from hsiviewer import demo_scene_path, open_scene

    scene = open_scene(BERLIN if BERLIN.exists() else demo_scene_path())
    return scene.to_array().astype(np.int16)


def tile_rows(src: np.ndarray, r0: int, r1: int, cols: int, bands: int) -> np.ndarray:
    """Rows r0..r1 of an endless mirrored tiling of ``src``, with ``bands`` bands and a slow gradient."""
    sr, sc, sb = src.shape
    rr = np.arange(r0, r1) % (2 * sr)
    rr = np.where(rr < sr, rr, 2 * sr - 1 - rr)
    cc = np.arange(cols) % (2 * sc)
    cc = np.where(cc < sc, cc, 2 * sc - 1 - cc)
    bb = (np.arange(bands) * sb) // bands
    block = src[rr][:, cc][:, :, bb].astype(np.int32)
    gradient = ((np.arange(r0, r1) // 97) % 50 * 20)[:, None, None] + (np.arange(cols) // 53 % 30 * 15)[None, :, None]
    return np.clip(block + gradient, -32768, 32767).astype(np.int16)


def write_bil(folder: Path, name: str, rows: int, cols: int, bands: int, src: np.ndarray) -> Path:
    """An ENVI BIL scene written in row chunks (never the whole cube in memory)."""
    data = folder / f"{name}.bil"
    chunk = max(1, (256 * 2**20) // (cols * bands * 2))
    with open(data, "wb") as f:
        for r0 in range(0, rows, chunk):
            block = tile_rows(src, r0, min(rows, r0 + chunk), cols, bands)
            f.write(np.ascontiguousarray(block.transpose(0, 2, 1)).tobytes())  # BIL: line, band, sample
    wavelengths = np.linspace(420, 2450, bands)
    header = folder / f"{name}.hdr"
    header.write_text(
        "ENVI\ndescription = {bench_viewer synthetic flight line}\n"
        f"samples = {cols}\nlines = {rows}\nbands = {bands}\nheader offset = 0\nfile type = ENVI Standard\n"
        "data type = 2\ninterleave = bil\nbyte order = 0\nwavelength units = Nanometers\n"
        "wavelength = {" + ", ".join(f"{w:.1f}" for w in wavelengths) + "}\n"
    )
    return header


def write_mosaic(path: Path, side: int, src: np.ndarray) -> Path:
    """A side x side single-band uint16 GeoTIFF, tiled, with nearest overviews by powers of two."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    band = src[:, :, src.shape[2] // 2].astype(np.int32)
    profile = dict(
        driver="GTiff",
        width=side,
        height=side,
        count=1,
        dtype="uint16",
        tiled=True,
        blockxsize=512,
        blockysize=512,
        crs="EPSG:32633",
        transform=from_origin(380000, 5830000, 3.0, 3.0),
        BIGTIFF="YES",
    )
    with rasterio.open(path, "w", **profile) as dst:
        step = 1024
        for r0 in range(0, side, step):
            r1 = min(side, r0 + step)
            block = tile_rows(band[:, :, None], r0, r1, side, 1)[:, :, 0]
            dst.write(np.clip(block, 0, 65535).astype(np.uint16), 1, window=Window(0, r0, side, r1 - r0))
        factors = [2**k for k in range(1, 20) if side // 2**k >= 256]
        dst.build_overviews(factors, Resampling.nearest)
    return path


def evict(path: Path) -> None:
    """Drop ``path``'s pages from the page cache (this file only), so the next read is cold."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def rss_anon_mb() -> float:
    """RssAnon of this process in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- measuring ---------------------------------------------------------------------------------------
class Probe:
    """A 10 ms timer on the event loop: its longest gap, and the peak RssAnon seen."""

    def __init__(self, app) -> None:
        from PySide6.QtCore import QTimer

        self.app = app
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.last = None
        self.longest = 0.0
        self.longest_all = 0.0  # since reset_all: all the new path's measurements
        self.gaps: list[float] = []
        self.peak_rss = rss_anon_mb()
        self._n = 0

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = now - self.last
        self.last = now
        self.gaps.append(gap)
        self.longest = max(self.longest, gap)
        self.longest_all = max(self.longest_all, gap)
        self._n += 1
        if self._n % 10 == 0:
            self.peak_rss = max(self.peak_rss, rss_anon_mb())

    def reset(self) -> None:
        self.longest, self.gaps, self.last = 0.0, [], time.perf_counter()

    def reset_all(self) -> None:
        self.reset()
        self.longest_all = 0.0


#: Seconds the view stays on screen before each change of the "after a dwell" measurements at 1:1.
DWELL_S = 1.5

#: Seconds from the last ``wait_shown`` action until something of the new view was drawn: the first
#: image of a view still reading (coarse, then sharpening), else the view itself.
FIRST_DRAWN: list[float] = []
PARTIALS: list[float] = []  # when each image of a view still reading was drawn


def wait_shown(app, win, action, timeout: float = 120.0) -> float:
    """Seconds from ``action()`` until the window shows the view asked for (image_shown + current)."""
    t0 = time.perf_counter()
    action()
    deadline = t0 + timeout
    while time.perf_counter() < deadline:
        app.processEvents()
        if win.viewport.is_current() and win.viewport.shown_at >= t0:
            early = [t for t in PARTIALS if t >= t0]
            FIRST_DRAWN.append((min(early) if early else win.viewport.shown_at) - t0)
            return win.viewport.shown_at - t0
        time.sleep(0.001)
    raise TimeoutError("the view did not arrive")


def first_drawn(n: int) -> dict:
    """``stats`` of the first-drawn times of the last ``n`` ``wait_shown`` calls."""
    return stats(FIRST_DRAWN[-n:])


def settle(app, seconds: float = 0.3) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def stats(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"median_ms": round(statistics.median(ms), 1), "worst_ms": round(max(ms), 1), "n": len(ms)}


def zoom_one_to_one(app, win, row: int, col: int) -> float:
    """Zoom so one scene pixel is one screen pixel around (row, col); returns the time to show it."""
    size = win.view.view.size()
    w, h = size.width(), size.height()
    return wait_shown(
        app,
        win,
        lambda: win.view.view.setRange(xRange=(col - w / 2, col + w / 2), yRange=(row - h / 2, row + h / 2), padding=0),
    )


def interaction(app, win, scene, rng, n: int, dwell: float = 0.0) -> dict:
    """Band, RGB and stretch changes in the current view, one straight after another.

    With ``dwell``, band and RGB changes are measured a second time, each after the view has been on
    screen for ``dwell`` seconds (as a person looks at an image before choosing the next bands): the
    time the viewer has to read the view's lines in every band ahead (``ViewRenderer.warm``).
    """
    state = win.display_state
    bands = (
        rng.choice(scene.n_bands, size=4 * n, replace=False)
        if scene.n_bands >= 4 * n
        else rng.integers(0, scene.n_bands, 4 * n)
    )
    out = {}
    if scene.n_bands > 1:
        state.set_mode("band")
        settle(app, 0.2)
        out["band_change"] = stats([wait_shown(app, win, lambda b=int(b): state.set_band(b)) for b in bands[:n]])
        out["band_change_first_drawn"] = first_drawn(n)
        state.set_mode("rgb")
        settle(app, 0.2)
        triples = bands[n : 4 * n].reshape(n, 3)
        out["rgb_change"] = stats(
            [wait_shown(app, win, lambda t=t: state.set_rgb([int(b) for b in t])) for t in triples]
        )
        out["rgb_change_first_drawn"] = first_drawn(n)
    if dwell and scene.n_bands > 1:
        unused = np.setdiff1d(np.arange(scene.n_bands), bands)  # bands not shown above: no cached tile or level
        again = rng.permutation(unused)[: 4 * n] if len(unused) >= 4 * n else rng.integers(0, scene.n_bands, 4 * n)
        reader = win.viewport.renderer.reader
        warmed0 = reader.warmed_bytes
        state.set_mode("band")

        def after_dwell(action) -> float:
            settle(app, dwell)
            return wait_shown(app, win, action)

        out["band_change_after_dwell"] = stats([after_dwell(lambda b=int(b): state.set_band(b)) for b in again[:n]])
        state.set_mode("rgb")
        out["rgb_change_after_dwell"] = stats(
            [after_dwell(lambda t=t: state.set_rgb([int(b) for b in t])) for t in again[n : 4 * n].reshape(n, 3)]
        )
        out["dwell_s"] = dwell
        out["warmed_mb_during_dwell"] = round((reader.warmed_bytes - warmed0) / 2**20, 1)
        out["warmed_mb_at_1to1"] = round(reader.warmed_bytes / 2**20, 1)  # since the scene opened
    stretches = [
        ("percentile", (1.0, 99.0)),
        ("minmax", None),
        ("stddev", None),
        ("percentile", (2.0, 98.0)),
        ("percentile", (5.0, 95.0)),
        ("stddev", None),
    ]
    times = []
    for i in range(n):
        kind, pct = stretches[i % len(stretches)]
        times.append(wait_shown(app, win, lambda k=kind, p=pct, i=i: state.set_stretch(k, percentiles=p, k=1.5 + i)))
    out["stretch_change"] = stats(times)
    return out


def pan(app, win, n: int, step: int = 300) -> dict:
    """Pan at the current zoom, ``step`` scene pixels down each time."""
    rows = win.scene.n_rows
    direction = [1]

    def move():
        (x0, x1), (y0, y1) = win.view.view.viewRange()
        if not (0 <= y0 + direction[0] * step and y1 + direction[0] * step <= rows):
            direction[0] = -direction[0]  # bounce at the scene's edge
        d = direction[0] * step
        win.view.view.setRange(xRange=(x0, x1), yRange=(y0 + d, y1 + d), padding=0)

    return {**stats([wait_shown(app, win, move) for _ in range(n)]), "first_drawn": first_drawn(n)}


def hover(app, win, probe, data_file: Path, scene, rng, n: int) -> dict:
    """Hover, cold (pages evicted) and warm: the time until the status bar and live spectrum show the
    pixel (``pixel_hovered``; large scenes are read on a worker), and the time the window's thread
    spends in the hover handler itself (what freezes the window)."""
    shown: list[float] = []
    win.pixel_hovered.connect(lambda _r, _c: shown.append(time.perf_counter()))

    def timed(row: int, col: int) -> tuple[float, float]:
        shown.clear()
        t0 = time.perf_counter()
        win.inspect_pixel(row, col)
        blocked = time.perf_counter() - t0
        while not shown and time.perf_counter() - t0 < 30:
            app.processEvents()
            time.sleep(0.0005)
        if not shown:
            raise TimeoutError(f"pixel ({row}, {col}) was not shown")
        return shown[0] - t0, blocked

    cold, warm, cold_blocked, warm_blocked = [], [], [], []
    for _ in range(n):
        row, col = int(rng.integers(0, scene.n_rows)), int(rng.integers(0, scene.n_cols))
        evict(data_file)  # the harness's own work on the event loop: not counted as a gap
        probe.last = time.perf_counter()
        shown_s, blocked_s = timed(row, col)
        cold.append(shown_s)
        cold_blocked.append(blocked_s)
        app.processEvents()
        shown_s, blocked_s = timed(row, col)
        warm.append(shown_s)
        warm_blocked.append(blocked_s)
        app.processEvents()
    return {
        "hover_cold": stats(cold),
        "hover_warm": stats(warm),
        "hover_cold_window_thread": stats(cold_blocked),
        "hover_warm_window_thread": stats(warm_blocked),
    }


def bench_scene(app, win, probe, header: Path, data_file: Path, rng, n: int, wait_pyramid: bool) -> dict:
    from hsiviewer.gui.actions.viewport import ViewportController  # noqa: F401 (the path under test)

    evict(data_file)
    probe.reset()
    # as File > Open scene and a dropped file do: read on a worker, shown when read
    first = wait_shown(app, win, lambda: win.open_scene_in_background(header))
    result = {"first_image_s": round(first, 3), "gap_open_ms": round(probe.longest * 1000, 1)}
    scene = win.scene
    job = win.viewport.pyramid_job
    if wait_pyramid and job is not None:
        t0 = time.perf_counter()
        while win.viewport.renderer.reader.pyramid is None and time.perf_counter() - t0 < 3600:
            app.processEvents()
            time.sleep(0.01)
        result["pyramid_build_s"] = round(time.perf_counter() - t0 + first, 1)
        result["gap_during_pyramid_ms"] = round(probe.longest * 1000, 1)
    probe.reset()
    win.view.reset_zoom()
    settle(app, 0.3)
    result["whole"] = interaction(app, win, scene, rng, n)
    result["whole"]["level"] = win.viewport.last_view.level
    result["zoom_to_1to1_s"] = round(zoom_one_to_one(app, win, scene.n_rows // 3, scene.n_cols // 2), 3)
    result["one_to_one"] = interaction(app, win, scene, rng, n, dwell=DWELL_S)
    result["one_to_one"]["level"] = win.viewport.last_view.level
    result["pan_1to1"] = pan(app, win, n)
    result.update(hover(app, win, probe, data_file, scene, rng, n))
    result["longest_gap_ms"] = round(probe.longest * 1000, 1)
    gaps = np.array(probe.gaps) * 1000
    result["gap_p99_ms"] = round(float(np.percentile(gaps, 99)), 1) if gaps.size else None
    result["gaps_over_100ms"] = int((gaps > 100).sum())
    result["rss_anon_mb"] = round(rss_anon_mb(), 1)
    return result


def bench_baseline(app, win, header: Path, data_file: Path, rng, n: int) -> dict:
    """Today's path: read, render whole bands with DisplayRenderer, show, all in the window's thread."""
    from hsiviewer import open_scene
    from hsiviewer.viewer.rendering import DisplayRenderer

    def show(renderer):
        rendering = renderer.render(win.display_state)
        win.view.show_rendering(rendering)
        if win.display_state.mode == "band":
            win.display_panel.show_histogram(rendering.image, rendering.levels)
        app.processEvents()

    evict(data_file)
    t0 = time.perf_counter()
    scene = open_scene(header)
    renderer = DisplayRenderer(scene)
    state = win.display_state
    state.changed.disconnect(win._refresh_image)
    try:
        state.reset(scene)
        win.view.set_shape(scene.n_rows, scene.n_cols)
        show(renderer)
        first = time.perf_counter() - t0
        bands = rng.choice(scene.n_bands, size=4 * n, replace=False)

        def timed(change):
            t = time.perf_counter()
            change()
            show(renderer)
            return time.perf_counter() - t

        state.set_mode("band")
        band = stats([timed(lambda b=int(b): state.set_band(b)) for b in bands[:n]])
        state.set_mode("rgb")
        rgb = stats([timed(lambda t=t: state.set_rgb([int(b) for b in t])) for t in bands[n:].reshape(n, 3)])
        stretch = stats(
            [
                timed(lambda i=i: state.set_stretch("percentile", percentiles=(1.0 + i % 3, 99.0 - i % 3)))
                for i in range(n)
            ]
        )
    finally:
        state.changed.connect(win._refresh_image)
    return {
        "first_image_s": round(first, 3),
        "band_change": band,
        "rgb_change": rgb,
        "stretch_change": stretch,
        "longest_gap_ms": round(max(first, band["worst_ms"] / 1000, rgb["worst_ms"] / 1000) * 1000, 1),
        "rss_anon_mb": round(rss_anon_mb(), 1),
    }


def write_bsq(folder: Path, name: str, rows: int, cols: int, bands: int, src: np.ndarray) -> Path:
    """An ENVI BSQ scene, written band by band."""
    data = folder / f"{name}.bsq"
    with open(data, "wb") as f:
        for b in range(bands):
            block = tile_rows(src[:, :, [b * src.shape[2] // bands]], 0, rows, cols, 1)
            f.write(np.ascontiguousarray(block[:, :, 0]).tobytes())
    header = folder / f"{name}.hdr"
    header.write_text(
        f"ENVI\nsamples = {cols}\nlines = {rows}\nbands = {bands}\nheader offset = 0\n"
        "file type = ENVI Standard\ndata type = 2\ninterleave = bsq\nbyte order = 0\n"
    )
    return header


def bench_cold_one_to_one(header: Path, data: Path, n: int, view_rows: int = 900) -> dict:
    """Band and RGB views at 1:1 with every page of the file evicted first, at fresh places each time.

    ``bench_scene`` measures changes after the pyramid build has read the file (some of its pages
    are in the page cache then). This is the other end: nothing cached. The renderer is driven
    directly (no window), three ways:

    - ``today``: the view's bytes announced to the kernel on a thread of its own while the tiles are
      read (``ViewRenderer.render``);
    - ``announced_first``: announced first, all bands in one go, then read (the previous renderer);
    - ``faults_only``: no announcement, the memory map's page faults alone.
    """
    from hsiviewer import open_scene
    from hsiviewer.viewer.levels import open_reader
    from hsiviewer.viewer.tiles import TileCache, ViewRenderer, ViewRequest, ViewSettings

    scene = open_scene(header)
    # new places every run: the disk under this VM has a cache of its own, which a place read in an
    # earlier run may still be in (the same places twice measured 3-5x faster)
    seed = int(time.time())
    rng = np.random.default_rng(seed)
    params = {"kind": "percentile", "low": 2.0, "high": 98.0, "k": 2.0, "levels": None}
    ways = ("today", "announced_first", "faults_only")
    times: dict[str, list[float]] = {f"{mode}_{way}": [] for mode in ("band", "rgb") for way in ways}
    for _ in range(n):
        for kind in times:
            mode, way = kind.split("_", 1)
            evict(data)
            renderer = ViewRenderer(open_reader(scene), TileCache())
            if way == "announced_first":
                joint = renderer.announce
                renderer.announce = lambda level, bands, tr, tc, background=False, joint=joint: joint(  # type: ignore[method-assign]
                    level, bands, tr, tc
                )
            elif way == "faults_only":
                renderer.reader.prefetch_window = lambda *a, **k: None  # type: ignore[method-assign]
            r0 = int(rng.integers(0, scene.n_rows - view_rows))
            request = ViewRequest(r0, r0 + view_rows, 0, min(scene.n_cols, 1400), 0)
            bands = tuple(int(b) for b in rng.choice(scene.n_bands, 3, replace=False))
            settings = ViewSettings(mode, bands[0], bands, None, params)
            for band in bands:  # stretch levels first: the view's own reads are what is timed
                renderer.band_levels(band, params)
            t0 = time.perf_counter()
            renderer.render(settings, request, partial=lambda view: None)  # as the window's render thread
            times[kind].append(time.perf_counter() - t0)
    return {
        "shape": list(scene.shape),
        "view_rows": view_rows,
        "seed": seed,
        **{k: stats(v) for k, v in times.items()},
    }


def bench_bsq_hover(folder: Path, shape, n: int) -> dict:
    """A cold spectrum on BSQ: one page per band. Baseline: Scene.spectrum through the memory map;
    new: the viewer's pixel read, which announces all of the spectrum's pages first."""
    from hsiviewer import open_scene
    from hsiviewer.viewer.levels import LevelReader

    header = folder / "hover.hdr"
    if not header.exists():
        write_bsq(folder, "hover", *shape, source_cube())
    rng = np.random.default_rng(1)
    old, new = [], []
    for _ in range(n):
        for times, prefetch in ((old, False), (new, True)):
            # a fresh memory map each time: pages mapped by an earlier read cannot be evicted
            scene = open_scene(header)
            reader = LevelReader(scene)
            row, col = int(rng.integers(0, shape[0])), int(rng.integers(0, shape[1]))
            evict(folder / "hover.bsq")
            t0 = time.perf_counter()
            if prefetch:
                reader.pixel(row, col, [0])
            scene.spectrum(row, col)
            times.append(time.perf_counter() - t0)
            del scene, reader
            gc.collect()  # unmap the file
    return {"shape": list(shape), "old_spectrum_cold": stats(old), "new_prefetched_cold": stats(new)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scenes, for a sanity run")
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it (reused when present)")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--screenshot", help="save the window zoomed into the big scene as PNG here")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--part", choices=PARTS, help="measure only this part, in this process (needs --keep)")
    parser.add_argument(
        "--bsq-hover-only",
        action="store_true",
        help="only the cold hover on a BSQ scene (1000 x 1000 x 224; --quick: 400 x 400 x 100)",
    )
    parser.add_argument(
        "--cold-1to1-only",
        action="store_true",
        help="only band and RGB views at 1:1 on the flight line of --keep DIR with its pages evicted first",
    )
    args = parser.parse_args()
    if args.cold_1to1_only:
        if not args.keep:
            sys.exit("--cold-1to1-only needs --keep DIR holding flightline.hdr (made by a run with --keep)")
        folder = Path(args.keep)
        result = bench_cold_one_to_one(folder / "flightline.hdr", folder / "flightline.bil", args.repeats or 10)
        print(json.dumps(result))
        if args.out:
            Path(args.out).write_text(json.dumps(result, indent=1))
        return 0
    if args.bsq_hover_only:
        folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_viewer_", dir="/tmp"))
        try:
            result = bench_bsq_hover(folder, (400, 400, 100) if args.quick else (1000, 1000, 224), args.repeats or 20)
        finally:
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
        print(json.dumps(result))
        if args.out:
            Path(args.out).write_text(json.dumps(result, indent=1))
        return 0
    if args.quick:
        big, side, base, n = (2000, 640, 100), 4000, (1100, 1000, 60), args.repeats or 5
    else:
        big, side, base, n = (16000, 640, 425), 30000, (2000, 2000, 224), args.repeats or 10
    need = (np.prod(big) + np.prod(base)) * 2 + side * side * 2 * 1.4 + np.prod(big) * 2 / 10
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_viewer_", dir="/tmp"))
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < need * 1.1:
        sys.exit(f"not enough room in {folder}: {free / 1e9:.1f} GB free, {need / 1e9:.1f} GB needed")
    os.environ["HSIVIEWER_CACHE_DIR"] = str(folder / "pyramids")
    if args.part:
        if not (args.keep and args.out):
            sys.exit("--part needs --keep (the generated scenes) and --out")
        return run_part(args, folder, args.part, big, n)
    try:
        return run(args, folder, big, side, base, n)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def generate(folder: Path, big, side: int, base) -> None:
    """Write the three scenes into ``folder`` (those already there are kept)."""
    src = source_cube()
    if not (folder / "flightline.hdr").exists():
        write_bil(folder, "flightline", *big, src)
    if not (folder / "baseline.hdr").exists():
        write_bil(folder, "baseline", *base, src)
    if not (folder / "mosaic.tif").exists():
        write_mosaic(folder / "mosaic.tif", side, src)


PARTS = ("baseline_old_renderer", "new_on_baseline_scene", "bil", "mosaic")


def run(args, folder: Path, big, side: int, base, n: int) -> int:
    """Generate the scenes, then measure each part in a fresh process (so that no part's memory, page
    cache advice or caches count in another's figures) and merge the results."""
    timings = {}
    t0 = time.perf_counter()
    # generated in a child process: the writer's memory (GDAL's block cache above all) stays out of
    # the viewer's RssAnon measured here
    import multiprocessing
    import subprocess

    child = multiprocessing.get_context("spawn").Process(target=generate, args=(folder, big, side, base))
    child.start()
    child.join()
    if child.exitcode != 0:
        sys.exit(f"generating the scenes failed (exit code {child.exitcode})")
    timings["generate_s"] = round(time.perf_counter() - t0, 1)
    print(f"generated in {timings['generate_s']} s: {folder}", flush=True)
    shutil.rmtree(folder / "pyramids", ignore_errors=True)  # every run builds the pyramid once
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": list(os.getloadavg()),
        },
        "sizes": {
            "bil": list(big),
            "bil_gb": round(np.prod(big) * 2 / 1e9, 2),
            "mosaic": [side, side],
            "baseline": list(base),
        },
        "each_part_in_a_fresh_process": True,
        **timings,
    }
    for part in PARTS:
        out = folder / f"part-{part}.json"
        command = [sys.executable, __file__, "--keep", str(folder), "--part", part, "--out", str(out)]
        command += ["--quick"] if args.quick else []
        command += ["--repeats", str(n)]
        if args.screenshot and part == "bil":
            command += ["--screenshot", args.screenshot]
        done = subprocess.run(command, check=False)
        if done.returncode != 0:
            sys.exit(f"part {part} failed (exit code {done.returncode})")
        results[part] = json.loads(out.read_text())
        print(part, json.dumps(results[part]), flush=True)
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    print(json.dumps(results, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    return 0


def run_part(args, folder: Path, part: str, big, n: int) -> int:
    """Measure one part in this process: one offscreen window of 1400 x 900."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from hsiviewer.gui import MainWindow

    win = MainWindow()
    win.error_dialog = lambda title, text: print(f"ERROR {title}: {text}", flush=True)
    win.resize(1400, 900)
    win.show()
    settle(app, 0.5)
    probe = Probe(app)
    probe.start()
    drawn = [0]

    def on_partial(*_) -> None:  # runs after the viewport's slot: count only the images it drew (not stale ones)
        if win.viewport.partials_shown != drawn[0]:
            drawn[0] = win.viewport.partials_shown
            PARTIALS.append(time.perf_counter())

    win.viewport.worker.partial.connect(on_partial)
    rng = np.random.default_rng(PARTS.index(part))
    start_mb = round(rss_anon_mb(), 1)
    big_header, base_header, mosaic = folder / "flightline.hdr", folder / "baseline.hdr", folder / "mosaic.tif"
    if part == "baseline_old_renderer":
        result = bench_baseline(app, win, base_header, folder / "baseline.bil", rng, n)
    elif part == "new_on_baseline_scene":
        result = bench_scene(app, win, probe, base_header, folder / "baseline.bil", rng, n, wait_pyramid=True)
    elif part == "bil":
        result = bench_scene(app, win, probe, big_header, folder / "flightline.bil", rng, n, wait_pyramid=True)
        if args.screenshot:
            zoom_one_to_one(app, win, big[0] // 2, big[1] // 2)
            settle(app, 0.5)
            win.grab().save(args.screenshot)
    else:
        result = bench_scene(app, win, probe, mosaic, mosaic, rng, n, wait_pyramid=False)
    result["rss_anon_mb_at_start"] = start_mb
    result["peak_rss_anon_mb"] = round(probe.peak_rss, 1)
    result["longest_gap_ms_whole_part"] = round(probe.longest_all * 1000, 1)
    Path(args.out).write_text(json.dumps(result, indent=1))
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
