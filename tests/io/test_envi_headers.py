"""ENVI headers as instruments and editors write them: units, encodings, repeated keys."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _synth_files import write_envi

from hsiviewer import open_scene
from hsiviewer.cli import main
from hsiviewer.errors import SceneReadError

CUBE = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4)


def _info(capsys, header) -> dict:
    assert main(["info", str(header), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "units, values, expected_nm",
    [
        ("Nanometers", "450, 550, 650, 750", [450, 550, 650, 750]),
        ("nm", "450, 550, 650, 750", [450, 550, 650, 750]),
        ("Micrometers", "0.45, 0.55, 0.65, 0.75", [450, 550, 650, 750]),
        ("um", "0.45, 0.55, 0.65, 0.75", [450, 550, 650, 750]),
        ("µm", "0.45, 0.55, 0.65, 0.75", [450, 550, 650, 750]),
        ("Millimeters", "0.00045, 0.00055, 0.00065, 0.00075", [450, 550, 650, 750]),
        ("Centimeters", "0.000045, 0.000055, 0.000065, 0.000075", [450, 550, 650, 750]),
        ("Meters", "4.5e-7, 5.5e-7, 6.5e-7, 7.5e-7", [450, 550, 650, 750]),
        # cm-1, in band order: the axis decreases in nm, the bands keep their order
        ("Wavenumber", "10000, 8000, 5000, 4000", [1000, 1250, 2000, 2500]),
        ("cm-1", "4000, 5000, 8000, 10000", [2500, 2000, 1250, 1000]),
    ],
)
def test_wavelength_units_give_the_right_axis(tmp_path, capsys, units, values, expected_nm):
    header, _ = write_envi(tmp_path, CUBE, extra=f"wavelength units = {units}\nwavelength = {{{values}}}\n")
    scene = open_scene(header)
    np.testing.assert_allclose(scene.wavelengths, expected_nm, rtol=1e-9)
    info = _info(capsys, header)
    assert info["wavelength_range_nm"] == pytest.approx([min(expected_nm), max(expected_nm)])
    assert info["warnings"] == []


@pytest.mark.parametrize("units", ["GHz", "MHz", "Index", "Unknown", "parsecs"])
def test_units_that_are_not_lengths_keep_band_numbers_with_a_warning(tmp_path, capsys, units):
    header, _ = write_envi(tmp_path, CUBE, extra=f"wavelength units = {units}\nwavelength = {{1, 2, 3, 4}}\n")
    assert open_scene(header).wavelengths is None
    info = _info(capsys, header)
    assert info["wavelength_range_nm"] is None
    assert len(info["warnings"]) == 1 and f"'{units}'" in info["warnings"][0]
    assert "shown by number" in info["warnings"][0]
    assert main(["info", str(header)]) == 0
    text = capsys.readouterr().out
    assert "wavelengths unknown" in " ".join(text.split()) and "warning" in text and units in text


def test_wavenumber_widths_are_converted_about_their_centres(tmp_path):
    header, _ = write_envi(
        tmp_path,
        CUBE,
        extra="wavelength units = Wavenumber\nwavelength = {10000, 8000, 5000, 4000}\nfwhm = {10, 10, 10, 10}\n",
    )
    np.testing.assert_allclose(open_scene(header).fwhm, [1.0, 1.5625, 4.0, 6.25])


def test_bom_and_latin1_headers_are_read_and_latin1_is_said(tmp_path, capsys):
    header, _ = write_envi(tmp_path, CUBE, extra="wavelength units = Nanometers\nwavelength = {1,2,3,4}\n")
    text = header.read_text(encoding="utf-8")
    header.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert open_scene(header).shape == (2, 3, 4)
    assert _info(capsys, header)["warnings"] == []
    header.write_bytes(text.replace("TestSensor", "Sensor µ-3").encode("latin-1"))
    scene = open_scene(header)
    assert scene.shape == (2, 3, 4) and scene.metadata["sensor type"] == "Sensor µ-3"
    warnings = _info(capsys, header)["warnings"]
    assert len(warnings) == 1 and "Latin-1" in warnings[0]


def test_repeated_keys_warn_or_refuse(tmp_path, capsys):
    header, _ = write_envi(tmp_path, CUBE, extra="description = {second}\n")
    scene = open_scene(header)
    assert scene.metadata["description"] == "second"
    warnings = _info(capsys, header)["warnings"]
    assert any("'description' is given 2 times" in w for w in warnings)
    header, _ = write_envi(tmp_path, CUBE, extra="lines = 1\n")  # would silently halve the image
    with pytest.raises(SceneReadError, match="gives 'lines' 2 times with different values"):
        open_scene(header)
    assert main(["info", str(header)]) == 2
    err = capsys.readouterr().err
    assert "'lines'" in err and "Traceback" not in err
    header, _ = write_envi(tmp_path, CUBE, extra="bands = 4\n")  # the same value twice: harmless
    assert open_scene(header).shape == (2, 3, 4)


def test_info_json_is_strict_json_even_with_nan_values(tmp_path, capsys):
    header, _ = write_envi(tmp_path, CUBE, extra="wavelength = {nan, 500, 600, 700}\ndata ignore value = nan\n")
    info = _info(capsys, header)
    json.dumps(info, allow_nan=False)
    assert info["wavelength_range_nm"] == [500, 700]
