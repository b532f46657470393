"""Patches: zero padding, lazy per-item cuts, the batched gather, loaders and model input layouts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hsiviewer.engine.batches import PatchDataset, patch_loader, to_model_input
from hsiviewer.processing.patches import pad_cube, patches_for


@pytest.fixture
def cube(rng):
    return rng.normal(size=(7, 9, 4)).astype(np.float32)


def test_pad_cube_zero_border(cube):
    padded = pad_cube(cube, 2)
    assert padded.shape == (11, 13, 4) and padded.dtype == np.float32
    assert np.array_equal(padded[2:-2, 2:-2], cube)
    assert not padded[:2].any() and not padded[:, -2:].any()


def test_border_patch_is_zero_padded_slice(cube):
    ds = PatchDataset(pad_cube(cube, 2), [0, 6], [0, 8], [1, 2], 5)
    patch, target = ds[0]
    assert patch.shape == (5, 5, 4) and patch.dtype == torch.float32 and target == 1
    expected = np.zeros((5, 5, 4), np.float32)
    expected[2:, 2:] = cube[:3, :3]  # rows/cols -2, -1 are outside the scene
    assert np.array_equal(patch.numpy(), expected)
    last, _ = ds[1]  # bottom-right corner
    assert np.array_equal(last.numpy()[:3, :3], cube[4:, 6:]) and not last.numpy()[3:].any()


def test_item_references_the_padded_cube_not_a_copy_of_all_patches(cube):
    padded = pad_cube(cube, 3)
    ds = PatchDataset(padded, np.arange(7), np.zeros(7, int), np.zeros(7, int), 7)
    assert ds.padded is padded
    centre, _ = ds[3]
    assert np.array_equal(centre.numpy()[3, 3], cube[3, 0])


def test_batched_gather_equals_items(cube, rng):
    padded = pad_cube(cube, 1)
    rows, cols = rng.integers(0, 7, 20), rng.integers(0, 9, 20)
    ds = PatchDataset(padded, rows, cols, np.arange(20), 3)
    batch, targets = ds.batch(np.arange(20)[::-1])
    items = torch.stack([ds[i][0] for i in range(20)][::-1])
    assert batch.shape == (20, 3, 3, 4)
    assert torch.equal(batch, items)
    assert targets.tolist() == list(range(19, -1, -1))
    assert np.array_equal(patches_for(padded, rows, cols, 3), items.flip(0).numpy())


def test_batched_and_per_item_loaders_give_the_same_seeded_batches(cube):
    ds = PatchDataset(pad_cube(cube, 1), np.repeat(np.arange(7), 9), np.tile(np.arange(9), 7), np.arange(63), 3)
    fast = list(patch_loader(ds, 10, shuffle=True, generator=torch.Generator().manual_seed(3)))
    slow = list(patch_loader(ds, 10, shuffle=True, generator=torch.Generator().manual_seed(3), batched=False))
    assert len(fast) == len(slow) == 7
    for (pa, ta), (pb, tb) in zip(fast, slow):
        assert torch.equal(pa, pb) and torch.equal(ta, tb)
    again = list(patch_loader(ds, 10, shuffle=True, generator=torch.Generator().manual_seed(3)))
    assert all(torch.equal(a[1], b[1]) for a, b in zip(fast, again))
    other = list(patch_loader(ds, 10, shuffle=True, generator=torch.Generator().manual_seed(4)))
    assert not torch.equal(fast[0][1], other[0][1])
    ordered = torch.cat([t for _, t in patch_loader(ds, 10)])
    assert ordered.tolist() == list(range(63))


def test_to_model_input_layouts(rng):
    batch = torch.from_numpy(rng.normal(size=(2, 5, 5, 3)).astype(np.float32))
    cube = to_model_input(batch, "cube")
    assert cube.shape == (2, 1, 3, 5, 5) and cube.is_contiguous()
    assert cube[1, 0, 2, 4, 0] == batch[1, 4, 0, 2]
    patch = to_model_input(batch, "patch")
    assert patch.shape == (2, 3, 5, 5) and patch[0, 1, 2, 3] == batch[0, 2, 3, 1]
    spectrum = to_model_input(batch, "spectrum")
    assert torch.equal(spectrum, batch[:, 2, 2, :])
    from hsiviewer.models.plugins import InputKind

    assert torch.equal(to_model_input(batch, InputKind.PATCH), patch)
    with pytest.raises(ValueError, match="unknown input kind"):
        to_model_input(batch, "volume")


def test_patch_reaching_past_the_padding_is_refused(cube):
    with pytest.raises(ValueError, match="pad by"):
        PatchDataset(pad_cube(cube, 1), [6], [8], [0], 5)


def test_device_loader_gives_the_loader_batches(cube):
    from hsiviewer.engine.batches import DevicePatchLoader

    ds = PatchDataset(pad_cube(cube, 2), np.repeat(np.arange(7), 9), np.tile(np.arange(9), 7), np.arange(63), 5)
    host = list(patch_loader(ds, 16, shuffle=True, generator=torch.Generator().manual_seed(1)))
    device = list(
        DevicePatchLoader(ds, 16, torch.device("cpu"), shuffle=True, generator=torch.Generator().manual_seed(1))
    )
    assert len(host) == len(device) == 4
    for (pa, ta), (pb, tb) in zip(host, device):
        assert torch.equal(pa, pb) and torch.equal(ta, tb)
        assert torch.equal(to_model_input(pa, "cube"), to_model_input(pb, "cube"))
