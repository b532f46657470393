"""Shared fixtures: the real data beside the checkout, and tiny synthetic scenes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
INDIAN_PINES = SHARED_DATA / "indian_pines"
GEOREF = SHARED_DATA / "georef"


@pytest.fixture
def indian_pines_dir() -> Path:
    """``../shared/data/indian_pines`` (the test is skipped when it is absent)."""
    if not (INDIAN_PINES / "indian_pines.npz").exists():
        pytest.skip("../shared/data/indian_pines is not present")
    return INDIAN_PINES


@pytest.fixture
def georef_dir() -> Path:
    """``../shared/data/georef`` (the test is skipped when it is absent)."""
    if not (GEOREF / "EnMAP_BerlinUrbanGradient.hdr").exists():
        pytest.skip("../shared/data/georef is not present")
    return GEOREF


@pytest.fixture
def demo_scene():
    """The bundled demo scene (always present: it ships in resources/)."""
    from hsiviewer import demo_scene_path, open_scene

    return open_scene(demo_scene_path())


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module of tiny tensors: on 2 shared cores OpenMP threads only contend."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
