"""Splits: stratification, counts per class, seeds, validation, spatially disjoint blocks, leakage."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hsiviewer.processing.splits import Split, disjoint_split, leakage, random_split


@pytest.fixture
def pines_labels(indian_pines_dir):
    with np.load(indian_pines_dir / "indian_pines.npz") as f:
        return f["labels"].astype(np.int64)


def _counts(labels, pixels):
    return np.bincount(labels.ravel()[pixels], minlength=labels.max() + 1)


def _check_partition(labels, split):
    labelled = np.flatnonzero(labels.ravel() > 0)
    parts = [split.train, split.val, split.test]
    assert sum(len(p) for p in parts) == len(np.unique(np.concatenate(parts)))  # no overlap
    assert np.isin(np.concatenate(parts), labelled).all()


def test_random_split_is_stratified(pines_labels):
    split = random_split(pines_labels, fraction=0.1, seed=0)
    _check_partition(pines_labels, split)
    assert len(split.train) + len(split.test) == np.count_nonzero(pines_labels)
    total, train, test = (
        _counts(pines_labels, np.flatnonzero(pines_labels.ravel() > 0)),
        _counts(pines_labels, split.train),
        _counts(pines_labels, split.test),
    )
    for c in range(1, 17):
        assert abs(train[c] - 0.1 * total[c]) <= 1.5, c  # e.g. 143 of the 1428 corn-notill pixels
        assert train[c] >= 1 and test[c] >= 1
    assert abs(len(split.train) - 0.1 * total.sum()) <= 2


def test_per_class_counts_and_minimum(pines_labels):
    split = random_split(pines_labels, per_class=50, seed=1)
    _check_partition(pines_labels, split)
    total, train = _counts(pines_labels, np.flatnonzero(pines_labels.ravel() > 0)), _counts(pines_labels, split.train)
    for c in range(1, 17):
        # class 9 (oats) has 20 pixels: 19 train, one left to test
        assert train[c] == min(50, total[c] - 1), (c, total[c], train[c])
    small = random_split(pines_labels, fraction=0.01, min_per_class=5, seed=0)
    assert _counts(pines_labels, small.train)[1:].min() >= 5


def test_tiny_classes_keep_a_test_pixel_and_single_pixels_train():
    labels = np.zeros((10, 10), int)
    labels[:5] = 1
    labels[5:9] = 2
    labels[9, :2] = 3  # two pixels
    labels[9, 5] = 4  # one pixel
    for split in (random_split(labels, fraction=0.9, seed=0), random_split(labels, per_class=10, seed=0)):
        train, test = _counts(labels, split.train), _counts(labels, split.test)
        assert train[3] == 1 and test[3] == 1
        assert train[4] == 1 and test[4] == 0
        assert test[1] >= 1 and test[2] >= 1


def test_fraction_too_small_for_sklearn_still_gives_every_class_a_pixel():
    labels = np.repeat(np.arange(1, 4), 4).reshape(3, 4)
    split = random_split(labels, fraction=0.1, seed=0)  # 1 training pixel in all: sklearn refuses
    assert _counts(labels, split.train)[1:].tolist() == [1, 1, 1]
    assert _counts(labels, split.test)[1:].tolist() == [3, 3, 3]


def test_same_seed_same_split_other_seed_other_split(pines_labels):
    a, b = random_split(pines_labels, 0.1, seed=7), random_split(pines_labels, 0.1, seed=7)
    assert np.array_equal(a.train, b.train) and np.array_equal(a.test, b.test)
    c = random_split(pines_labels, 0.1, seed=8)
    assert not np.array_equal(a.train, c.train)
    d1, d2 = (
        disjoint_split(pines_labels, 0.1, patch_size=9, seed=3),
        disjoint_split(pines_labels, 0.1, patch_size=9, seed=3),
    )
    assert np.array_equal(d1.train, d2.train) and np.array_equal(d1.test, d2.test)
    assert not np.array_equal(d1.train, disjoint_split(pines_labels, 0.1, patch_size=9, seed=4).train)


def test_validation_is_stratified_from_training(pines_labels):
    plain = random_split(pines_labels, 0.2, seed=2)
    split = random_split(pines_labels, 0.2, val_fraction=0.25, seed=2)
    _check_partition(pines_labels, split)
    assert np.array_equal(np.sort(np.concatenate([split.train, split.val])), plain.train)
    assert np.array_equal(split.test, plain.test)
    val, train = _counts(pines_labels, split.val), _counts(pines_labels, plain.train)
    for c in range(1, 17):
        assert abs(val[c] - 0.25 * train[c]) <= 1 and train[c] - val[c] >= 1


def test_disjoint_split_has_no_leakage_random_split_a_lot(pines_labels):
    shape = pines_labels.shape
    random = random_split(pines_labels, 0.1, seed=0)
    random_leak = leakage(random, shape, 25)
    print(
        f"\nIndian Pines, 10% random split, 25x25 patches: {random_leak} of {len(random.test)} test pixels "
        f"({random_leak / len(random.test):.1%}) lie inside a training patch"
    )
    assert random_leak > 0.9 * len(random.test)
    for size in (25, 9, 5):
        split = disjoint_split(pines_labels, 0.1, patch_size=size, seed=0)
        _check_partition(pines_labels, split)
        assert leakage(split, shape, size) == 0
        assert len(split.test) > 1000 and len(np.unique(pines_labels.ravel()[split.train])) >= 10
    small = disjoint_split(pines_labels, 0.1, patch_size=9, seed=0)
    train_share = len(small.train) / np.count_nonzero(pines_labels)
    print(f"disjoint split, patch 9: {len(small.train)} train ({train_share:.1%}), {len(small.test)} test pixels")
    assert train_share < 0.3
    # without the guard band, test pixels next to training blocks do fall inside training patches
    assert leakage(disjoint_split(pines_labels, 0.1, patch_size=9, gap=0, seed=0), shape, 9) > 0


def test_leakage_matches_brute_force(rng):
    labels = rng.integers(0, 4, (30, 25))
    split = random_split(labels, 0.05, seed=1)
    r = 3
    train_rc = np.column_stack(np.divmod(split.train, 25))
    test_rc = np.column_stack(np.divmod(split.test, 25))
    cheb = np.abs(test_rc[:, None, :] - train_rc[None, :, :]).max(axis=2).min(axis=1)
    assert leakage(split, labels.shape, 2 * r + 1) == int(np.count_nonzero(cheb <= r))


def test_split_dict_round_trip(pines_labels):
    split = disjoint_split(pines_labels, 0.1, patch_size=9, val_fraction=0.1, seed=5)
    data = json.loads(json.dumps(split.to_dict()))
    back = Split.from_dict(data)
    for name in ("train", "val", "test"):
        assert np.array_equal(getattr(back, name), getattr(split, name))
    assert (back.method, back.seed, back.params) == ("disjoint", 5, split.params)


def test_bad_fraction_is_refused():
    with pytest.raises(ValueError, match="fraction"):
        random_split(np.ones((4, 4), int), fraction=1.5)
