"""Preprocessing fitted on a sample read from the file equals the fit on the cube in memory."""

import numpy as np
import pytest

from hsiviewer import demo_scene_path, open_scene
from hsiviewer.io.numpy_io import scene_from_array
from hsiviewer.processing import scene_sample
from hsiviewer.processing.preprocess import Preprocessor, sample_indices


class CountingSource:
    """A source that records the rows read (to check that the raw cube is not read whole at once)."""

    def __init__(self, array):
        self.array, self.shape, self.dtype = array, array.shape, array.dtype
        self.reads = []

    def read_subregion(self, rows, cols, bands=None):
        block = self.array[rows, cols]
        self.reads.append(block.shape[0])
        return np.asarray(block)


@pytest.fixture(scope="module")
def cube():
    return open_scene(demo_scene_path()).to_array()


@pytest.mark.parametrize("n_components", [None, 12])
def test_fit_on_scene_equals_fit_in_memory(cube, monkeypatch, n_components):
    monkeypatch.setattr(scene_sample, "READ_BLOCK_VALUES", 20 * 145 * 200)  # blocks of 20 rows
    scene = scene_from_array(None, cube, None, {})
    source = CountingSource(cube)
    scene.source = source
    mask = np.zeros(cube.shape[:2], bool)
    mask[10:130, 5:140] = True
    fitted = scene_sample.fit_on_scene(scene, mask, n_components=n_components, seed=3, max_pixels=5000)
    expected = Preprocessor().fit(cube, mask, n_components=n_components, seed=3, max_pixels=5000)
    for key, value in expected.state().items():
        np.testing.assert_array_equal(fitted.state()[key], value)
    assert max(source.reads) == 20
    valid = np.ones(cube.shape[:2], bool)
    valid[0, :3] = False
    out = scene_sample.transform_scene(scene, fitted, valid)
    reference = expected.transform(cube)
    reference[~valid] = 0.0
    np.testing.assert_array_equal(out, reference)


def test_read_pixels_skips_rows_without_samples(cube, monkeypatch):
    monkeypatch.setattr(scene_sample, "READ_BLOCK_VALUES", 10 * 145 * 200)
    scene = scene_from_array(None, cube, None, {})
    scene.source = source = CountingSource(cube)
    mask = np.zeros(cube.shape[:2], bool)
    mask[50:55] = True
    where = sample_indices(mask)
    np.testing.assert_array_equal(scene_sample.read_pixels(scene, where), cube.reshape(-1, 200)[where])
    assert source.reads == [10]  # one block of rows read, the other 14 skipped


@pytest.mark.parametrize("memmap_bytes", [None, 0])
def test_padded_transform_equals_pad_cube(cube, memmap_bytes):
    from hsiviewer.processing.patches import pad_cube

    scene = scene_from_array(None, cube, None, {})
    pre = Preprocessor().fit(cube, n_components=10)
    valid = np.ones(cube.shape[:2], bool)
    valid[5, 5:9] = False
    padded = scene_sample.transform_scene_padded(scene, pre, valid, 4, memmap_bytes=memmap_bytes)
    assert isinstance(padded, np.memmap) == (memmap_bytes == 0)
    expected = pre.transform(cube)
    expected[~valid] = 0.0
    np.testing.assert_array_equal(padded, pad_cube(expected, 4))
