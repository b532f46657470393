"""Large scenes in the window: the visible extent at screen resolution, rendered off the GUI thread."""

import os
import threading

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from _synth_files import write_envi  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from shapely.geometry import box  # noqa: E402

from hsiviewer.processing.stretch import percentile_levels  # noqa: E402
from hsiviewer.viewer import pyramid as pyramid_module  # noqa: E402

ROWS, COLS = 1500, 1000  # 1.5 M pixels: above the synchronous limit


@pytest.fixture
def big(tmp_path, monkeypatch):
    monkeypatch.setenv("HSIVIEWER_CACHE_DIR", str(tmp_path / "cache"))
    data = np.random.default_rng(3).integers(0, 4000, (ROWS, COLS, 4)).astype(np.int16)
    header, data_file = write_envi(tmp_path, data, interleave="bil", data_suffix=".bil")
    return header, data_file, data


@pytest.fixture
def window(make_window):
    return make_window((1400, 900), demo=False)  # room for the canvas beside the docks


def grey(data, levels):
    """What the canvas shows for raw ``data`` stretched to ``levels`` (uint8, as the worker makes it)."""
    low, high = levels
    return (
        np.clip((data.astype(np.float32) - np.float32(low)) * np.float32(255.0 / (high - low)), 0, 255)
        + np.float32(0.5)
    ).astype(np.uint8)


def open_big(qtbot, win, header):
    with qtbot.waitSignal(win.image_shown, timeout=10000):
        assert win.open_scene(header) is not None
    assert not win.viewport.synchronous
    settle(qtbot, win)


def settle(qtbot, win):
    """Wait until the canvas shows the view as it is now (the layout may move it after opening)."""
    qtbot.wait(50)
    qtbot.waitUntil(win.viewport.is_current, timeout=10000)


def one_band_at_full_resolution(qtbot, win, x_range, y_range):
    """Switch to one band and zoom to scene columns ``x_range``, rows ``y_range`` (level 0); the view shown."""
    win.display_panel.band_radio.click()
    with qtbot.waitSignal(win.image_shown, timeout=10000):
        win.view.view.setRange(xRange=x_range, yRange=y_range, padding=0)
    settle(qtbot, win)
    view = win.viewport.last_view
    assert view.level == 0
    return view


def test_whole_view_is_a_decimated_level_then_one_to_one_equals_the_file(qtbot, window, big):
    header, _, data = big
    open_big(qtbot, window, header)
    view = window.viewport.last_view
    assert view.level >= 1  # 1500 rows on a canvas of a few hundred pixels
    f = 2**view.level
    red = window.display_state.rgb[0]
    low, high = view.band_levels[0]
    image = window.view.image_item.image
    assert image.dtype == np.uint8 and image.shape[2] == 4 and (image[:, :, 3] == 255).all()
    np.testing.assert_array_equal(image[:, :, 0], grey(data[::f, ::f, red], (low, high)))
    # stretch levels come from the stats level (every 4th pixel of 1500 x 1000): the same at every zoom
    assert (low, high) == pytest.approx(percentile_levels(data[::4, ::4, red]))
    view = one_band_at_full_resolution(qtbot, window, (500, 700), (800, 950))
    x, y, w, h = (int(v) for v in view.rect)
    np.testing.assert_array_equal(
        window.view.image_item.image[:, :, 1],
        grey(data[y : y + h, x : x + w, window.display_state.band], view.band_levels[0]),
    )
    assert y <= 800 and y + h >= 950 and x <= 500 and x + w >= 700 and w * h < ROWS * COLS
    assert view.band_levels[0] == pytest.approx((low, high)) or window.display_state.band != red
    # the histogram shows the values the levels come from
    counts = window.display_panel.histogram.item.plot.yData
    assert counts.sum() == view.sample.size


def test_stale_requests_are_dropped_and_the_newest_is_shown(qtbot, window, big):
    header, _, data = big
    open_big(qtbot, window, header)
    window.display_state.set_mode("band")
    shown = []
    window.image_shown.connect(lambda: shown.append(window.display_state.band))
    for band in (0, 1, 2, 3, 2, 1):  # a quick sweep of the slider
        window.display_state.set_band(band)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == 1, timeout=10000)
    qtbot.wait(200)
    assert shown == [1]  # only the newest request reached the screen
    assert window.viewport.worker.dropped >= 1
    f = 2**window.viewport.last_view.level
    np.testing.assert_array_equal(
        window.view.image_item.image[:, :, 2], grey(data[::f, ::f, 1], window.viewport.last_view.band_levels[0])
    )


def test_hover_reads_one_pixel_and_the_pyramid_is_built_in_the_background(qtbot, window, big, monkeypatch):
    monkeypatch.setattr(pyramid_module, "MIN_BYTES", 1)
    header, _, data = big
    open_big(qtbot, window, header)
    assert window.viewport.renderer.reader.pyramid is None or window.viewport.pyramid_job is None
    qtbot.waitUntil(lambda: window.viewport.renderer.reader.pyramid is not None, timeout=60000)
    assert window.viewport.renderer.reader.source_of(2) == "pyramid"
    assert len(os.listdir(os.environ["HSIVIEWER_CACHE_DIR"])) == 1
    window.display_state.set_mode("band")
    with qtbot.waitSignal(window.pixel_hovered):
        qtbot.mouseMove(window.view.viewport(), window.view.viewport_pos(1200, 900))
    row, col = window.view._hovered
    assert f"row {row}, col {col}" in window.status_text()
    assert f": {data[row, col, window.display_state.band]}" in window.status_text()
    np.testing.assert_array_equal(window.spectrum_panel.live_curve.yData, data[row, col])


def test_a_file_truncated_while_open_is_reported_once_and_the_window_stays(qtbot, window, big, errors):
    header, data_file, _ = big
    open_big(qtbot, window, header)
    with open(data_file, "r+b") as f:
        f.truncate(4096)
    window.display_state.set_mode("band")
    window.display_state.set_band(0)  # not read yet (RGB showed bands 3, 2, 1)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=10000)
    assert "truncated while open" in errors[0][1]
    window.display_state.set_band(1)
    qtbot.mouseMove(window.view.viewport(), window.view.viewport_pos(10, 10))
    qtbot.wait(300)
    assert len(errors) == 1 and "truncated" in window.status_text()
    assert window.isVisible()


def test_geotiff_overviews_are_read_through(qtbot, window, tmp_path):
    rasterio = pytest.importorskip("rasterio")
    from rasterio.enums import Resampling

    data = (np.arange(2400 * 2200, dtype=np.uint32).reshape(2400, 2200) % 5000).astype(np.uint16)
    path = tmp_path / "mosaic.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=2200,
        height=2400,
        count=1,
        dtype="uint16",
        tiled=True,
        blockxsize=256,
        blockysize=256,
    ) as dst:
        dst.write(data, 1)
        dst.build_overviews([2, 4, 8], Resampling.nearest)
    with qtbot.waitSignal(window.image_shown, timeout=10000):
        window.open_scene(path)
    settle(qtbot, window)
    view = window.viewport.last_view
    reader = window.viewport.renderer.reader
    assert view.level >= 1 and reader.source_of(view.level) == "overview"
    with rasterio.open(path) as src:
        h, w = reader.shape(view.level)
        expected = src.read(1, out_shape=(h, w)).astype(np.float32)
    f = 2**view.level
    x, y, w, h = (int(v) // f for v in view.rect)  # the part on screen, in level pixels
    levels = view.band_levels[0]
    np.testing.assert_array_equal(window.view.image_item.image[:, :, 0], grey(expected[y : y + h, x : x + w], levels))
    np.testing.assert_array_equal(expected, data[::f, ::f])  # nearest overviews are the same decimation
    with qtbot.waitSignal(window.image_shown, timeout=10000):
        window.view.view.setRange(xRange=(0, 300), yRange=(0, 200), padding=0)
    settle(qtbot, window)
    x, y, w, h = (int(v) for v in window.viewport.last_view.rect)
    np.testing.assert_array_equal(window.view.image_item.image[:, :, 0], grey(data[y : y + h, x : x + w], levels))


def test_click_and_key_still_work_on_a_big_scene(qtbot, window, big):
    header, _, data = big
    open_big(qtbot, window, header)
    pos = window.view.viewport_pos(700, 400)
    with qtbot.waitSignal(window.pixel_clicked) as clicked:
        qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    row, col = clicked.args
    assert abs(row - 700) <= 3 and abs(col - 400) <= 3
    np.testing.assert_array_equal(window.spectrum_panel.pinned_curves[(row, col)].yData, data[row, col])


def test_a_large_class_layer_is_drawn_at_the_views_level_nearest(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("HSIVIEWER_CACHE_DIR", str(tmp_path / "cache"))
    rows, cols = 2100, 2000  # 4.2 M pixels: above the whole-layer limit
    data = np.random.default_rng(5).integers(0, 999, (rows, cols, 2)).astype(np.int16)
    header, _ = write_envi(tmp_path, data, interleave="bsq")
    open_big(qtbot, window, header)
    labels = (np.arange(rows)[:, None] // 7 + np.arange(cols)[None, :] // 5) % 6
    layer = window.add_class_layer("classes", labels)
    item = window.view.layer_items[layer]
    request = window.view._request
    assert request.level >= 1
    f = 2**request.level
    image = item.image
    rect = item.mapRectToParent(item.boundingRect())
    y0, x0 = int(rect.top()), int(rect.left())
    expected = layer.rgba(labels[y0 : y0 + image.shape[0] * f : f, x0 : x0 + image.shape[1] * f : f])
    np.testing.assert_array_equal(image, expected)  # every 2**level-th id, coloured by its class
    with qtbot.waitSignal(window.image_shown, timeout=10000):
        window.view.view.setRange(xRange=(1000, 1200), yRange=(1000, 1150), padding=0)
    settle(qtbot, window)
    image = item.image
    rect = item.mapRectToParent(item.boundingRect())
    y0, x0 = int(rect.top()), int(rect.left())
    assert window.view._request.level == 0 and image.shape[0] * image.shape[1] < rows * cols
    np.testing.assert_array_equal(image, layer.rgba(labels[y0 : y0 + image.shape[0], x0 : x0 + image.shape[1]]))


class ThreadRecordingSource:
    """Wraps a scene's pixel source and records which thread reads single pixels (a spy, not a stub:
    every read goes to the real file)."""

    def __init__(self, source):
        self.source = source
        self.shape, self.dtype = source.shape, source.dtype
        self.pixel_threads = []

    def __getattr__(self, name):
        return getattr(self.source, name)

    fail_at = None  # (row, col) whose read raises OSError, as a bad sector would

    def read_subregion(self, rows, cols, bands=None):
        if rows.stop is not None and rows.stop - rows.start == 1 and cols.stop - cols.start == 1:
            self.pixel_threads.append(threading.current_thread().name)
            if (rows.start, cols.start) == self.fail_at:
                raise OSError("Input/output error")
        return self.source.read_subregion(rows, cols, bands)


def test_hover_on_a_large_scene_reads_on_a_worker_and_the_newest_pixel_wins(qtbot, window, big):
    header, _, data = big
    open_big(qtbot, window, header)
    spy = ThreadRecordingSource(window.scene.source)
    window.scene.source = spy
    window.display_state.set_mode("band")
    band = window.display_state.band
    shown = []
    window.pixel_hovered.connect(lambda r, c: shown.append((r, c)))
    pixels = [(10, 20), (300, 400), (1200, 900), (1499, 999)]
    for row, col in pixels:  # a quick sweep of the cursor: the window's thread does not read
        window.inspect_pixel(row, col)
    assert window.inspector.busy
    qtbot.waitUntil(lambda: not window.inspector.busy, timeout=10000)
    qtbot.wait(100)
    assert shown[-1] == pixels[-1] and set(shown) <= set(pixels) and len(shown) == 1
    assert spy.pixel_threads and set(spy.pixel_threads) == {"hsiviewer-pixel"}
    assert window.status_text().startswith("row 1499, col 999") and f": {data[1499, 999, band]}" in window.status_text()
    np.testing.assert_array_equal(window.spectrum_panel.live_curve.yData, data[1499, 999])
    # the cursor leaves before a pixel's answer comes: the answer is not shown
    window.inspect_pixel(5, 5)
    window._on_leave()
    qtbot.wait(300)
    assert shown[-1] == pixels[-1] and not window.inspector.busy
    assert window.spectrum_panel.live_curve.yData is None or len(window.spectrum_panel.live_curve.yData) == 0


def test_a_pixel_that_fails_to_read_on_the_worker_is_reported_once(qtbot, window, big, errors):
    header, _, _ = big
    open_big(qtbot, window, header)
    source = window.scene.source

    class Failing(ThreadRecordingSource):
        def read_subregion(self, rows, cols, bands=None):
            if rows.stop - rows.start == 1:
                raise OSError("read error: the file is damaged at this block")
            return self.source.read_subregion(rows, cols, bands)

    window.scene.source = Failing(source)
    for row, col in [(3, 4), (700, 600)]:
        window.inspect_pixel(row, col)
        qtbot.waitUntil(lambda: not window.inspector.busy, timeout=10000)
        assert f"read pixel ({row}, {col})" in window.status_text()
    assert len(errors) == 1 and "damaged at this block" in errors[0][1]


def rss_anon_mb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_a_huge_scene_costs_the_region_overlay_only_the_tiles_of_its_regions(qtbot, window, tmp_path, monkeypatch):
    # 20,000 x 20,000 x 1 uint8 (400 MB, a sparse file: no disk blocks). The overlay once held an int32
    # id raster and an image item per tile of the whole scene: 1.6 GB and 6,400 items before any region.
    monkeypatch.setenv("HSIVIEWER_CACHE_DIR", str(tmp_path / "cache"))
    side = 20_000
    data = tmp_path / "huge.img"
    with open(data, "wb") as f:
        f.truncate(side * side)
    header = tmp_path / "huge.hdr"
    header.write_text(
        f"ENVI\nsamples = {side}\nlines = {side}\nbands = 1\nheader offset = 0\nfile type = ENVI Standard\n"
        "data type = 1\ninterleave = bsq\nbyte order = 0\n"
    )
    before = rss_anon_mb()
    open_big(qtbot, window, header)
    overlay = window.region_tools.overlay
    assert overlay.shape == (side, side) and not overlay._tiles and overlay.labelled_window() is None
    rt = window.region_tools
    rt.ask_unsaved = lambda: "discard"  # closing at the end of the test drops the regions
    rt.add_class("field")
    rt.regions.add_region(box(19_700, 300, 19_900, 700), 1)  # x = col, y = row: one field, top right
    rt.update_statistics()
    # only the tiles under the field exist, and they hold exactly its pixels
    assert set(overlay._tiles) == {(ti, tj) for ti in range(1, 3) for tj in range(76, 78)}
    assert overlay.labelled_window() == (256, 768, 19456, 19968)
    ids = overlay.window_ids((250, 710, 19690, 19910))
    assert (ids[50:450, 10:210] == 1).all() and ids.sum() == 400 * 200
    assert window.region_tools.panel.table.item(0, 2).text() == str(400 * 200)
    assert rss_anon_mb() - before < 300


def test_a_pixel_still_being_read_when_another_scene_opens_is_forgotten(qtbot, window, big):
    from hsiviewer import demo_scene_path

    header, _, _ = big
    open_big(qtbot, window, header)
    shown = []
    window.pixel_hovered.connect(lambda r, c: shown.append((r, c)))
    window.inspect_pixel(1400, 900)  # a pixel the small scene does not have
    assert window.open_scene(demo_scene_path()) is not None
    assert not window.inspector.busy  # nothing is waited for (a screenshot would otherwise wait)
    qtbot.wait(300)
    assert shown == [] and "1400" not in window.status_text()
    window.inspect_pixel(10, 12)  # the small scene is read at once
    assert shown == [(10, 12)] and window.status_text().startswith("row 10, col 12")


def test_a_view_still_reading_is_drawn_coarse_at_once_then_sharp(qtbot, window, big, monkeypatch):
    from hsiviewer.viewer import tiles

    header, _, data = big
    open_big(qtbot, window, header)
    one_band_at_full_resolution(qtbot, window, (200, 900), (300, 1200))
    monkeypatch.setattr(tiles, "PARTIAL_AFTER_S", 0.0)  # every request counts as slow here
    drawn = []
    window.viewport.worker.partial.connect(lambda _id, view: drawn.append(window.view.image_item.image))
    before = window.viewport.partials_shown
    band = (window.display_state.band + 1) % 4  # a band whose tiles are not cached yet
    with qtbot.waitSignal(window.image_shown, timeout=10000):
        window.display_state.set_band(band)
    view = window.viewport.last_view
    x, y, w, h = (int(v) for v in view.rect)
    exact = grey(data[y : y + h, x : x + w, band], view.band_levels[0])
    assert window.viewport.partials_shown > before  # drawn before all its tiles were read ...
    # the first image came after the first tile: the last tile still showed the samples (every 4th pixel)
    coarse = data[::4, ::4, band].repeat(4, axis=0).repeat(4, axis=1)[y : y + h, x : x + w]
    np.testing.assert_array_equal(drawn[0][-256:, -256:, 0], grey(coarse, view.band_levels[0])[-256:, -256:])
    np.testing.assert_array_equal(window.view.image_item.image[:, :, 0], exact)  # ... then exact


def test_a_render_of_the_previous_scene_is_never_drawn_on_the_next(qtbot, window, big, monkeypatch):
    import time

    from hsiviewer import demo_scene_path
    from hsiviewer.viewer import tiles

    header, _, _ = big
    open_big(qtbot, window, header)
    with qtbot.waitSignal(window.image_shown, timeout=10000):
        window.display_state.set_mode("band")
    monkeypatch.setattr(tiles, "PARTIAL_AFTER_S", 0.0)
    monkeypatch.setattr(tiles, "PARTIAL_EVERY_S", 0.0)
    monkeypatch.setattr(tiles, "STRIP_ROWS", tiles.TILE)
    reader = window.viewport.renderer.reader
    real_read = reader.read
    monkeypatch.setattr(reader, "read", lambda *a, **k: time.sleep(0.02) or real_read(*a, **k))  # a slow disk
    started = threading.Event()
    window.viewport.worker.partial.connect(lambda *_: started.set())
    window.display_state.set_band((window.display_state.band + 1) % 4)
    qtbot.waitUntil(started.is_set, timeout=10000)  # the big scene's render is under way, drawing as it goes
    assert window.open_scene(demo_scene_path()) is not None
    partials = window.viewport.partials_shown
    qtbot.wait(600)  # long enough for the old render's next partial images and its end
    assert window.viewport.partials_shown == partials
    assert window.viewport.last_view.rect == (0.0, 0.0, 145.0, 145.0)
    assert window.view.image_item.image.shape[:2] == (145, 145)
    qtbot.waitUntil(lambda: window.viewport.worker.idle, timeout=10000)  # the old render stopped


def test_region_statistics_of_a_large_scene_read_only_the_regions_tiles_on_a_worker(qtbot, window, big):
    header, _, data = big
    open_big(qtbot, window, header)
    rt = window.region_tools
    rt.ask_unsaved = lambda: "discard"
    rt.add_class("field")
    rt.regions.add_region(box(10, 20, 40, 30), 1)  # x = col, y = row: top left ...
    rt.regions.add_region(box(950, 1460, 990, 1490), 1)  # ... and bottom right
    scene = window.scene
    reads = []
    real = scene.read_subregion
    scene.read_subregion = lambda rows, cols: (
        reads.append((threading.current_thread().name, rows, cols)) or real(rows, cols)
    )
    shown = []
    rt.panel.show_statistics = lambda x, label, stats, region, bad: shown.append(stats)
    rt.update_statistics()
    # the counts need no read and are shown at once; the spectra come from the worker
    assert rt.panel.table.item(0, 1).text() == "2" and rt.panel.table.item(0, 2).text() == str(30 * 10 + 40 * 30)
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=10000)
    assert {name for name, _, _ in reads} == {"hsiviewer-stats"}
    # each field's own block, not the 1,500 x 1,000 block between them
    assert sorted((r.start, r.stop, c.start, c.stop) for _, r, c in reads) == [(20, 30, 10, 40), (1460, 1490, 950, 990)]
    pixels = np.concatenate([data[20:30, 10:40].reshape(-1, 4), data[1460:1490, 950:990].reshape(-1, 4)])
    (stats,) = shown[0]
    assert stats.n_pixels == 1500 and stats.n_regions == 2
    np.testing.assert_allclose(stats.mean, pixels.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.std, pixels.astype(np.float64).std(axis=0), rtol=1e-9)


def test_a_click_on_a_large_scene_pins_without_the_window_reading(qtbot, window, big, errors):
    from hsiviewer import demo_scene_path

    header, _, data = big
    open_big(qtbot, window, header)
    spy = ThreadRecordingSource(window.scene.source)
    window.scene.source = spy
    clicked = []
    window.pixel_clicked.connect(lambda r, c: clicked.append((r, c)))
    # the pixel under the cursor was read for hovering: a click pins its spectrum at once
    with qtbot.waitSignal(window.pixel_hovered, timeout=10000):
        window.inspect_pixel(100, 200)
    reads = len(spy.pixel_threads)
    window.view.pixel_clicked.emit(100, 200)
    assert clicked == [(100, 200)] and len(spy.pixel_threads) == reads
    np.testing.assert_array_equal(window.spectrum_panel.pinned_data()[0][1], data[100, 200])
    # pixels not shown yet (clicks faster than hovering): read on the pin worker, none lost, in order
    window.view.pixel_clicked.emit(1400, 900)
    window.view.pixel_clicked.emit(7, 8)
    window.inspect_pixel(500, 500)  # and hovering on does not drop them
    qtbot.waitUntil(lambda: len(clicked) == 3, timeout=10000)
    assert clicked == [(100, 200), (1400, 900), (7, 8)]
    assert "MainThread" not in spy.pixel_threads and "hsiviewer-pin" in spy.pixel_threads
    pinned = window.spectrum_panel.pinned_data()
    assert [(p.row, p.col) for p, _ in pinned] == clicked
    np.testing.assert_array_equal(pinned[1][1], data[1400, 900])
    assert len(window.spectrum_panel.pinned_curves) == 3
    # a click read while an earlier one is still unread waits for it: pins keep the click order
    window.view.pixel_clicked.emit(1300, 20)  # unread
    with qtbot.waitSignal(window.pixel_hovered, timeout=10000):
        window.inspect_pixel(40, 50)
    window.view.pixel_clicked.emit(40, 50)  # on display, known at once
    qtbot.waitUntil(lambda: len(clicked) == 5, timeout=10000)
    assert clicked[3:] == [(1300, 20), (40, 50)]
    # a pixel that fails to read costs only its own pin, and the error names it
    spy.fail_at = (1200, 30)
    window.view.pixel_clicked.emit(1200, 30)
    window.view.pixel_clicked.emit(1201, 31)
    qtbot.waitUntil(lambda: len(clicked) == 6, timeout=10000)
    assert clicked[-1] == (1201, 31) and len(errors) == 1 and "(1200, 30)" in errors[0][0] + errors[0][1]
    # a click still being read when another scene opens is forgotten
    window.view.pixel_clicked.emit(1450, 950)
    assert window.open_scene(demo_scene_path()) is not None
    qtbot.wait(300)
    assert clicked[-1] == (1201, 31) and len(window.pins) == 0


@pytest.mark.skipif(not hasattr(os, "preadv"), reason="warming reads with preadv")
def test_a_view_on_screen_is_warmed_in_every_band_and_a_new_request_goes_first(qtbot, window, big):
    from hsiviewer.viewer.levels import WARM_CHUNK

    header, data_file, data = big
    open_big(qtbot, window, header)
    reader = window.viewport.renderer.reader
    view = one_band_at_full_resolution(qtbot, window, (200, 900), (300, 1200))
    qtbot.waitUntil(lambda: window.viewport.warmer.idle, timeout=10000)
    line = COLS * 4 * 2  # a BIL line: every band of one row
    _, y, _, h = (int(v) for v in view.rect)
    first, last = y * line // WARM_CHUNK, -(-(y + h) * line // WARM_CHUNK)
    assert {k for k in range(first, last)} <= reader._warmed  # the view's lines, all bands, in the page cache
    # a change of band in the warmed view: shown (exact), and the warming had nothing left to read
    warmed = reader.warmed_bytes
    band = (window.display_state.band + 2) % 4
    with qtbot.waitSignal(window.image_shown, timeout=10000):
        window.display_state.set_band(band)
    qtbot.waitUntil(lambda: window.viewport.warmer.idle, timeout=10000)
    assert reader.warmed_bytes == warmed
    np.testing.assert_array_equal(
        window.view.image_item.image[:, :, 0], grey(data[y : y + h, :, band], window.viewport.last_view.band_levels[0])
    )
    # a new request makes a warming under way stale: it stops at its next chunk
    started = threading.Event()
    release = threading.Event()

    def slow_busy():
        started.set()
        release.wait(5)
        return False

    reader._warmed.clear()  # as if the page cache had dropped them: there is something to read again
    read = []
    call = window.viewport.warmer.submit(
        lambda cancel: read.append(reader.warm_window(0, slice(0, 1500), slice(0, 1000), cancel, slow_busy))
    )
    assert started.wait(5)
    with qtbot.waitSignal(window.image_shown, timeout=10000):
        window.display_state.set_band((band + 1) % 4)
    release.set()
    qtbot.waitUntil(lambda: bool(read), timeout=10000)
    assert read == [0] and window.viewport.warmer.latest != call  # stopped before its first chunk
