"""MATLAB reader: v5 through scipy, v7.3 (HDF5, column-major) through h5py, and clear errors."""

import json

import numpy as np
import pytest
import scipy.io
from _synth_files import write_mat73

from hsiviewer.errors import SceneReadError
from hsiviewer.io import open_scene
from hsiviewer.io.matlab import MatlabH5Source, read_mat


@pytest.fixture
def cube(rng):
    return rng.integers(0, 4000, size=(6, 5, 7)).astype(np.uint16)


def test_v5_cube_with_sidecar_and_labels(tmp_path, cube):
    labels = (np.arange(30).reshape(6, 5) % 3).astype(np.uint8)
    path = tmp_path / "scene.mat"
    scipy.io.savemat(path, {"paviaU": cube, "gt": labels, "note": "hello"})
    (tmp_path / "scene.json").write_text(json.dumps({"wavelengths": list(range(400, 470, 10))}))
    scene = open_scene(path)
    assert scene.dtype == np.uint16 and scene.shape == (6, 5, 7)
    np.testing.assert_array_equal(scene.to_array(), cube)
    np.testing.assert_array_equal(scene.labels, labels)
    np.testing.assert_array_equal(scene.wavelengths, np.arange(400, 470, 10))
    assert scene.metadata["matlab_format"] == "v5" and scene.metadata["variable"] == "paviaU"


def test_v5_named_variable_and_ambiguity(tmp_path, cube):
    path = tmp_path / "two.mat"
    scipy.io.savemat(path, {"first": cube, "second": cube[:, :, :3].astype(np.float32)})
    with pytest.raises(SceneReadError, match="several 3-D") as info:
        open_scene(path)
    message = str(info.value)
    assert str(path) in message and "first (6x5x7 uint16)" in message and "second (6x5x3 single)" in message
    scene = open_scene(path, variable="second")
    assert scene.dtype == np.float32 and scene.n_bands == 3
    with pytest.raises(SceneReadError, match="no variable 'third'"):
        open_scene(path, variable="third")


def test_v5_without_a_cube(tmp_path):
    path = tmp_path / "flat.mat"
    scipy.io.savemat(path, {"image": np.ones((4, 4))})
    with pytest.raises(SceneReadError, match="no 3-D numeric arrays.*image \\(4x4 double\\)"):
        open_scene(path)
    with pytest.raises(SceneReadError, match="'image' is 4x4 double; the cube needs a 3-D"):
        open_scene(path, variable="image")


def test_v73_is_refused_by_scipy_and_read_with_h5py(tmp_path, cube):
    gt = (cube[:, :, 0] % 5).astype(np.uint8)
    path = write_mat73(tmp_path / "big.mat", {"indian_pines": cube, "gt": gt})
    assert path.read_bytes()[:19] == b"MATLAB 7.3 MAT-file"
    with pytest.raises(NotImplementedError):
        scipy.io.loadmat(path)
    scene = read_mat(path)
    assert isinstance(scene.source, MatlabH5Source)  # lazy: the file stays open
    assert scene.shape == (6, 5, 7) and scene.dtype == np.uint16
    np.testing.assert_array_equal(scene.to_array(), cube)
    np.testing.assert_array_equal(scene.spectrum(5, 4), cube[5, 4])
    np.testing.assert_array_equal(scene.band(6), cube[:, :, 6])
    np.testing.assert_array_equal(
        scene.read_subregion(slice(4, 0, -2), slice(1, 4), [3, 1, 3, -1]), cube[4:0:-2, 1:4][:, :, [3, 1, 3, -1]]
    )
    np.testing.assert_array_equal(scene.labels, cube[:, :, 0] % 5)
    assert scene.metadata["matlab_format"] == "v7.3"


def test_v73_ambiguous_cubes_listed(tmp_path, cube):
    path = write_mat73(tmp_path / "two73.mat", {"a": cube, "b": cube.astype(np.float64)})
    with pytest.raises(SceneReadError, match="several 3-D.*a \\(6x5x7 uint16\\), b \\(6x5x7 double\\)"):
        open_scene(path)
    np.testing.assert_array_equal(open_scene(path, variable="b").to_array(), cube)


def test_not_a_mat_file(tmp_path):
    path = tmp_path / "text.mat"
    path.write_text("just some words, long enough to look like a header " * 4)
    with pytest.raises(SceneReadError, match="not a readable MATLAB file") as info:
        open_scene(path)
    assert str(path) in str(info.value)
