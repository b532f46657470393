"""Levels, the pyramid cache and tiles: what the canvas draws equals the file's pixels."""

import os
import time

import numpy as np
import pytest
from _synth_files import write_envi

from hsiviewer import open_scene
from hsiviewer.data.scene import ArraySource, Scene
from hsiviewer.errors import Cancelled, SceneReadError
from hsiviewer.processing.stretch import apply_stretch
from hsiviewer.progress import CancelToken
from hsiviewer.viewer.levels import LevelReader, level_for_scale, level_shape, stats_level, top_level
from hsiviewer.viewer.pyramid import CachedPyramid, PyramidCache, build_pyramid, scene_key
from hsiviewer.viewer.tiles import TILE, TileCache, ViewRenderer, ViewRequest, ViewSettings


def cube(rows=600, cols=1100, bands=3, seed=0):
    return np.random.default_rng(seed).integers(-500, 3000, (rows, cols, bands)).astype(np.int16)


@pytest.fixture
def bil_scene(tmp_path):
    data = cube()
    header, _ = write_envi(tmp_path, data, interleave="bil", data_suffix=".bil")
    return open_scene(header), data


def test_level_arithmetic():
    assert level_shape(600, 1100, 0) == (600, 1100)
    assert level_shape(600, 1100, 3) == (75, 138)  # ceil
    assert top_level(600, 1100) == 3  # 1100 / 8 = 137.5 -> 138 <= 256
    assert level_for_scale(0.5, 5) == 0 and level_for_scale(1.9, 5) == 0
    assert level_for_scale(2.0, 5) == 1 and level_for_scale(37.0, 5) == 5 and level_for_scale(999, 5) == 5
    assert stats_level(145, 145) == 0 and stats_level(2000, 2000) == 2


def settings(mode="band", band=1, rgb=(0, 1, 2), kind="percentile"):
    return ViewSettings(mode, band, rgb, None, {"kind": kind, "low": 2.0, "high": 98.0, "k": 2.0, "levels": None})


def test_tiles_at_one_to_one_equal_the_file(bil_scene):
    scene, data = bil_scene
    renderer = ViewRenderer(LevelReader(scene))
    view = renderer.render(settings(band=2), ViewRequest(300, 590, 200, 900, 0))
    # the tile-aligned block that covers rows 300..590, cols 200..900 at level 0
    assert view.rect == (0.0, 256.0, 1024.0, 344.0)
    np.testing.assert_array_equal(view.image, data[256:600, 0:1024, 2].astype(np.float32))
    whole = renderer.render(settings(band=0), ViewRequest.whole(600, 1100))
    np.testing.assert_array_equal(whole.image, data[:, :, 0])


@pytest.mark.parametrize("level", [1, 2, 3])
def test_levels_are_decimations_from_file_and_from_pyramid(bil_scene, tmp_path, level):
    scene, data = bil_scene
    pyramid = build_pyramid(scene, tmp_path / "pyr")
    assert pyramid.levels == [2, 3]
    expected = data[:: 2**level, :: 2**level]
    for reader in (LevelReader(scene), LevelReader(scene, pyramid)):
        view = ViewRenderer(reader).render(settings(mode="band", band=1), ViewRequest.whole(600, 1100, level))
        np.testing.assert_array_equal(view.image, expected[:, :, 1])
        assert view.rect == (0.0, 0.0, expected.shape[1] * 2.0**level, expected.shape[0] * 2.0**level)
    assert LevelReader(scene, pyramid).source_of(level) == ("strided" if level == 1 else "pyramid")
    stored = np.load(tmp_path / "pyr" / f"level{max(level, 2)}.npy", mmap_mode="r")
    assert stored.shape == (3,) + level_shape(600, 1100, max(level, 2))  # band-sequential


def test_stretch_levels_are_the_same_at_every_zoom(bil_scene):
    scene, data = bil_scene
    renderer = ViewRenderer(LevelReader(scene))
    rgb = settings(mode="rgb")
    near = renderer.render(rgb, ViewRequest(0, 100, 0, 100, 0))
    far = renderer.render(rgb, ViewRequest.whole(600, 1100, 3))
    assert near.band_levels == far.band_levels
    # the stats level of a 600 x 1100 scene is 1: percentiles of every second pixel
    low, high = np.percentile(data[::2, ::2, 0].astype(float), [2, 98])
    assert near.band_levels[0] == pytest.approx((low, high))
    band = renderer.render(settings(band=1), ViewRequest(0, 10, 0, 10, 0))
    np.testing.assert_array_equal(band.sample, data[::2, ::2, 1])


def test_nodata_becomes_nan():
    data = cube(40, 50, 2)
    data[3, 4, 1] = -9999
    scene = Scene(path=None, source=ArraySource(data), nodata=-9999.0)
    view = ViewRenderer(LevelReader(scene)).render(settings(band=1), ViewRequest.whole(40, 50))
    assert np.isnan(view.image[3, 4]) and np.isfinite(view.image).sum() == 40 * 50 - 1


def test_a_newer_request_cancels_between_tiles(bil_scene):
    scene, _ = bil_scene
    renderer = ViewRenderer(LevelReader(scene))
    calls = []

    def stale():
        calls.append(1)
        return len(calls) > 2  # a newer request arrives after two tiles

    with pytest.raises(Cancelled):
        renderer.render(settings(band=0), ViewRequest.whole(600, 1100), cancel=stale)
    assert len(renderer.cache) >= 2  # the tiles read before are kept for the next request


def test_tile_cache_keeps_its_byte_budget_least_recently_used_first():
    tile = np.zeros((TILE, TILE), np.float32)  # 256 KiB
    cache = TileCache(budget_bytes=3 * tile.nbytes)
    for key in "abc":
        cache.put((key,), tile.copy())
    assert cache.get(("a",)) is not None  # a is now the most recent
    cache.put(("d",), tile.copy())
    assert cache.get(("b",)) is None and cache.get(("a",)) is not None
    assert cache.nbytes == 3 * tile.nbytes and len(cache) == 3


def test_pyramid_cache_keys_by_path_size_and_mtime_and_evicts_lru(tmp_path):
    scenes = []
    for i in range(3):
        folder = tmp_path / f"s{i}"
        folder.mkdir()
        header, data_file = write_envi(folder, cube(300, 300, 2, seed=i), interleave="bsq")
        scenes.append((open_scene(header), data_file))
    one_size = 2 * 75 * 75 * 2 + 2 * 38 * 38 * 2 + 128 * 2  # levels 2 and 3 with their .npy headers
    cache = PyramidCache(tmp_path / "cache", limit_bytes=2 * one_size + 1000)
    first = cache.build(scenes[0][0])
    assert isinstance(first, CachedPyramid) and cache.lookup(scenes[0][0]) is not None
    time.sleep(0.02)
    cache.build(scenes[1][0])
    time.sleep(0.02)
    assert cache.lookup(scenes[0][0]) is not None  # used again: now scene 1 is the oldest
    time.sleep(0.02)
    cache.build(scenes[2][0])
    assert cache.lookup(scenes[1][0]) is None
    assert cache.lookup(scenes[0][0]) is not None and cache.lookup(scenes[2][0]) is not None
    key = scene_key(scenes[0][0])
    os.utime(scenes[0][1], ns=(0, 10**9))  # the file changed on disk: another key
    assert scene_key(scenes[0][0]) != key and cache.lookup(scenes[0][0]) is None
    assert cache.clear() > 0 and cache.entries() == []


def test_cancelled_build_leaves_nothing(bil_scene, tmp_path):
    scene, _ = bil_scene
    token = CancelToken()
    token.cancel()
    cache = PyramidCache(tmp_path / "cache")
    with pytest.raises(Cancelled):
        cache.build(scene, cancel=token)
    assert list((tmp_path / "cache").iterdir()) == []


def test_truncated_file_is_a_clear_error_not_a_crash(bil_scene):
    scene, _ = bil_scene
    renderer = ViewRenderer(LevelReader(scene))
    data_file = scene.metadata["data_file"]
    with open(data_file, "r+b") as f:
        f.truncate(1000)
    with pytest.raises(SceneReadError, match="truncated while open"):
        renderer.render(settings(band=0), ViewRequest(0, 10, 0, 10, 0))
    os.remove(data_file)
    with pytest.raises(SceneReadError, match="vanished"):
        renderer.values_at(
            type(
                "S",
                (),
                {"mode": "band", "band": 0, "rgb": (0, 0, 0), "colormap": None, "stretch_params": lambda self: {}},
            )(),
            1,
            1,
        )


def test_display_ready_rgba_applies_levels_table_and_nodata():
    from hsiviewer.viewer.tiles import to_rgba

    band = np.array([[0.0, 50.0, 100.0, np.nan]], np.float32)
    rgba = to_rgba([band], [(0.0, 100.0)])
    assert rgba[0, :, 0].tolist() == [0, 128, 255, 0] and rgba[0, :, 3].tolist() == [255, 255, 255, 0]
    lut = np.zeros((256, 3), np.uint8)
    lut[:, 1] = 255 - np.arange(256)
    assert to_rgba([band], [(0.0, 100.0)], lut)[0, :3, 1].tolist() == [255, 127, 0]
    rgb = to_rgba([band, band * 2, band], [(0.0, 100.0), (0.0, 100.0), (50.0, 50.0)])
    assert rgb[0, 1, :3].tolist() == [128, 255, 0]  # a flat span maps to 0, as apply_stretch does


def test_display_ready_rgba_is_the_same_strip_by_strip(monkeypatch):
    from hsiviewer.viewer import tiles

    rng = np.random.default_rng(5)
    channels = [rng.normal(1000, 300, (37, 23)).astype(np.float32) for _ in range(3)]
    channels[1][rng.random((37, 23)) < 0.1] = np.nan  # nodata in one channel: transparent
    levels = [(500.0, 1500.0), (700.0, 1300.0), (900.0, 2000.0)]
    whole = tiles.to_rgba(channels, levels)
    monkeypatch.setattr(tiles, "RGBA_STRIP_PIXELS", 5 * 23)  # strips of 5 rows, the last of 2
    np.testing.assert_array_equal(tiles.to_rgba(channels, levels), whole)
    stretched = np.dstack([apply_stretch(c, *lv) for c, lv in zip(channels, levels)])
    expected = (np.nan_to_num(stretched) * 255 + 0.5).astype(np.uint8)
    assert np.abs(whole[:, :, :3].astype(int) - expected).max() <= 1  # float32 against apply_stretch's rounding
    np.testing.assert_array_equal(whole[:, :, 3], np.where(np.isnan(channels[1]), 0, 255))


@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
def test_pixel_byte_ranges_hold_the_spectrum(tmp_path, interleave):
    from hsiviewer.viewer.levels import pixel_byte_ranges

    data = cube(5, 7, 4)
    _, data_file = write_envi(tmp_path, data, interleave=interleave)
    raw = data_file.read_bytes()
    ranges = pixel_byte_ranges((5, 7, 4), interleave, 2, 3, 2)
    covered = b"".join(raw[start : start + length] for start, length in ranges)
    values = np.frombuffer(covered, "<i2")
    for value in data[3, 2]:
        assert value in values
    if interleave != "bil":
        np.testing.assert_array_equal(values, data[3, 2])
    scene = open_scene(tmp_path / "scene.hdr")
    np.testing.assert_array_equal(LevelReader(scene).pixel(3, 2, [0, 1, 2, 3]), data[3, 2])


@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
@pytest.mark.parametrize("band", [2, None])
def test_window_byte_ranges_cover_the_window(tmp_path, interleave, band):
    from hsiviewer.viewer.levels import window_byte_ranges

    rows, cols, bands = 40, 30, 4
    data = cube(rows, cols, bands)
    _, data_file = write_envi(tmp_path, data, interleave=interleave)
    size = data_file.stat().st_size
    covered = np.zeros(size, bool)
    for start, length in window_byte_ranges((rows, cols, bands), interleave, 2, range(3, 37, 8), range(5, 21), band):
        covered[start : start + length] = True
    # every byte of the window is announced
    index = np.arange(rows * cols * bands).reshape(
        {"bsq": (bands, rows, cols), "bil": (rows, bands, cols), "bip": (rows, cols, bands)}[interleave]
    )
    index = np.moveaxis(index, {"bsq": (0, 1, 2), "bil": (1, 0, 2), "bip": (2, 0, 1)}[interleave], (2, 0, 1))
    wanted = index[3:37:8, 5:21, :] if band is None else index[3:37:8, 5:21, band]
    assert covered[wanted.ravel() * 2].all() and covered[wanted.ravel() * 2 + 1].all()
    assert covered.sum() < size  # and not the whole file


def test_a_request_still_reading_shows_a_coarse_image_that_sharpens_tile_row_by_tile_row(bil_scene, monkeypatch):
    from hsiviewer.viewer import tiles

    monkeypatch.setattr(tiles, "PARTIAL_AFTER_S", 0.0)  # every request counts as slow here
    monkeypatch.setattr(tiles, "PARTIAL_EVERY_S", 0.0)
    monkeypatch.setattr(tiles, "STRIP_ROWS", tiles.TILE)  # a check per tile row (strips: see below)
    scene, data = bil_scene
    renderer = ViewRenderer(LevelReader(scene))
    assert renderer.stats_level == 1  # 300 x 550 samples: every 2nd row and column
    reads = []
    real_read = renderer.reader.read
    monkeypatch.setattr(renderer.reader, "read", lambda *a, **k: reads.append(a[:1] + a[2:4]) or real_read(*a, **k))
    seen = []
    view = renderer.render(settings(band=2), ViewRequest.whole(600, 1100), partial=seen.append)
    # 3 tile rows of 5 tiles, each row one read across its tiles: an image before the first and
    # after each row but the last; the first all coarse, the second with the first row sharp
    # (the stretch levels' sample at level 1 first: 300 x 550, two tile rows of three tiles)
    assert reads == [(1, slice(0, 256), slice(0, 550)), (1, slice(256, 300), slice(0, 550))] + [
        (0, slice(r, min(600, r + 256)), slice(0, 1100)) for r in (0, 256, 512)
    ]
    assert len(seen) == 3 and all(v.rect == view.rect for v in seen)
    band = data[:, :, 2].astype(np.float32)
    coarse = band[::2, ::2].repeat(2, axis=0).repeat(2, axis=1)[:600, :1100]
    np.testing.assert_array_equal(seen[0].image, coarse)
    np.testing.assert_array_equal(seen[1].image[:256], band[:256])
    np.testing.assert_array_equal(seen[1].image[256:], coarse[256:])
    np.testing.assert_array_equal(seen[2].image[:512], band[:512])
    np.testing.assert_array_equal(seen[2].image[512:], coarse[512:])
    np.testing.assert_array_equal(view.image, band)  # and the image itself is exact
    for tc in range(5):  # cached tile by tile, each equal to its part of the file
        np.testing.assert_array_equal(renderer.cache.get((0, 2, 1, tc)), band[256:512, tc * 256 : (tc + 1) * 256])
    # cached tiles, or a level as coarse as the samples, show at once: no image in between
    seen.clear()
    renderer.render(settings(band=2), ViewRequest.whole(600, 1100), partial=seen.append)
    renderer.render(settings(band=0), ViewRequest.whole(600, 1100, level=1), partial=seen.append)
    assert seen == []


def test_composites_sharpen_band_by_band_and_end_exact(bil_scene, monkeypatch):
    from hsiviewer.viewer import tiles

    monkeypatch.setattr(tiles, "PARTIAL_AFTER_S", 0.0)
    monkeypatch.setattr(tiles, "PARTIAL_EVERY_S", 0.0)
    monkeypatch.setattr(tiles, "STRIP_ROWS", tiles.TILE)
    scene, data = bil_scene
    renderer = ViewRenderer(LevelReader(scene))
    rgb = settings(mode="rgb", rgb=(2, 1, 0))
    seen = []
    view = renderer.render(rgb, ViewRequest.whole(600, 1100), partial=seen.append)
    # an image before the first tile row and after each band of each row but the last: 1 + 3 x 3 - 1
    assert len(seen) == 9
    levels = [renderer.band_levels(b, rgb.params) for b in (2, 1, 0)]
    exact = np.dstack([apply_stretch(data[:, :, b].astype(np.float32), *lv) for b, lv in zip((2, 1, 0), levels)])
    coarse = exact[::2, ::2].repeat(2, axis=0).repeat(2, axis=1)[:600, :1100]
    second = seen[2].image  # red and green of the first tile row read, blue still coarse
    np.testing.assert_allclose(second[:256, :, :2], exact[:256, :, :2])
    np.testing.assert_allclose(second[:256, :, 2], coarse[:256, :, 2])
    np.testing.assert_allclose(second[256:], coarse[256:])
    np.testing.assert_allclose(view.image, exact)


def test_no_coarse_image_when_a_sample_is_no_longer_in_memory(bil_scene, monkeypatch):
    from hsiviewer.viewer import tiles

    monkeypatch.setattr(tiles, "PARTIAL_AFTER_S", 0.0)
    monkeypatch.setattr(tiles, "PARTIAL_EVERY_S", 0.0)
    monkeypatch.setattr(tiles, "STRIP_ROWS", tiles.TILE)  # a check per tile (strips: see below)
    scene, data = bil_scene
    renderer = ViewRenderer(LevelReader(scene))
    renderer.band_levels(2, settings(band=2).params)  # levels known ...
    renderer._samples.clear()  # ... but the sample dropped (as after many other bands)
    reads = []
    real_read = renderer.reader.read
    monkeypatch.setattr(
        renderer.reader, "read", lambda level, *a, **k: reads.append(level) or real_read(level, *a, **k)
    )
    seen = []
    view = renderer.render(settings(band=2), ViewRequest.whole(600, 1100), partial=seen.append)
    # no partial image then: its coarse part would have to be read from the file
    assert seen == [] and reads[:3] == [0] * 3  # a read a tile row (the histogram's sample comes after)
    np.testing.assert_array_equal(view.image, data[:, :, 2].astype(np.float32))


def _resident(path, start, length):
    """How many pages of ``path`` in [start, start + length) are in the page cache (``mincore``)."""
    import ctypes
    import mmap

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    first = start // mmap.PAGESIZE * mmap.PAGESIZE
    size = start + length - first
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), size, prot=mmap.PROT_READ, offset=first)
    pages = np.frombuffer(mapped, np.uint8)  # only for the mapping's address: nothing is read
    vec = ctypes.create_string_buffer(-(-size // mmap.PAGESIZE))
    ok = libc.mincore(pages.ctypes.data, size, vec)
    del pages
    mapped.close()
    assert ok == 0, ctypes.get_errno()
    return sum(b & 1 for b in vec.raw)


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="page-cache advice and mincore: Linux")
@pytest.mark.parametrize("interleave", ["bil", "bip"])
def test_warming_reads_the_views_lines_in_every_band_into_the_page_cache(tmp_path, interleave):
    from hsiviewer.viewer import levels

    data = cube(1200, 300, 40)  # 24,000 bytes a line: a 1:1 view of 512 lines is 12 MB
    header, data_file = write_envi(tmp_path, data, interleave=interleave)
    scene = open_scene(header)
    line = 300 * 40 * 2
    fd = os.open(data_file, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    renderer = ViewRenderer(LevelReader(scene))
    request = ViewRequest(300, 700, 0, 300, 0)  # tile rows 1 and 2: lines 256..767
    before = _resident(data_file, 256 * line, 512 * line)
    read = renderer.warm(request)
    chunk = levels.WARM_CHUNK
    first, last = 256 * line // chunk, -(-768 * line // chunk)
    assert read == (last - first) * chunk  # whole chunks around the view's lines
    # every page of the view's lines is in the page cache now (before: none, where the file system can
    # drop its pages; a tmpfs cannot)
    assert _resident(data_file, 256 * line, 512 * line) == 512 * line // 4096 >= before
    assert renderer.warm(request) == 0  # read already
    # and the view then reads the same values
    view = renderer.render(settings(band=7), request)
    np.testing.assert_array_equal(view.image, data[256:768, :, 7].astype(np.float32))


@pytest.mark.skipif(not hasattr(os, "preadv"), reason="warming reads with preadv")
def test_warming_keeps_its_budget_and_obeys_cancel_and_busy(tmp_path, bil_scene):
    from hsiviewer.viewer.levels import WARM_CHUNK

    scene, _ = bil_scene  # 600 x 1100 x 3 BIL: 6,600 bytes a line, 4 MB in all
    request = ViewRequest.whole(600, 1100)
    reader = LevelReader(scene)
    assert reader.warm_window(0, slice(0, 600), slice(0, 1100), budget=1 << 20) == 0  # 4 MB on screen > budget
    # the lines on screen first (300..400: the chunk of bytes 1.98-2.64 MB, chunk 1 and 2), then the
    # rest of the tiles' lines up to the budget (3 chunks): chunk 0
    assert reader.warm_window(0, slice(0, 600), slice(0, 1100), budget=3 * WARM_CHUNK, first=slice(300, 400)) == (
        3 * WARM_CHUNK
    )
    assert reader._warmed == {0, 1, 2}
    reader._warmed.clear()
    assert reader.warm_window(2, slice(0, 150), slice(0, 275)) == 0  # a level the pyramid will hold
    assert reader.warm_window(0, slice(0, 600), slice(0, 1100), cancel=lambda: True) == 0
    polls = []

    def busy():  # the renderer reads for the first three looks, then is idle
        polls.append(time.perf_counter())
        return len(polls) <= 3

    assert ViewRenderer(reader).warm(request, busy=busy) > 0 and len(polls) > 3
    (tmp_path / "bsq").mkdir()
    header, _ = write_envi(tmp_path / "bsq", cube(600, 1100, 3), interleave="bsq")
    assert ViewRenderer(LevelReader(open_scene(header))).warm(request) == 0  # one run a band already


def test_a_tile_read_from_the_file_is_read_in_strips_with_checks_between(bil_scene, monkeypatch):
    from hsiviewer.viewer import tiles

    monkeypatch.setattr(tiles, "PARTIAL_AFTER_S", 0.0)
    monkeypatch.setattr(tiles, "PARTIAL_EVERY_S", 0.0)
    scene, data = bil_scene
    renderer = ViewRenderer(LevelReader(scene))
    renderer.sample(2)  # stretch levels known, sample in memory: the coarse image costs no read
    seen = []
    view = renderer.render(settings(band=2), ViewRequest(0, 256, 0, 256, 0), partial=seen.append)
    # one tile of 256 rows in 4 strips: an image before it and after each strip but the last, the
    # tile still coarse in all of them (a tile row enters the image whole)
    assert len(seen) == 4
    coarse = data[::2, ::2, 2].repeat(2, axis=0).repeat(2, axis=1)[:256, :256].astype(np.float32)
    for partial_view in seen:
        np.testing.assert_array_equal(partial_view.image, coarse)
    np.testing.assert_array_equal(view.image, data[:256, :256, 2])
    # a newer request is seen between strips: the tile is not finished, nor cached
    checks = []

    def cancel():
        checks.append(1)
        return len(checks) > 2  # stale at its third look: after the second strip of the first tile row

    with pytest.raises(Cancelled):
        renderer.render(settings(band=1), ViewRequest(300, 600, 0, 256, 0), cancel=cancel, partial=seen.append)
    assert renderer.cache.get((0, 1, 1, 0)) is None


@pytest.mark.parametrize("k", [1, 2, 8, 512])
def test_coarse_fill_is_the_nearest_sample_value(k):
    from hsiviewer.viewer.tiles import _upsampled

    sample = np.arange(37 * 23, dtype=np.float32).reshape(37, 23)
    for y, x, rows, cols in [(0, 0, 256, 256), (256, 512, 256, 100), (37 * k - 300, 23 * k - 90, 256, 256)]:
        y, x = max(0, y), max(0, x)
        rr = np.minimum(np.arange(y, y + rows) // k, 36)
        cc = np.minimum(np.arange(x, x + cols) // k, 22)
        np.testing.assert_array_equal(_upsampled(sample, k, y, x, rows, cols), sample[np.ix_(rr, cc)])
