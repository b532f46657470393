"""Commands that only read and write rasters do not import the learning stack (torch, scikit-learn).

Each command runs as ``python -m hsiviewer ...`` in a fresh process that reports, at exit, which heavy
packages it imported: in this process earlier tests have imported them already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hsiviewer import demo_scene_path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "sklearn", "PySide6")

# Runs the CLI as `python -m hsiviewer` does, then prints the heavy packages it imported (even on an error exit).
WRAPPER = f"""
import atexit, json, runpy, sys
atexit.register(lambda: print("IMPORTED " + json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)),
                              file=sys.stderr))
sys.argv = ["hsiviewer", *sys.argv[1:]]
runpy.run_module("hsiviewer", run_name="__main__")
"""


def imported_by(*args: str) -> tuple[int, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = [x for x in result.stderr.splitlines() if x.startswith("IMPORTED ")][-1]
    return result.returncode, json.loads(line[len("IMPORTED ") :])


@pytest.mark.parametrize("command", ["info", "info-json", "export-map", "help", "bad-input"])
def test_raster_commands_import_neither_torch_nor_sklearn(command, tmp_path):
    demo = str(demo_scene_path())
    args = {
        "info": ["info", demo],
        "info-json": ["info", demo, "--json"],
        "export-map": ["export-map", demo, "--like", demo, "--out", str(tmp_path / "map.tif")],
        "help": ["--help"],
        "bad-input": ["info", str(tmp_path / "missing.hdr")],
    }[command]
    code, heavy = imported_by(*args)
    assert code == {"bad-input": 2}.get(command, 0)
    assert heavy == []
    if command == "export-map":
        assert (tmp_path / "map.tif").exists()


def test_evaluate_of_two_maps_needs_scikit_learn_but_not_torch():
    demo = str(demo_scene_path())
    code, heavy = imported_by("evaluate", demo, "--labels", demo)
    assert code == 0 and heavy == ["sklearn"]


def test_import_hsiviewer_is_light():
    code = (
        "import sys, hsiviewer; print(sorted(m for m in ('torch', 'sklearn', 'scipy', 'rasterio', 'PySide6', "
        "'h5py') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0 and out.stdout.strip() == "[]"


def test_gui_screenshot_imports_qt_but_not_the_learning_stack(tmp_path):
    pytest.importorskip("PySide6")
    code, heavy = imported_by("gui", "--screenshot", str(tmp_path / "shot.png"))
    assert code == 0 and heavy == ["PySide6"]
    assert (tmp_path / "shot.png").stat().st_size > 10_000
