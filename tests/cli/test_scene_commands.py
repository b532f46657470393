"""The scene commands of the CLI: ``info``, ``export-map`` and ``gui``, run as a user would."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import rasterio

from hsiviewer.cli import main
from hsiviewer.cli.scene_commands import compact_ranges

BERLIN_TIF = "EnMAP_BerlinUrbanGradient.tif"


def needs_label_reader():
    pytest.importorskip("hsiviewer.io.labels", reason="the label reader is not there yet")


def test_info_on_the_demo_scene(capsys, demo_scene):
    assert main(["info", str(demo_scene.path)]) == 0
    out = capsys.readouterr().out
    assert "145 x 145 x 200" in out
    assert re.search(r"^dtype\s+uint16$", out, re.M)
    assert "400.0-2489.1 nm" in out
    assert re.search(r"^crs\s+none$", out, re.M) and re.search(r"^transform\s+none$", out, re.M)
    assert "16 (10249 labelled pixels)" in out
    assert re.search(r"^\s+2\s+Corn-notill\s+1428$", out, re.M)
    assert re.search(r"^\s+16\s+Stone-Steel-Towers\s+93$", out, re.M)


def test_info_json_on_the_demo_scene(capsys, demo_scene):
    assert main(["info", str(demo_scene.path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["shape"] == [145, 145, 200] and info["dtype"] == "uint16"
    assert info["wavelength_range_nm"] == pytest.approx([400.02, 2489.1], abs=0.05)
    assert info["crs"] is None and info["transform"] is None
    assert len(info["classes"]) == 16
    assert {"id": 2, "name": "Corn-notill", "count": 1428} in info["classes"]


def test_info_on_the_georeferenced_berlin_scene(capsys, georef_dir):
    assert main(["info", str(georef_dir / BERLIN_TIF)]) == 0
    out = capsys.readouterr().out
    assert "80 x 60 x 177" in out and "int16" in out
    assert re.search(r"^crs\s+EPSG:32633$", out, re.M)
    assert re.search(r"^transform\s+30, 0, 383472.37, 0, -30, 5818302.35$", out, re.M)
    assert re.search(r"^nodata\s+-99$", out, re.M)
    assert "classes" not in out


def test_info_lists_bad_bands_as_ranges(capsys, tmp_path):
    cube = np.arange(4 * 5 * 10, dtype=np.float32).reshape(4, 5, 10)
    np.save(tmp_path / "cube.npy", cube)
    bad = [False, True, True, True, False, False, True, False, True, True]
    (tmp_path / "cube.json").write_text(json.dumps({"bad_bands": bad, "nodata": -1}))
    assert main(["info", str(tmp_path / "cube.npy")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^bad bands\s+6 \(2-4, 7, 9-10\)$", out, re.M)
    assert re.search(r"^wavelengths\s+unknown$", out, re.M)
    assert re.search(r"^nodata\s+-1$", out, re.M)


def test_compact_ranges():
    assert compact_ranges([]) == ""
    assert compact_ranges([5]) == "5"
    assert compact_ranges([10, 9, 1, 2, 3, 7]) == "1-3, 7, 9-10"


def test_missing_file_is_one_line_and_exit_code_2(capsys, tmp_path):
    missing = tmp_path / "missing.tif"
    assert main(["info", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == f"hsiviewer: error: {missing}: no such file\n"


def test_missing_file_from_a_shell(tmp_path):
    missing = tmp_path / "missing.hdr"
    proc = subprocess.run(
        [sys.executable, "-m", "hsiviewer", "info", str(missing)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"hsiviewer: error: {missing}: no such file"


def berlin_labels(tmp_path: Path) -> tuple[Path, np.ndarray]:
    labels = np.zeros((80, 60), np.uint8)
    labels[10:30, 5:25] = 1
    labels[40:70, 30:55] = 2
    labels[75:, :] = 3
    path = tmp_path / "berlin_labels.npy"
    np.save(path, labels)
    return path, labels


def test_export_map_round_trip_on_berlin(capsys, tmp_path, georef_dir):
    needs_label_reader()
    labels_path, labels = berlin_labels(tmp_path)
    out = tmp_path / "berlin_map.tif"
    code = main(["export-map", str(labels_path), "--like", str(georef_dir / BERLIN_TIF), "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"wrote {out} (3 classes, 80 x 60, EPSG:32633)" in printed
    with rasterio.open(out) as src, rasterio.open(georef_dir / BERLIN_TIF) as scene:
        np.testing.assert_array_equal(src.read(1), labels)
        assert src.crs == scene.crs and src.transform == scene.transform
        assert src.nodata == 0 and src.colormap(1)[1][3] == 255
    assert (out.parent / "berlin_map.qml").exists() and (out.parent / "berlin_map.tif.aux.xml").exists()


def test_export_map_refuses_a_size_mismatch(capsys, tmp_path, georef_dir):
    needs_label_reader()
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.ones((60, 80), np.uint8))
    out = tmp_path / "map.tif"
    code = main(["export-map", str(wrong), "--like", str(georef_dir / BERLIN_TIF), "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hsiviewer: error: {wrong}: labels are 60 x 80 but the scene") and "80 x 60" in err
    assert not out.exists()


def test_gui_with_a_missing_scene_fails_before_starting_qt(capsys, tmp_path):
    assert main(["gui", str(tmp_path / "nothing.hdr")]) == 2
    assert "nothing.hdr: no such file" in capsys.readouterr().err


def test_gui_passes_the_demo_scene_and_options_to_the_app(monkeypatch, tmp_path):
    # Only the wiring is checked here; the viewer itself is tested with pytest-qt in tests/gui.
    calls = []
    fake = types.ModuleType("hsiviewer.gui.app")
    fake.run_app = lambda scene, labels, screenshot: calls.append((scene, labels, screenshot)) or 0
    monkeypatch.setitem(sys.modules, "hsiviewer.gui.app", fake)
    from hsiviewer import demo_scene_path

    assert main(["gui", "--screenshot", str(tmp_path / "shot.png")]) == 0
    assert main([]) == 0  # no command at all: the viewer on the demo scene
    assert calls == [(str(demo_scene_path()), None, str(tmp_path / "shot.png")), (str(demo_scene_path()), None, None)]
