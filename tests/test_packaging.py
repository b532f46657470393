"""Packaging: every package is listed for the wheel, and the shipped plugins and demo are found."""

from pathlib import Path

import pytest

import hsiviewer
from hsiviewer.data.resources import demo_scene_path, shipped_plugins_dir

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_under_hsiviewer_is_listed_in_pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "hsiviewer").rglob("__init__.py")}
    assert found <= listed
    assert {"hsiviewer_plugins", "hsiviewer_resources"} <= listed


def test_shipped_plugins_and_demo_scene_are_found():
    assert (shipped_plugins_dir() / "hybridsn.py").exists()
    assert demo_scene_path().exists() and demo_scene_path().with_suffix(".json").exists()
    assert Path(hsiviewer.__file__).parent.name == "hsiviewer"
