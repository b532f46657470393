"""SAM and SID against Spectral Python and the definitions, on the real Berlin scene."""

from __future__ import annotations

import numpy as np
import pytest
import spectral

from hsiviewer import open_scene
from hsiviewer.progress import CancelToken
from hsiviewer.spectral.library import SpectralLibrary
from hsiviewer.spectral.matching import MatchError, match_scene, sid

PICKS = [(5, 3), (20, 10), (40, 30), (70, 50), (10, 45)]


@pytest.fixture
def berlin(georef_dir):
    return open_scene(georef_dir / "EnMAP_BerlinUrbanGradient.hdr")


def test_sam_equals_spectral_python(berlin):
    cube = berlin.to_array().astype(np.float64)
    refs = np.array([cube[r, c] for r, c in PICKS]) * 1.3  # a scale factor does not change angles
    result = match_scene(berlin, refs, method="sam", tile_pixels=500)  # many tiles
    angles = spectral.spectral_angles(cube, refs)
    np.testing.assert_array_equal(result.best, angles.argmin(axis=2) + 1)
    np.testing.assert_allclose(result.score, angles.min(axis=2), atol=1e-6)
    for i, (r, c) in enumerate(PICKS, start=1):  # each reference pixel matches itself at angle 0
        assert result.best[r, c] == i and result.score[r, c] < 1e-6


def test_threshold_leaves_poor_matches_unclassified(berlin):
    cube = berlin.to_array().astype(np.float64)
    refs = np.array([cube[r, c] for r, c in PICKS])
    result = match_scene(berlin, refs, threshold=0.05)
    angles = spectral.spectral_angles(cube, refs).min(axis=2)
    assert np.array_equal(result.class_map == 0, angles > 0.05)
    assert np.array_equal(result.classify(None) > 0, np.ones(angles.shape, bool))


def test_sid_equals_the_definition(berlin):
    cube = berlin.to_array().astype(np.float64)
    refs = np.array([cube[r, c] for r, c in PICKS])
    result = match_scene(berlin, refs, method="sid")
    for r, c in [(0, 0), (33, 17), (79, 59), (5, 3)]:
        scores = [sid(cube[r, c], ref) for ref in refs]
        assert result.best[r, c] == int(np.argmin(scores)) + 1
        assert result.score[r, c] == pytest.approx(min(scores), rel=1e-4, abs=1e-9)


def test_library_is_resampled_and_bad_bands_left_out(berlin):
    cube = berlin.to_array().astype(np.float64)
    lib = SpectralLibrary(["a", "b"], [cube[5, 3], cube[40, 30]], berlin.wavelengths, berlin.fwhm, 10000.0)
    berlin.bad_bands = np.zeros(berlin.n_bands, bool)
    berlin.bad_bands[:10] = True
    result = match_scene(berlin, lib)
    assert result.names == ["a", "b"] and result.bands_used.sum() == berlin.n_bands - 10
    angles = spectral.spectral_angles(cube[:, :, 10:], np.array([cube[5, 3], cube[40, 30]])[:, 10:])
    np.testing.assert_array_equal(result.best, angles.argmin(axis=2) + 1)


def test_nodata_pixels_stay_unclassified(demo_scene):
    cube = demo_scene.to_array()
    cube[0, :5] = 7  # make some pixels nodata
    from hsiviewer.data.scene import ArraySource

    demo_scene.source = ArraySource(cube)
    demo_scene.nodata = 7
    result = match_scene(demo_scene, cube[[50, 100], [50, 100]].astype(float))
    assert (result.best[0, :5] == 0).all() and np.isnan(result.score[0, :5]).all()
    assert (result.best[1:] > 0).all()


def test_cancel_returns_the_rows_done(berlin):
    token = CancelToken()
    seen = []

    def progress(event):
        seen.append(event.done)
        if event.done == 2:
            token.cancel()

    refs = berlin.to_array()[[5, 40], [3, 30]].astype(float)
    result = match_scene(berlin, refs, tile_pixels=600, progress=progress, cancel=token)
    assert result.cancelled and seen == [1, 2]
    assert (result.best[:20] > 0).all() and (result.best[20:] == 0).all()


def test_bad_settings_are_refused(berlin):
    with pytest.raises(MatchError, match="unknown matching method"):
        match_scene(berlin, np.ones((1, 177)), method="euclid")
    with pytest.raises(MatchError, match="177"):
        match_scene(berlin, np.ones((1, 10)))
    lib = SpectralLibrary(["uv"], [[1.0, 2.0]], [100.0, 200.0], None)
    with pytest.raises(MatchError, match="no band"):
        match_scene(berlin, lib)
