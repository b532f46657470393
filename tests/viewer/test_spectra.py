"""Spectra for the plot and the CSV export (no widgets)."""

import csv

import numpy as np
import pytest

from hsiviewer.data.scene import ArraySource, Scene
from hsiviewer.errors import ExportError
from hsiviewer.viewer.spectra import spectrum_axis, spectrum_connect, spectrum_values, write_spectra_csv


def test_bad_bands_and_nodata_become_gaps():
    cube = np.arange(2 * 2 * 5, dtype=np.int16).reshape(2, 2, 5)
    cube[1, 1, 3] = -99
    scene = Scene(None, ArraySource(cube), bad_bands=np.array([0, 1, 0, 0, 0], bool), nodata=-99)
    values = spectrum_values(scene, 1, 1)
    assert np.isnan(values[1]) and np.isnan(values[3]) and values[4] == cube[1, 1, 4]
    x, label, column = spectrum_axis(scene)
    np.testing.assert_array_equal(x, [1, 2, 3, 4, 5])
    assert (label, column) == ("Band", "band")


def test_connect_breaks_at_gaps_overlaps_and_missing_bands():
    x = np.array([400, 410, 420, 415, 425, 435, 600, 610.0])
    y = np.array([1, 2, np.nan, 4, 5, 6, 7, 8.0])
    assert spectrum_connect(x, y).tolist() == [True, False, False, True, True, False, True, False]


def test_csv_has_the_axis_then_one_column_per_pixel(tmp_path):
    path = write_spectra_csv(
        tmp_path / "s.csv",
        np.array([450.5, 550.0]),
        "wavelength_nm",
        [("r1_c2", np.array([3.0, np.nan])), ("r4_c5", np.array([0.25, 7.0]))],
    )
    with open(path, newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["wavelength_nm", "r1_c2", "r4_c5"],
            ["450.5", "3", "0.25"],
            ["550", "", "7"],
        ]
    assert [p.name for p in tmp_path.iterdir()] == ["s.csv"]  # no temporary file left behind
    with pytest.raises(ExportError, match="no pinned spectra"):
        write_spectra_csv(tmp_path / "t.csv", np.array([1.0]), "band", [])
