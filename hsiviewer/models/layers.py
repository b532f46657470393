"""Torch building blocks shared by the shipped plugins (and usable by third-party ones).

Hyperspectral patches are small (9-27 pixels a side), so the ImageNet designs these blocks come
from are used with fewer downsamplings: :func:`stride_plan` keeps the stride-2 stages that leave
at least a 3 x 3 feature map and turns the rest into stride 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

Activation = Callable[[], nn.Module]


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to a multiple of ``divisor`` without losing more than 10 %.

    The rule of the MobileNet reference implementations, so ``width_mult`` gives the usual widths.
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def downsamplings(patch_size: int, max_down: int = 2, min_size: int = 3) -> int:
    """How many stride-2 stages a ``patch_size`` patch affords.

    A stage halves the side (rounding up); it is allowed while the result is at least ``min_size``
    and at most ``max_down`` times: 25 -> 13 -> 7, 15 -> 8 -> 4 and 9 -> 5 -> 3 give 2, 5 -> 3 gives 1
    and 3 gives 0.
    """
    count, size = 0, int(patch_size)
    while count < max_down and (size + 1) // 2 >= min_size:
        size = (size + 1) // 2
        count += 1
    return count


def stride_plan(strides: Sequence[int], patch_size: int, max_down: int = 2) -> list[int]:
    """Keep the first :func:`downsamplings` stride-2 entries of ``strides``; make the others 1."""
    budget = downsamplings(patch_size, max_down)
    plan = []
    for stride in strides:
        if stride > 1 and budget > 0:
            plan.append(stride)
            budget -= 1
        else:
            plan.append(1)
    return plan


class ConvBNAct(nn.Sequential):
    """Conv2d (no bias, "same" padding) + BatchNorm2d + an optional activation."""

    def __init__(
        self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1, act: Activation | None = nn.ReLU
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if act is not None:
            layers.append(act())
        super().__init__(*layers)


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation: global average pool, two 1x1 convs, a gate that rescales channels.

    Parameters
    ----------
    channels : int
        Channels of the input (and output).
    squeeze : int
        Channels of the bottleneck between the two 1x1 convs.
    act, gate : callable
        The bottleneck activation (ReLU) and the gate (sigmoid; hard sigmoid in MobileNetV3).
    """

    def __init__(self, channels: int, squeeze: int, act: Activation = nn.ReLU, gate: Activation = nn.Sigmoid) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, squeeze, 1)
        self.act = act()
        self.expand = nn.Conv2d(squeeze, channels, 1)
        self.gate = gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.gate(self.expand(self.act(self.reduce(self.pool(x)))))
        return x * scale


class InvertedResidual(nn.Module):
    """MobileNetV2/V3 block: 1x1 expansion, depthwise conv, optional SE, linear 1x1 projection.

    The projection has no activation (the "linear bottleneck"); the input is added back when the
    block keeps the shape.
    """

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int,
        stride: int,
        expanded: int,
        act: Activation = nn.ReLU6,
        se_channels: int = 0,
        se_gate: Activation = nn.Hardsigmoid,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if expanded != cin:
            layers.append(ConvBNAct(cin, expanded, 1, act=act))
        layers.append(ConvBNAct(expanded, expanded, kernel, stride, groups=expanded, act=act))
        if se_channels:
            layers.append(SqueezeExcite(expanded, se_channels, act=nn.ReLU, gate=se_gate))
        layers.append(ConvBNAct(expanded, cout, 1, act=None))
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.residual else out


def classifier(
    features: int, n_classes: int, dropout: float, hidden: int = 0, act: Activation = nn.ReLU
) -> nn.Sequential:
    """Global average pool, flatten, (an optional hidden layer,) dropout and the logits layer."""
    layers: list[nn.Module] = [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    if hidden:
        layers += [nn.Linear(features, hidden), act()]
        features = hidden
    layers += [nn.Dropout(dropout), nn.Linear(features, n_classes)]
    return nn.Sequential(*layers)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
