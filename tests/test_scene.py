"""The scene model on the bundled demo."""
import numpy as np


def test_demo_scene_metadata(demo_scene):
    s = demo_scene
    assert s.shape == (145, 145, 200)
    assert s.dtype == np.uint16
    assert s.wavelengths[0] == 400.02 and s.wavelengths[-1] == 2489.11
    assert s.classes.name(2) == "Corn-notill"
    assert s.labels.shape == (145, 145) and int((s.labels > 0).sum()) == 10249
    assert s.crs is None and s.transform is None


def test_spectrum_and_band_agree(demo_scene):
    cube = demo_scene.to_array()
    np.testing.assert_array_equal(demo_scene.spectrum(17, 42), cube[17, 42])
    np.testing.assert_array_equal(demo_scene.band(99), cube[:, :, 99])
    assert demo_scene.band_for_wavelength(650) == int(np.argmin(abs(demo_scene.wavelengths - 650)))
