"""Class and region statistics: mean ± std spectra of labelled pixels, against NumPy; a window of the
scene (what the map view passes, the block that holds its regions) gives the same figures."""

import numpy as np

from hsiviewer.io.numpy_io import scene_from_array
from hsiviewer.regions.statistics import class_statistics, region_statistics


def make():
    rng = np.random.default_rng(4)
    cube = rng.normal(100, 20, (60, 80, 7)).astype(np.float32)
    region_ids = np.zeros((60, 80), np.int32)
    region_ids[10:20, 30:45] = 1
    region_ids[25:40, 50:52] = 2
    region_ids[35:38, 60:75] = 3
    labels = np.choose(region_ids, [0, 1, 1, 2]).astype(np.uint16)
    return scene_from_array(None, cube, None, {}), cube, labels, region_ids


def test_class_statistics_equal_numpy_and_a_window_gives_the_same():
    scene, cube, labels, region_ids = make()
    stats = class_statistics(scene, labels, region_ids, {1: "a", 2: "b"}, rows_per_block=7)
    assert [(s.key, s.name, s.n_pixels, s.n_regions) for s in stats] == [(1, "a", 180, 2), (2, "b", 45, 1)]
    for s in stats:
        pixels = cube[labels == s.key].astype(np.float64)
        np.testing.assert_allclose(s.mean, pixels.mean(axis=0), rtol=1e-10)
        np.testing.assert_allclose(s.std, pixels.std(axis=0), rtol=1e-6)
    r0, r1, c0, c1 = 8, 41, 28, 77  # a window holding every labelled pixel
    windowed = class_statistics(
        scene, labels[r0:r1, c0:c1], region_ids[r0:r1, c0:c1], {1: "a", 2: "b"}, rows_per_block=5, offset=(r0, c0)
    )
    for s, w in zip(stats, windowed):
        assert (s.key, s.n_pixels, s.n_regions) == (w.key, w.n_pixels, w.n_regions)
        np.testing.assert_allclose(w.mean, s.mean, rtol=1e-12)
        np.testing.assert_allclose(w.std, s.std, rtol=1e-9)
    region = region_statistics(scene, region_ids[r0:r1, c0:c1], 3, offset=(r0, c0))
    np.testing.assert_allclose(region.mean, cube[35:38, 60:75].reshape(-1, 7).mean(axis=0), rtol=1e-6)
    assert region.n_pixels == 45


def tiles_of(region_ids, size=16):
    """The (row0, col0, ids) tiles holding a region, as the map's region layer keeps them."""
    rows, cols = region_ids.shape
    return [
        (r, c, region_ids[r : r + size, c : c + size].copy())
        for r in range(0, rows, size)
        for c in range(0, cols, size)
        if region_ids[r : r + size, c : c + size].any()
    ]


def test_statistics_from_tiles_equal_the_whole_rasters_and_read_only_labelled_blocks():
    from hsiviewer.regions.statistics import label_counts, tile_statistics

    scene, cube, labels, region_ids = make()
    class_of = np.array([0, 1, 1, 2], np.uint16)
    whole = class_statistics(scene, labels, region_ids, {1: "a", 2: "b"})
    reads = []
    real = scene.read_subregion
    scene.read_subregion = lambda rows, cols: reads.append((rows, cols)) or real(rows, cols)
    stats, region = tile_statistics(scene, tiles_of(region_ids), class_of, {1: "a", 2: "b"}, selected=3)
    for s, w in zip(stats, whole, strict=True):
        assert (s.key, s.name, s.n_pixels, s.n_regions) == (w.key, w.name, w.n_pixels, w.n_regions)
        np.testing.assert_allclose(s.mean, w.mean, rtol=1e-12)
        np.testing.assert_allclose(s.std, w.std, rtol=1e-9)
    pixels = cube[35:38, 60:75].reshape(-1, 7).astype(np.float64)
    np.testing.assert_allclose(region.mean, pixels.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(region.std, pixels.std(axis=0), rtol=1e-6)
    assert region.n_pixels == 45
    # each tile read only the block around its own labelled pixels
    boxes = []
    for _, _, ids in tiles_of(region_ids):
        rows, cols = np.nonzero(ids)
        boxes.append((rows.max() + 1 - rows.min()) * (cols.max() + 1 - cols.min()))
    assert [(r.stop - r.start) * (c.stop - c.start) for r, c in reads] == boxes
    assert sum(boxes) < 33 * 49  # the block that holds every region
    assert label_counts(tiles_of(region_ids), class_of) == {1: (2, 180), 2: (1, 45)}
    assert tile_statistics(scene, [], class_of, {}, selected=1) == ([], None)
