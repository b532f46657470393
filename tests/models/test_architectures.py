"""Every registered architecture builds and runs; HybridSN's sizes and its exact dense path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from hsiviewer.errors import PluginError
from hsiviewer.models import InputKind, default_registry
from hsiviewer.models.layers import count_parameters, downsamplings, make_divisible

REGISTRY = default_registry()
N_CLASSES = 5


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small_input(kind: InputKind, bands: int, size: int, n: int = 2) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    shape = {
        InputKind.CUBE: (n, 1, bands, size, size),
        InputKind.PATCH: (n, bands, size, size),
        InputKind.SPECTRUM: (n, bands),
    }[kind]
    return torch.randn(shape, generator=gen)


@pytest.mark.parametrize("name", REGISTRY.names())
def test_every_model_builds_and_gives_one_score_per_class(name):
    spec = REGISTRY.get(name)
    bands = 16  # HybridSN needs 13 or more
    size = min(spec.defaults["patch_size"], 11)
    model = spec.build(bands, N_CLASSES, patch_size=size)
    if spec.framework == "sklearn":
        rng = np.random.default_rng(0)
        y = np.repeat(np.arange(N_CLASSES), 6)
        x = rng.normal(size=(len(y), bands)) + y[:, None]
        model.fit(x, y)
        assert model.predict(x[:3]).shape == (3,)
        scores = model.predict_proba(x[:3]) if hasattr(model, "predict_proba") else model.decision_function(x[:3])
        assert scores.shape == (3, N_CLASSES)
        return
    x = small_input(spec.input_kind, bands, size)
    model.train()
    loss = nn.functional.cross_entropy(model(x), torch.tensor([0, 1]))
    loss.backward()  # trainable end to end
    model.eval()
    with torch.no_grad():
        out = model(x)
    assert out.shape == (2, N_CLASSES) and torch.isfinite(out).all()


def test_default_sizes_parameter_counts():
    counts = {}
    for spec in REGISTRY:
        if spec.framework == "torch":
            bands = spec.defaults["pca_components"] or 200
            counts[spec.name] = count_parameters(spec.build(bands, 16))
    print("parameters at defaults (16 classes):", counts)
    # 5,122,176 in the HybridSN paper, plus 240 batch-norm weights and biases.
    assert counts["hybridsn"] == 5_122_416
    for name in ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3", "se_resnet"):
        assert 200_000 < counts[name] < 2_000_000, name


def test_hybridsn_layer_sizes_at_defaults():
    net = REGISTRY.get("hybridsn").build(30, 16).eval()
    x = small_input(InputKind.CUBE, 30, 25, n=2)
    with torch.no_grad():
        spectral = net.spectral(x)
        assert spectral.shape == (2, 32, 18, 19, 19)
        assert net.spatial[0].in_channels == 576
        assert net.features(x).shape == (2, 64, 17, 17)
        assert net(x).shape == (2, 16)
    assert [m.kernel_size for m in net.spectral.modules() if isinstance(m, nn.Conv3d)] == [
        (7, 3, 3),
        (5, 3, 3),
        (3, 3, 3),
    ]
    assert (net.fc1.in_features, net.fc1.out_features, net.fc2.out_features) == (18496, 256, 128)
    assert net.dropout.p == 0.4


def test_hybridsn_refuses_too_small_inputs():
    spec = REGISTRY.get("hybridsn")
    with pytest.raises(PluginError, match="patch of at least 9 x 9, got 7"):
        spec.build(30, 3, patch_size=7)
    with pytest.raises(PluginError, match="at least 13 bands"):
        spec.build(12, 3)
    assert spec.build(13, 3, patch_size=9)(small_input(InputKind.CUBE, 13, 9)).shape == (2, 3)


def randomise_batch_norm(net: nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) * 2 - 1)
            m.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=gen) - 0.5)


@pytest.mark.parametrize("bands, size, sample", [(15, 11, None), (30, 25, 60)])
def test_hybridsn_dense_equals_patch_by_patch(bands, size, sample):
    torch.manual_seed(1)
    net = REGISTRY.get("hybridsn").build(bands, 7, patch_size=size)
    randomise_batch_norm(net, seed=2)
    net.eval()
    rows, cols, r = 20, 23, size // 2
    padded = torch.zeros(bands, rows + 2 * r, cols + 2 * r)
    padded[:, r : r + rows, r : r + cols] = torch.randn(bands, rows, cols)
    with torch.no_grad():
        dense = net.forward_dense(padded[None, None])
        strips = net.forward_dense(padded[None, None], rows_per_strip=6)
    assert dense.shape == (1, 7, rows, cols)
    torch.testing.assert_close(strips, dense, rtol=0, atol=1e-5)
    pixels = [(i, j) for i in range(rows) for j in range(cols)]
    if sample:  # the default size costs ~7 ms a patch on CPU: the corners, edges and a random sample
        rng = np.random.default_rng(0)
        pixels = [(0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1)] + [
            pixels[k] for k in rng.choice(len(pixels), sample, replace=False)
        ]
    patches = torch.stack([padded[:, i : i + size, j : j + size] for i, j in pixels])[:, None]
    with torch.no_grad():
        per_patch = net(patches)
    got = torch.stack([dense[0, :, i, j] for i, j in pixels])
    scale = per_patch.abs().max()
    assert float((got - per_patch).abs().max()) <= 1e-4 * float(scale)


def test_hybridsn_dense_needs_eval_mode():
    net = REGISTRY.get("hybridsn").build(13, 3, patch_size=9)
    with pytest.raises(RuntimeError, match="eval mode"):
        net.forward_dense(torch.zeros(1, 1, 13, 12, 12))


@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3"])
def test_width_mult_scales_channels_in_multiples_of_8(name):
    spec = REGISTRY.get(name)
    full = spec.build(30, 16)
    half = spec.build(30, 16, width_mult="0.5")
    assert count_parameters(half) < 0.6 * count_parameters(full)
    for conv in (m for m in half.modules() if isinstance(m, nn.Conv2d) and m.groups == 1):
        if conv.in_channels != 30 and conv.kernel_size == (1, 1) and conv.out_channels > 16:
            assert conv.in_channels % 8 == 0 and conv.out_channels % 8 == 0
    assert make_divisible(32 * 0.75) == 24 and make_divisible(16 * 0.35) == 8


def test_small_patches_downsample_less():
    assert [downsamplings(s) for s in (25, 15, 9, 5, 3)] == [2, 2, 2, 1, 0]
    net = REGISTRY.get("mobilenet_v2").build(30, 4, patch_size=15)
    with torch.no_grad():
        assert net.features(small_input(InputKind.PATCH, 30, 15)).shape[-2:] == (4, 4)
        small = REGISTRY.get("mobilenet_v2").build(30, 4, patch_size=5)
        assert small.features(small_input(InputKind.PATCH, 30, 5)).shape[-2:] == (3, 3)


def test_mobilenet_v3_uses_hard_swish_and_hard_sigmoid_se():
    from hsiviewer.models.layers import SqueezeExcite

    net = REGISTRY.get("mobilenet_v3").build(30, 16)
    se = [m for m in net.modules() if isinstance(m, SqueezeExcite)]
    assert len(se) == 9 and all(isinstance(m.gate, nn.Hardsigmoid) for m in se)
    assert any(isinstance(m, nn.Hardswish) for m in net.modules())
    v2 = REGISTRY.get("mobilenet_v2").build(30, 16)
    assert any(isinstance(m, nn.ReLU6) for m in v2.modules())


def test_se_resnet_excitation_scales_the_branch_before_the_add():
    net = REGISTRY.get("se_resnet").build(30, 16).eval()
    block = net.features[1]  # first block: identity shortcut
    assert isinstance(block.shortcut, nn.Identity)
    assert block.se.reduce.out_channels == 32 // 16 and isinstance(block.se.gate, nn.Sigmoid)
    x = torch.randn(2, 32, 7, 7)
    with torch.no_grad():
        nn.init.zeros_(block.se.expand.weight)
        block.se.expand.bias.fill_(-50.0)  # gate ~ 0: the branch vanishes, the skip stays
        torch.testing.assert_close(block(x), torch.relu(x), rtol=0, atol=1e-6)
        block.se.expand.bias.fill_(50.0)  # gate ~ 1: plain residual block
        torch.testing.assert_close(block(x), torch.relu(block.branch(x) + x))


def test_svm_is_deterministic_and_checks_gamma():
    spec = REGISTRY.get("svm_rbf")
    assert spec.defaults == {"patch_size": 1, "pca_components": None, "C": 100.0, "gamma": "scale"}
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(3), 20)
    x = rng.normal(size=(60, 8)) + y[:, None] * 0.7
    a = spec.build(8, 3).fit(x, y).decision_function(x)
    b = spec.build(8, 3).fit(x, y).decision_function(x)
    np.testing.assert_array_equal(a, b)
    model = spec.build(8, 3, **spec.coerce({"gamma": "0.5", "C": "10"}))
    assert model.gamma == 0.5 and model.C == 10.0 and model.kernel == "rbf"
    with pytest.raises(PluginError, match="gamma must be 'scale', 'auto' or a positive number"):
        spec.build(8, 3, gamma="wide")
