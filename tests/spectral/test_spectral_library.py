"""Spectral libraries: formats read and written, units, scale, resampling against Spectral Python."""

from __future__ import annotations

import numpy as np
import pytest
from spectral import BandResampler
from spectral.io import envi

from hsiviewer import open_scene
from hsiviewer.errors import ExportError
from hsiviewer.spectral.library import (
    LibraryError,
    SpectralLibrary,
    detect_scale,
    scene_scale,
    to_nanometres,
)
from hsiviewer.spectral.library_io import read_library, write_library


@pytest.fixture
def berlin(georef_dir):
    return open_scene(georef_dir / "EnMAP_BerlinUrbanGradient.hdr")


def _berlin_library(scene) -> SpectralLibrary:
    cube = scene.to_array().astype(float)
    picks = [(5, 3), (20, 10), (40, 30), (70, 50)]
    spectra = np.array([cube[r, c] for r, c in picks]) / 10000.0
    return SpectralLibrary([f"pixel {r} {c}" for r, c in picks], spectra, scene.wavelengths, scene.fwhm, 1.0)


def test_sli_written_here_is_read_by_spectral_python(berlin, tmp_path):
    lib = _berlin_library(berlin)
    path = write_library(lib, tmp_path / "berlin.sli")
    sli = envi.open(str(tmp_path / "berlin.hdr"), str(path))
    assert sli.names == lib.names
    np.testing.assert_array_equal(sli.spectra, lib.spectra.astype(np.float32))
    np.testing.assert_allclose(sli.bands.centers, berlin.wavelengths)
    np.testing.assert_allclose(sli.bands.bandwidths, berlin.fwhm)
    back = read_library(path)
    assert back.names == lib.names and back.scale == 1.0 and not back.scale_detected
    np.testing.assert_allclose(back.spectra, lib.spectra, rtol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["berlin.hdr", "berlin.sli"]  # no temporary left


def test_csv_by_column_and_by_row_give_the_same_library(tmp_path):
    (tmp_path / "cols.csv").write_text("wavelength_um,grass,soil\n0.4,0.05,0.10\n0.5,0.08,0.12\n0.6,0.06,0.15\n")
    (tmp_path / "rows.csv").write_text("name,400,500,600\ngrass,0.05,0.08,0.06\nsoil,0.10,0.12,0.15\n")
    cols, rows = read_library(tmp_path / "cols.csv"), read_library(tmp_path / "rows.csv")
    for lib in (cols, rows):
        assert lib.names == ["grass", "soil"]
        np.testing.assert_allclose(lib.wavelengths, [400, 500, 600])
        np.testing.assert_allclose(lib.spectra, [[0.05, 0.08, 0.06], [0.10, 0.12, 0.15]])
        assert lib.scale == 1.0 and lib.scale_detected


def test_csv_round_trip_keeps_gaps(tmp_path):
    lib = SpectralLibrary(["a"], [[1000.0, np.nan, 3000.0]], [450.0, 550.0, 650.0], None, 10000.0)
    back = read_library(write_library(lib, tmp_path / "lib.csv"))
    np.testing.assert_array_equal(back.spectra, lib.spectra)
    assert back.scale == 10000.0


def test_usgs_ascii_with_wavelength_and_bandpass_files(tmp_path):
    (tmp_path / "splib07a_Wavelengths_ASD_0.35-2.5_microns_5_ch.txt").write_text(
        "splib07a Record=6: Wavelengths ASD 0.35-2.5 microns 5 ch\n0.40\n0.50\n0.60\n0.70\n0.80\n"
    )
    (tmp_path / "splib07a_Bandpass_(FWHM)_ASDFR_StandardResolution.txt").write_text(
        "splib07a Record=8: Bandpass (FWHM) ASDFR Standard Resolution\n0.01\n0.01\n0.01\n0.01\n0.01\n"
    )
    (tmp_path / "splib07a_Bandpass_(FWHM)_ASDHR_HighResolution.txt").write_text(  # same count, other instrument
        "splib07a Record=9: Bandpass (FWHM) ASDHR High Resolution\n0.002\n0.002\n0.002\n0.002\n0.002\n"
    )
    (tmp_path / "splib07a_Alunite_GDS82_Na82_ASDFRa_AREF.txt").write_text(
        "splib07a Record=6214: Alunite GDS82 Na82       ASDFRa AREF\n0.51\n-1.23e34\n0.62\n0.64\n0.60\n"
    )
    lib = read_library(tmp_path / "splib07a_Alunite_GDS82_Na82_ASDFRa_AREF.txt")
    assert lib.names == ["Alunite GDS82 Na82 ASDFRa AREF"]
    np.testing.assert_allclose(lib.wavelengths, [400, 500, 600, 700, 800])
    np.testing.assert_allclose(lib.fwhm, [10] * 5)
    assert np.isnan(lib.spectra[0, 1]) and lib.spectra[0, 0] == 0.51  # the deleted channel is a gap


def test_ecostress_text_in_percent(tmp_path):
    path = tmp_path / "vegetation.tree.acer.rubrum.vswir.acru-1-1.ucsb.asd.spectrum.txt"
    path.write_text(
        "Name: Acer rubrum\nType: Vegetation\nX Units: Wavelength (micrometers)\n"
        "Y Units: Reflectance (percent)\nNumber of X Values: 3\n\n0.6\t30.0\n0.4\t5.0\n0.5\t10.0\n"
    )
    lib = read_library(path)
    assert lib.names == ["Acer rubrum"] and lib.scale == 100.0 and not lib.scale_detected
    np.testing.assert_allclose(lib.wavelengths, [400, 500, 600])
    np.testing.assert_allclose(lib.spectra, [[5, 10, 30]])
    np.testing.assert_allclose(lib.rescaled(1.0).spectra, [[0.05, 0.10, 0.30]])


def test_resampling_matches_band_resampler(berlin, indian_pines_dir):
    import csv

    lib = _berlin_library(berlin)
    with open(indian_pines_dir / "wavelengths.csv") as handle:
        rows = list(csv.DictReader(handle))
    wl = np.array([float(r["wavelength_nm"]) for r in rows])
    fwhm = np.array([float(r["fwhm_nm"]) for r in rows])
    out = lib.resampled(wl, fwhm)
    resampler = BandResampler(berlin.wavelengths, wl, berlin.fwhm, fwhm)
    for i in range(len(lib)):
        np.testing.assert_allclose(out.spectra[i], resampler(lib.spectra[i]), rtol=1e-12, equal_nan=True)
    assert np.isnan(out.spectra[:, wl < 450]).all()  # outside the library's range: gaps


def test_resampling_keeps_bad_bands_as_gaps_and_skips_missing_values():
    lib = SpectralLibrary(["a"], [[1.0, np.nan, 3.0, 4.0]], [400.0, 410.0, 420.0, 430.0], [10.0] * 4)
    out = lib.resampled(np.array([400.0, 420.0, 430.0]), np.array([10.0] * 3), bad_bands=np.array([False, False, True]))
    assert np.isfinite(out.spectra[0, :2]).all() and np.isnan(out.spectra[0, 2])


def test_library_without_wavelengths_needs_the_scene_band_count(berlin):
    lib = SpectralLibrary(["a"], np.ones((1, 10)))
    with pytest.raises(LibraryError, match="the library has no wavelengths and 10 bands but the scene has 177"):
        lib.for_scene(berlin)
    same = SpectralLibrary(["a"], np.ones((1, 177)))
    assert same.for_scene(berlin).n_bands == 177


def test_units_and_scale_detection(berlin, demo_scene):
    np.testing.assert_allclose(to_nanometres([0.4, 2.5]), [400, 2500])
    np.testing.assert_allclose(to_nanometres([400, 2500], "Nanometers"), [400, 2500])
    assert detect_scale(np.array([0.02, 0.6])) == 1.0
    assert detect_scale(np.array([200.0, 6000.0])) == 10000.0
    assert scene_scale(berlin) == 10000.0


def test_bad_files_are_refused_with_their_name(tmp_path):
    with pytest.raises(LibraryError, match="no such file"):
        read_library(tmp_path / "missing.sli")
    (tmp_path / "bad.csv").write_text("name,colour\ngrass,green\n")
    with pytest.raises(LibraryError, match="bad.csv"):
        read_library(tmp_path / "bad.csv")
    with pytest.raises(ExportError, match=r"\.sli \(ENVI\) or \.csv"):
        write_library(SpectralLibrary(["a"], [[1.0]], [500.0]), tmp_path / "lib.txt")
