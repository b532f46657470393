"""Train / validation / test splits of the labelled pixels of a scene, and their leakage.

Pixels are named by flat index ``row * cols + col``. Three kinds of split:

* :func:`random_split` — stratified random pixels (the usual protocol; test pixels then lie inside
  training patches, which inflates accuracy);
* :func:`disjoint_split` — whole square blocks go to training, and every test pixel closer than
  ``gap`` (Chebyshev distance) to a training pixel is dropped, so no test pixel lies inside a
  training patch when ``gap >= patch_size // 2``;
* :func:`region_split` — whole user-drawn regions go to training or test, with the same guard band.

:func:`leakage` counts the test pixels that fall inside some training patch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

# scipy.ndimage and scikit-learn are imported where a split is made, not with the module: the viewer
# imports this module for Split and its display helpers and must start without them (start-up time).


@dataclass
class Split:
    """A split of labelled pixels.

    Attributes
    ----------
    train, test, val : int64 arrays
        Flat pixel indices ``row * cols + col`` (sorted).
    method : str
        ``"random"``, ``"disjoint"`` or ``"regions"``.
    seed : int
    params : dict
        The arguments the split was made with.
    """

    train: np.ndarray
    test: np.ndarray
    val: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    method: str = "random"
    seed: int = 0
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.train = np.sort(np.asarray(self.train, np.int64))
        self.test = np.sort(np.asarray(self.test, np.int64))
        self.val = np.sort(np.asarray(self.val, np.int64))

    def to_dict(self) -> dict:
        """Plain lists and values (JSON- and ``torch.load(weights_only=True)``-safe)."""
        return {
            "train": self.train.tolist(),
            "test": self.test.tolist(),
            "val": self.val.tolist(),
            "method": self.method,
            "seed": int(self.seed),
            "params": dict(self.params),
        }

    def test_mask(self, shape: tuple[int, int]) -> np.ndarray:
        """(rows, cols) bool: True on the test pixels (the pixels a model trained on this split never saw).

        Raises
        ------
        ValueError
            When a test pixel lies outside a scene of ``shape`` (the split belongs to another scene).
        """
        size = int(shape[0]) * int(shape[1])
        if len(self.test) and int(self.test.max()) >= size:
            raise ValueError(f"the split's test pixels do not fit a {shape[0]} x {shape[1]} scene")
        mask = np.zeros(size, bool)
        mask[self.test] = True
        return mask.reshape(shape)

    def role_map(self, shape: tuple[int, int]) -> np.ndarray:
        """(rows, cols) uint8: 1 on training pixels, 2 on test pixels, 3 on validation pixels, else 0."""
        out = np.zeros(int(shape[0]) * int(shape[1]), np.uint8)
        out[self.train] = 1
        out[self.test] = 2
        out[self.val] = 3
        return out.reshape(shape)

    def fits(self, labels: np.ndarray) -> bool:
        """True when the test pixels can be pixels of this label map (all inside it, all labelled)."""
        flat = np.asarray(labels).ravel()
        if len(self.test) == 0 or int(self.test.max()) >= flat.size:
            return False
        return bool(np.all(flat[self.test] > 0))

    @classmethod
    def from_dict(cls, data: dict) -> Split:
        """Inverse of :meth:`to_dict`."""
        return cls(
            train=np.asarray(data["train"], np.int64),
            test=np.asarray(data["test"], np.int64),
            val=np.asarray(data.get("val", []), np.int64),
            method=str(data.get("method", "random")),
            seed=int(data.get("seed", 0)),
            params=dict(data.get("params", {})),
        )


def random_split(
    labels: np.ndarray,
    fraction: float = 0.1,
    per_class: Optional[int] = None,
    min_per_class: int = 1,
    val_fraction: float = 0.0,
    seed: int = 0,
) -> Split:
    """Stratified random split of the labelled pixels (label > 0).

    Parameters
    ----------
    labels : int array (rows, cols)
        0 = unlabelled.
    fraction : float
        Share of each class for training (scikit-learn ``train_test_split(stratify=...)``);
        ignored when ``per_class`` is given.
    per_class : int, optional
        Training pixels per class instead of a fraction.
    min_per_class : int
        At least this many training pixels per class. Either way a class keeps at least one
        test pixel when it has two pixels or more; a class of one pixel goes to training.
    val_fraction : float
        Share of the training pixels moved to validation (stratified).
    seed : int

    Returns
    -------
    Split
    """
    _check_fraction(fraction, "fraction")
    flat = np.asarray(labels).ravel()
    idx = np.flatnonzero(flat > 0)
    y = flat[idx]
    rng = np.random.default_rng(seed)
    if per_class is not None:
        counts = {c: int(per_class) for c in np.unique(y)}
        train = _take_per_class(idx, y, counts, min_per_class, rng)
    else:
        train = _stratified_fraction(idx, y, fraction, min_per_class, seed, rng)
    test = np.setdiff1d(idx, train)
    train, val = _carve_validation(train, flat, val_fraction, seed)
    params = {
        "fraction": float(fraction),
        "per_class": per_class,
        "min_per_class": int(min_per_class),
        "val_fraction": float(val_fraction),
    }
    return Split(train, test, val, "random", int(seed), params)


def disjoint_split(
    labels: np.ndarray,
    fraction: float = 0.1,
    block: Optional[int] = None,
    gap: Optional[int] = None,
    patch_size: int = 25,
    val_fraction: float = 0.0,
    seed: int = 0,
) -> Split:
    """Spatially disjoint split: whole blocks for training, a guard band around them.

    The image is cut into ``block`` x ``block`` squares. Classes are visited from the rarest; for each,
    blocks holding it are added to training in a seeded random order (preferring blocks that do not
    overshoot the class's target or swallow its last pixels) until the class has about ``fraction`` of
    its pixels in training. Every labelled pixel of a training block trains; a labelled pixel outside
    them is tested only if its Chebyshev distance to every training pixel exceeds ``gap``.

    Parameters
    ----------
    labels : int array (rows, cols)
    fraction : float
        Target share of each class's pixels in training.
    block : int, optional
        Block side in pixels; default ``patch_size`` (but at least 4 blocks across the shorter side).
        Larger blocks lose fewer test pixels to the guard band but overshoot the per-class targets
        more: on Indian Pines with patch 25, blocks of 50 put 65% of the pixels in training.
    gap : int, optional
        Guard distance; default ``patch_size // 2``, the smallest that gives zero leakage.
    patch_size : int
    val_fraction : float
        Share of the training pixels moved to validation (stratified).
    seed : int

    Returns
    -------
    Split
    """
    _check_fraction(fraction, "fraction")
    labels = np.asarray(labels)
    n_rows, n_cols = labels.shape
    radius = int(patch_size) // 2
    block = int(block) if block else max(4, min(int(patch_size), min(n_rows, n_cols) // 4))
    gap = radius if gap is None else int(gap)
    block_id = (np.arange(n_rows)[:, None] // block) * (-(-n_cols // block)) + np.arange(n_cols)[None, :] // block
    chosen = _choose_blocks(labels, block_id.ravel(), fraction, np.random.default_rng(seed))
    flat = labels.ravel()
    in_train_block = np.isin(block_id.ravel(), chosen)
    train_mask = in_train_block & (flat > 0)
    near = _dilate(train_mask.reshape(labels.shape), gap).ravel()
    test = np.flatnonzero((flat > 0) & ~in_train_block & ~near)
    train, val = _carve_validation(np.flatnonzero(train_mask), flat, val_fraction, seed)
    params = {
        "fraction": float(fraction),
        "block": block,
        "gap": gap,
        "patch_size": int(patch_size),
        "val_fraction": float(val_fraction),
    }
    return Split(train, test, val, "disjoint", int(seed), params)


def region_split(
    labels: np.ndarray,
    region_ids: np.ndarray,
    fraction: float = 0.5,
    patch_size: int = 25,
    gap: Optional[int] = None,
    val_fraction: float = 0.0,
    seed: int = 0,
) -> Split:
    """Split by whole regions: each region goes wholly to training or to test, stratified by class.

    Per class, the regions are taken in a seeded random order into training until the class has
    about ``fraction`` of its pixels there; a class of two regions or more keeps at least one region
    for test. A class with a single region is trained on and named untested in ``params``. Test
    pixels closer than ``gap`` (Chebyshev distance) to a training pixel of another region are left out
    and counted, so that no test pixel lies inside a training patch when ``gap >= patch_size // 2``.

    Parameters
    ----------
    labels : int array (rows, cols)
        Class ids, 0 = unlabelled.
    region_ids : int array (rows, cols)
        The region of each labelled pixel (0 elsewhere); see :func:`hsiviewer.regions.rasterize_regions`.
    fraction : float
        Target share of each class's pixels in training.
    patch_size : int
    gap : int, optional
        Guard distance; default ``patch_size // 2``.
    val_fraction : float
        Share of the training pixels moved to validation (stratified; taken inside training regions).
    seed : int

    Returns
    -------
    Split
        ``params["per_class"]`` gives, per class id (as a string), ``train_regions``, ``test_regions``,
        ``train_pixels`` and ``test_pixels``; ``params["guard_dropped"]`` the test pixels left out;
        ``params["untested_classes"]`` the classes with a single region.
    """
    _check_fraction(fraction, "fraction")
    labels, region_ids = np.asarray(labels), np.asarray(region_ids)
    if region_ids.shape != labels.shape:
        raise ValueError(f"region ids are {region_ids.shape} but the labels are {labels.shape}")
    gap = int(patch_size) // 2 if gap is None else int(gap)
    flat, rid = labels.ravel(), region_ids.ravel()
    labelled = (flat > 0) & (rid > 0)
    train_regions, untested = _choose_regions(flat[labelled], rid[labelled], fraction, np.random.default_rng(seed))
    in_train = labelled & np.isin(rid, train_regions)
    near = _dilate(in_train.reshape(labels.shape), gap).ravel()
    candidates = labelled & ~in_train
    test_mask = candidates & ~near
    train, val = _carve_validation(np.flatnonzero(in_train), flat, val_fraction, seed)
    params = {
        "fraction": float(fraction),
        "gap": gap,
        "patch_size": int(patch_size),
        "val_fraction": float(val_fraction),
        "guard_dropped": int(np.count_nonzero(candidates & near)),
        "untested_classes": [int(c) for c in untested],
        "per_class": _region_counts(flat, rid, in_train, test_mask),
    }
    return Split(train, np.flatnonzero(test_mask), val, "regions", int(seed), params)


def _choose_regions(y: np.ndarray, rid: np.ndarray, fraction: float, rng) -> tuple[np.ndarray, list]:
    """(training region ids, classes with a single region) for labelled pixels of class ``y`` in region ``rid``."""
    regions, first = np.unique(rid, return_index=True)
    region_class = y[first]
    sizes = np.bincount(np.searchsorted(regions, rid), minlength=len(regions))
    chosen, untested = [], []
    for c in np.unique(region_class):
        members = np.flatnonzero(region_class == c)
        if len(members) == 1:
            chosen.append(regions[members[0]])
            untested.append(int(c))
            continue
        order = rng.permutation(members)
        target = fraction * sizes[members].sum()
        taken = 0
        for k, m in enumerate(order[:-1]):  # the last region in the order always tests
            if k > 0 and taken >= target:
                break
            chosen.append(regions[m])
            taken += sizes[m]
    return np.asarray(chosen, np.int64), untested


def _region_counts(flat, rid, in_train, test_mask) -> dict:
    """Regions and pixels of each class on each side (string keys: the params go to JSON)."""
    out = {}
    for c in np.unique(flat[flat > 0]):
        cls = flat == c
        out[str(int(c))] = {
            "train_regions": int(len(np.unique(rid[cls & in_train]))),
            "test_regions": int(len(np.unique(rid[cls & test_mask]))),
            "train_pixels": int(np.count_nonzero(cls & in_train)),
            "test_pixels": int(np.count_nonzero(cls & test_mask)),
        }
    return out


def region_split_lines(info: dict, names: Optional[dict] = None) -> list[str]:
    """Plain-text lines about a regions split (``split.params`` or ``metrics["regions"]``).

    Regions and pixels per class on each side, the pixels the guard band left out, and the classes
    left untested because they have a single region.
    """
    names = names or {}
    lines = [
        f"guard band: {info['guard_dropped']} pixels of test regions left out (too close to training pixels)",
        f"{'class':<24} {'train regions':>13} {'train px':>9} {'test regions':>12} {'test px':>8}",
    ]
    for cid, row in info["per_class"].items():
        name = f"{cid} {names.get(int(cid), '')}".strip()[:24]
        lines.append(
            f"{name:<24} {row['train_regions']:>13} {row['train_pixels']:>9} {row['test_regions']:>12} "
            f"{row['test_pixels']:>8}"
        )
    if info["untested_classes"]:
        lines.append(
            "untested (a single region, trained on): "
            + ", ".join(f"{c} {names.get(int(c), '')}".strip() for c in info["untested_classes"])
        )
    return lines


def leakage(split: Split, shape: tuple[int, int], patch_size: int) -> int:
    """Number of test pixels that lie inside some training patch.

    A test pixel is inside the S x S patch of a training pixel when their Chebyshev distance is at
    most ``r = patch_size // 2``; this dilates the training mask by a (2r + 1) square.
    """
    n_rows, n_cols = int(shape[0]), int(shape[1])
    train = np.zeros(n_rows * n_cols, bool)
    train[split.train] = True
    covered = _dilate(train.reshape(n_rows, n_cols), int(patch_size) // 2).ravel()
    return int(np.count_nonzero(covered[split.test]))


# --- helpers ------------------------------------------------------------------------------------
def _check_fraction(value: float, name: str) -> None:
    if not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must be between 0 and 1 (exclusive), got {value}")


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return mask.copy()
    from scipy.ndimage import maximum_filter

    return maximum_filter(mask.astype(np.uint8), size=2 * radius + 1, mode="constant", cval=0).astype(bool)


def _stratified_fraction(idx, y, fraction, min_per_class, seed, rng) -> np.ndarray:
    """scikit-learn's stratified split, then the per-class minimum; own allocation if sklearn refuses."""
    from sklearn.model_selection import train_test_split

    classes, counts = np.unique(y, return_counts=True)
    multi = np.isin(y, classes[counts >= 2])
    try:
        train, _ = train_test_split(idx[multi], train_size=fraction, stratify=y[multi], random_state=seed)
    except ValueError:  # too few pixels for sklearn to give every class a train and a test pixel
        wanted = {c: int(round(fraction * n)) for c, n in zip(classes, counts)}
        return _take_per_class(idx, y, wanted, min_per_class, rng)
    train = np.concatenate([train, idx[~multi]])  # one-pixel classes train
    return _top_up(idx, y, train, min_per_class, rng)


def _take_per_class(idx, y, wanted: dict, min_per_class: int, rng) -> np.ndarray:
    """For each class (sorted) draw ``max(wanted, min_per_class)`` pixels, leaving one to test."""
    picked = []
    for c in np.unique(y):
        members = idx[y == c]
        n = len(members)
        k = max(int(wanted.get(c, 0)), int(min_per_class))
        k = n if n < 2 else min(k, n - 1)
        picked.append(rng.permutation(members)[:k])
    return np.concatenate(picked) if picked else np.zeros(0, np.int64)


def _top_up(idx, y, train, min_per_class, rng) -> np.ndarray:
    """Per class: at least ``min_per_class`` training pixels, and one test pixel when it has two or more.

    sklearn's stratified allocation can give a small class no test pixel at a high fraction, or no
    training pixel at a low one; this moves random pixels across to fix that.
    """
    in_train = np.isin(idx, train)
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        trained, spare = members[in_train[members]], members[~in_train[members]]
        if len(spare) == 0 and len(members) >= 2:
            in_train[rng.choice(trained)] = False
            continue
        need = min(int(min_per_class) - len(trained), len(spare) - 1)
        if need > 0:
            in_train[rng.permutation(spare)[:need]] = True
    return idx[in_train]


def _carve_validation(train: np.ndarray, flat: np.ndarray, val_fraction: float, seed: int):
    """Move a stratified ``val_fraction`` of ``train`` to validation; each class keeps one train pixel."""
    if not val_fraction:
        return train, np.zeros(0, np.int64)
    _check_fraction(val_fraction, "val_fraction")
    y = flat[train]
    wanted = {c: int(round(val_fraction * n)) for c, n in zip(*np.unique(y, return_counts=True))}
    val = _take_per_class(train, y, wanted, 0, np.random.default_rng([seed, 1]))
    return np.setdiff1d(train, val), val


def _choose_blocks(labels: np.ndarray, block_of: np.ndarray, fraction: float, rng) -> np.ndarray:
    """Greedy per class, rarest first: the block ids that go to training.

    Among the blocks holding the class, take first one that does not swallow the last test pixels of
    any class, then one whose overshoot of the classes' targets (relative to each target) is within
    0.25 of the least, the first of those in a seeded random order.
    """
    flat = labels.ravel()
    lab = flat > 0
    classes, totals = np.unique(flat[lab], return_counts=True)
    n_blocks = int(block_of.max()) + 1
    class_pos = np.searchsorted(classes, flat[lab])
    counts = np.zeros((n_blocks, len(classes)), np.int64)  # counts[b, c] = pixels of class c in block b
    np.add.at(counts, (block_of[lab], class_pos), 1)
    targets = np.maximum(1, np.round(fraction * totals)).astype(np.int64)
    rank = np.empty(n_blocks, np.int64)
    rank[rng.permutation(n_blocks)] = np.arange(n_blocks)
    chosen = np.zeros(n_blocks, bool)
    current = np.zeros(len(classes), np.int64)
    for c in np.lexsort((classes, totals)):
        while current[c] < targets[c]:
            cand = np.flatnonzero(~chosen & (counts[:, c] > 0))
            if not len(cand):
                break
            new = current[None, :] + counts[cand]
            swallow = ((new == totals) & (current < totals) & (totals >= 2)).any(axis=1)
            over = (np.maximum(0, new - targets) / targets).sum(axis=1)
            over = over + np.where(swallow, np.inf, 0.0)
            if np.isinf(over).all():
                over = np.zeros(len(cand))
            # any block within a quarter of the least overshoot will do: the seed picks among them
            near_best = over <= over.min() + 0.25
            pick = cand[near_best][np.argmin(rank[cand][near_best])]
            chosen[pick] = True
            current += counts[pick]
    return np.flatnonzero(chosen)
