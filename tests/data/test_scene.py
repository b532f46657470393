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


def test_default_class_colours_do_not_repeat_for_many_classes():
    from hsiviewer.data.classes import ClassTable, default_color

    colours = [default_color(i) for i in range(1, 400)]
    assert len(set(colours)) == len(colours) and default_color(0) == (0, 0, 0)
    table = ClassTable.from_ids([12, 300])
    assert table.color(12) != table.color(300)
