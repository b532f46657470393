"""Tiny architectures and scenes for the engine tests (data, training, model files)."""

from __future__ import annotations

import numpy as np
from torch import nn

from hsiviewer.io.numpy_io import scene_from_array
from hsiviewer.models.plugins import InputKind, ModelSpec, Registry


class TinyCube(nn.Module):
    """Conv3d over (N, 1, C, S, S), pooled, then a linear layer."""

    def __init__(self, in_bands: int, n_classes: int, width: int = 4) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv3d(1, width, (3, 3, 3), padding=1), nn.BatchNorm3d(width), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(width * in_bands, n_classes))

    def forward(self, x):
        return self.head(self.conv(x).mean(dim=(3, 4)).flatten(1))


class TinyPatch(nn.Module):
    """Conv2d over (N, C, S, S), global average pooling and a linear layer."""

    def __init__(self, in_bands: int, n_classes: int, width: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_bands, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(),
        )
        self.head = nn.Linear(width, n_classes)

    def forward(self, x):
        return self.head(self.body(x).mean(dim=(2, 3)))


def _cube(in_bands, n_classes, patch_size, width):
    return TinyCube(in_bands, n_classes, width)


def _patch(in_bands, n_classes, patch_size, width):
    return TinyPatch(in_bands, n_classes, width)


def _forest(in_bands, n_classes, patch_size, n_estimators, random_state):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=n_estimators, random_state=random_state, n_jobs=1)


def tiny_registry() -> Registry:
    """A registry with ``tiny_cube`` (CUBE), ``tiny_patch`` (PATCH) and ``tiny_forest`` (sklearn)."""
    registry = Registry()
    registry.add(
        ModelSpec(
            "tiny_cube",
            "tiny Conv3d",
            InputKind.CUBE,
            {"patch_size": 5, "pca_components": 6, "width": 4},
            _cube,
            version="1.0",
            source="tests",
        )
    )
    registry.add(
        ModelSpec(
            "tiny_patch",
            "tiny Conv2d",
            InputKind.PATCH,
            {"patch_size": 7, "pca_components": 10, "width": 16},
            _patch,
            version="1.0",
            source="tests",
        )
    )
    registry.add(
        ModelSpec(
            "tiny_forest",
            "random forest",
            InputKind.SPECTRUM,
            {"patch_size": 1, "pca_components": None, "n_estimators": 20, "random_state": None},
            _forest,
            version="1.0",
            source="tests",
            framework="sklearn",
        )
    )
    return registry


def indian_pines_crop(indian_pines_dir, rows=slice(0, 40), cols=slice(0, 40)):
    """A crop of Indian Pines (with its labels) as a Scene."""
    with np.load(indian_pines_dir / "indian_pines.npz") as f:
        cube = f["data"][rows, cols]
        labels = f["labels"][rows, cols].astype(np.uint8)
    return scene_from_array(None, np.ascontiguousarray(cube), labels, {})


def synthetic_scene(shape=(24, 30), bands=12, n_classes=3, seed=0):
    """Class = which vertical stripe; spectra differ by class plus noise. Learnable in a few steps."""
    rng = np.random.default_rng(seed)
    rows, cols = shape
    labels = np.zeros(shape, np.uint8)
    for c in range(n_classes):
        labels[:, c * cols // n_classes : (c + 1) * cols // n_classes] = c + 1
    labels[:2] = 0  # some unlabelled pixels
    signatures = rng.uniform(100, 1000, (n_classes + 1, bands))
    cube = signatures[labels] + rng.normal(0, 20, (rows, cols, bands))
    return scene_from_array(None, cube.astype(np.uint16), labels, {"wavelengths": list(range(400, 400 + bands))})


def batch_events(events):
    """The progress events of stage "batch"."""
    return [e for e in events if e.stage == "batch"]
