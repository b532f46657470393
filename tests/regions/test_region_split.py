"""The region split: whole regions, guard band, untested single-region classes; training from regions."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import synthetic_scene, tiny_registry
from scipy.ndimage import label as components
from shapely.geometry import box

from hsiviewer.engine.training import TrainConfig, train_model
from hsiviewer.errors import TrainingError
from hsiviewer.processing.splits import leakage, region_split
from hsiviewer.regions.model import RegionSet


def _component_regions(labels):
    rid = np.zeros(labels.shape, np.int32)
    n = 0
    for c in np.unique(labels[labels > 0]):
        comp, k = components(labels == c)
        rid[comp > 0] = comp[comp > 0] + n
        n += k
    return rid


def _blobs(seed=0, shape=(60, 60), n=40):
    """Random non-overlapping squares of 3 classes (two of them with many regions, one with a single one)."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(shape, np.int64)
    for k in range(n):
        r, c, s = rng.integers(0, shape[0] - 6), rng.integers(0, shape[1] - 6), rng.integers(2, 6)
        if not labels[r : r + s, c : c + s].any():
            labels[r : r + s, c : c + s] = 1 + k % 2
    labels[labels.shape[0] - 3 :, :3] = 3  # class 3: one region
    return labels


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("patch", [1, 5, 9])
def test_no_region_on_both_sides_and_no_test_pixel_in_the_guard_band(seed, patch):
    labels = _blobs(seed)
    rid = _component_regions(labels)
    split = region_split(labels, rid, fraction=0.4, patch_size=patch, seed=seed)
    flat = rid.ravel()
    assert not set(flat[split.train]) & set(flat[split.test])
    assert leakage(split, labels.shape, patch) == 0
    # by hand: every test pixel is more than r (Chebyshev) from every training pixel
    r = patch // 2
    train_rc = np.argwhere(split.role_map(labels.shape) == 1)
    for t in np.argwhere(split.role_map(labels.shape) == 2):
        assert np.abs(train_rc - t).max(axis=1).min() > r
    # whole regions: every pixel of a training region trains, the rest of a test region is test or dropped
    for region in np.unique(flat[split.train]):
        assert np.isin(np.flatnonzero(flat == region), split.train).all()
    dropped = np.count_nonzero((flat > 0) & ~np.isin(np.arange(flat.size), np.r_[split.train, split.test]))
    assert dropped == split.params["guard_dropped"]
    assert split.params["untested_classes"] == [3]
    per = split.params["per_class"]
    assert per["3"]["test_regions"] == 0 and per["3"]["train_regions"] == 1
    for c in ("1", "2"):
        assert per[c]["train_regions"] >= 1 and per[c]["train_pixels"] == np.count_nonzero(
            labels.ravel()[split.train] == int(c)
        )


def test_same_seed_same_split_other_seed_other_split():
    labels = _blobs(5)
    rid = _component_regions(labels)
    a, b = region_split(labels, rid, 0.4, 5, seed=1), region_split(labels, rid, 0.4, 5, seed=1)
    c = region_split(labels, rid, 0.4, 5, seed=2)
    assert np.array_equal(a.train, b.train) and np.array_equal(a.test, b.test)
    assert not np.array_equal(a.train, c.train)


def test_train_model_on_drawn_regions_with_the_region_split():
    scene = synthetic_scene(shape=(24, 30), bands=12, n_classes=3)  # class = vertical stripe of 10 columns
    scene.labels = None  # a scene without ground truth: the regions are all there is
    regions = RegionSet()
    for name in ("left", "middle", "right"):
        regions.add_class(name)
    for cls in range(3):
        x0 = cls * 10
        regions.add_region(box(x0 + 1, 1, x0 + 9, 6), cls + 1)  # top
        regions.add_region(box(x0 + 1, 16, x0 + 9, 23), cls + 1)  # bottom, far enough for the guard band
    config = TrainConfig(model="tiny_forest", split="regions", train_fraction=0.5, seed=0, hyper={"patch_size": 3})
    model = train_model(scene, config, registry=tiny_registry(), regions=regions)
    info = model.metrics["regions"]
    assert model.metrics["leakage"] == 0
    assert model.split.method == "regions"
    for cid in ("1", "2", "3"):
        assert info["per_class"][cid]["train_regions"] == 1 and info["per_class"][cid]["test_regions"] == 1
    assert model.metrics["oa"] > 0.9
    assert model.classes.name(2) == "middle"
    with pytest.raises(TrainingError, match="needs training regions"):
        train_model(synthetic_scene(), config, registry=tiny_registry())
