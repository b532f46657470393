"""Preprocessing: whitened PCA and standardisation, chunked transform, state round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

import hsiviewer.processing.preprocess as preprocess
from hsiviewer.processing.preprocess import Preprocessor


@pytest.fixture
def cube(rng):
    # correlated bands, like a real spectrum, in integer counts
    base = rng.normal(size=(20, 30, 3))
    mix = rng.normal(size=(3, 16))
    return (1000 + 200 * base @ mix + rng.normal(0, 5, (20, 30, 16))).astype(np.uint16)


def test_pca_whitened_matches_sklearn(cube):
    pre = Preprocessor().fit(cube, n_components=5, seed=0)
    out = pre.transform(cube)
    assert out.shape == (20, 30, 5) and out.dtype == np.float32 and pre.n_outputs == 5
    ref = PCA(5, whiten=True).fit_transform(cube.reshape(-1, 16).astype(np.float64))
    assert np.allclose(out.reshape(-1, 5), ref, atol=1e-4)
    # whitened: unit variance components on the fitting pixels
    assert np.allclose(out.reshape(-1, 5).std(axis=0, ddof=1), 1.0, atol=1e-3)
    assert "PCA 16 -> 5" in repr(pre)


def test_state_round_trip_is_exact(cube):
    pre = Preprocessor().fit(cube, n_components=4, seed=0)
    state = pre.state()
    assert all(isinstance(v, (np.ndarray, str, int, bool)) for v in state.values())
    again = Preprocessor.from_state(state)
    assert np.array_equal(again.transform(cube), pre.transform(cube))
    # also from tensors and lists, as a model file gives them back
    tensors = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in state.items()}
    assert np.array_equal(Preprocessor.from_state(tensors).transform(cube), pre.transform(cube))
    lists = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in state.items()}
    assert np.array_equal(Preprocessor.from_state(lists).transform(cube), pre.transform(cube))


def test_standardisation_without_pca(cube):
    cube = cube.astype(np.float32)
    cube[..., 3] = 7.0  # a constant band
    pre = Preprocessor().fit(cube)
    out = pre.transform(cube).reshape(-1, 16)
    assert pre.n_outputs == 16
    assert np.allclose(out.mean(axis=0), 0, atol=1e-4)
    assert np.allclose(np.delete(out.std(axis=0), 3), 1, atol=1e-4)
    assert not out[:, 3].any()
    assert np.array_equal(Preprocessor.from_state(pre.state()).transform(cube), pre.transform(cube))


def test_transform_is_chunked_and_works_on_any_block(cube, monkeypatch):
    pre = Preprocessor().fit(cube, n_components=3)
    whole = pre.transform(cube)
    monkeypatch.setattr(preprocess, "CHUNK_VALUES", 16 * 30 * 2)  # two rows at a time
    assert np.array_equal(pre.transform(cube), whole)
    assert np.array_equal(pre.transform(cube[5:9, 3:11]), whole[5:9, 3:11])


def test_fit_on_masked_pixels_and_seeded_subsample(cube):
    mask = np.zeros(cube.shape[:2], bool)
    mask[:10] = True
    pre = Preprocessor().fit(cube, mask, n_components=3)
    ref = PCA(3).fit(cube[:10].reshape(-1, 16).astype(np.float64))
    assert np.allclose(pre.mean, ref.mean_)
    a = Preprocessor().fit(cube, n_components=3, seed=1, max_pixels=100)
    b = Preprocessor().fit(cube, n_components=3, seed=1, max_pixels=100)
    c = Preprocessor().fit(cube, n_components=3, seed=2, max_pixels=100)
    assert np.array_equal(a.mean, b.mean) and not np.array_equal(a.mean, c.mean)


def test_errors(cube):
    with pytest.raises(ValueError, match="components"):
        Preprocessor().fit(cube, n_components=40)
    with pytest.raises(RuntimeError, match="not fitted"):
        Preprocessor().transform(cube)
    pre = Preprocessor().fit(cube, n_components=2)
    with pytest.raises(ValueError, match="16"):
        pre.transform(cube[..., :10])
    with pytest.raises(ValueError, match="no pixels"):
        Preprocessor().fit(cube, np.zeros(cube.shape[:2], bool))
