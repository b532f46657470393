"""MobileNetV1 (Howard et al., 2017) for hyperspectral patches: depthwise separable convolutions.

Adapted to small ``(N, C, S, S)`` PCA patches: the stem keeps stride 1, the body stops at 512
channels (the ImageNet model's 1024-channel end adds 2 M parameters that a few hundred labelled
pixels cannot train), and only the first stride-2 stages the patch affords downsample
(two for 15 x 15: 15 -> 8 -> 4). Default patch 15: a neighbourhood big enough for spatial context
and small enough for fast CPU training, with less train/test patch overlap than 25.
"""

from __future__ import annotations

from torch import nn

from hsiviewer.models import InputKind, register_model
from hsiviewer.models.layers import ConvBNAct, classifier, make_divisible, stride_plan

STEM = 32
# (output channels, ImageNet stride) of each depthwise separable block.
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1))


def depthwise_separable(cin: int, cout: int, stride: int) -> nn.Sequential:
    """3x3 depthwise conv + BN + ReLU, then 1x1 pointwise conv + BN + ReLU."""
    return nn.Sequential(ConvBNAct(cin, cin, 3, stride, groups=cin), ConvBNAct(cin, cout, 1))


class MobileNetV1(nn.Module):
    """MobileNetV1 body and a pooled classifier for ``(N, C, S, S)`` patches."""

    def __init__(
        self, in_bands: int, n_classes: int, patch_size: int, width_mult: float = 1.0, dropout: float = 0.2
    ) -> None:
        super().__init__()
        stem = make_divisible(STEM * width_mult)
        layers: list[nn.Module] = [ConvBNAct(in_bands, stem, 3)]
        cin = stem
        strides = stride_plan([s for _, s in BLOCKS], patch_size)
        for (channels, _), stride in zip(BLOCKS, strides):
            cout = make_divisible(channels * width_mult)
            layers.append(depthwise_separable(cin, cout, stride))
            cin = cout
        self.features = nn.Sequential(*layers)
        self.head = classifier(cin, n_classes, dropout)

    def forward(self, x):
        """Logits ``(N, n_classes)``."""
        return self.head(self.features(x))


@register_model(
    "mobilenet_v1",
    description="MobileNetV1: depthwise separable convolutions on PCA patches",
    input_kind=InputKind.PATCH,
    version="1.0",
    defaults={"patch_size": 15, "pca_components": 30, "width_mult": 1.0, "dropout": 0.2},
)
def build(in_bands: int, n_classes: int, patch_size: int, width_mult: float, dropout: float) -> MobileNetV1:
    """Build MobileNetV1; ``width_mult`` scales every width (rounded to multiples of 8)."""
    return MobileNetV1(in_bands, n_classes, patch_size, width_mult, dropout)
