"""MobileNetV3-Small (Howard et al., 2019) for hyperspectral patches: SE blocks and h-swish.

The ImageNet block table, with squeeze-and-excitation gated by a hard sigmoid and h-swish in the
later blocks, adapted to small ``(N, C, S, S)`` PCA patches: stride-1 stem and only as many
stride-2 blocks as the patch affords (two for 15 x 15). Default patch 15, as in ``mobilenet_v1.py``.
"""

from __future__ import annotations

from torch import nn

from hsiviewer.models import InputKind, register_model
from hsiviewer.models.layers import ConvBNAct, InvertedResidual, classifier, make_divisible, stride_plan

STEM = 16
LAST = 576
HIDDEN = 1024
# (kernel, expanded channels, output channels, squeeze-excite, h-swish, ImageNet stride)
BLOCKS = (
    (3, 16, 16, True, False, 2),
    (3, 72, 24, False, False, 2),
    (3, 88, 24, False, False, 1),
    (5, 96, 40, True, True, 2),
    (5, 240, 40, True, True, 1),
    (5, 240, 40, True, True, 1),
    (5, 120, 48, True, True, 1),
    (5, 144, 48, True, True, 1),
    (5, 288, 96, True, True, 2),
    (5, 576, 96, True, True, 1),
    (5, 576, 96, True, True, 1),
)


class MobileNetV3Small(nn.Module):
    """MobileNetV3-Small body and its 1024-wide h-swish head for ``(N, C, S, S)`` patches."""

    def __init__(
        self, in_bands: int, n_classes: int, patch_size: int, width_mult: float = 1.0, dropout: float = 0.2
    ) -> None:
        super().__init__()
        cin = make_divisible(STEM * width_mult)
        layers: list[nn.Module] = [ConvBNAct(in_bands, cin, 3, act=nn.Hardswish)]
        strides = stride_plan([b[-1] for b in BLOCKS], patch_size)
        for (kernel, expand, out, se, hswish, _), stride in zip(BLOCKS, strides):
            expanded, cout = make_divisible(expand * width_mult), make_divisible(out * width_mult)
            squeeze = make_divisible(expanded / 4) if se else 0
            act = nn.Hardswish if hswish else nn.ReLU
            layers.append(
                InvertedResidual(
                    cin, cout, kernel, stride, expanded, act=act, se_channels=squeeze, se_gate=nn.Hardsigmoid
                )
            )
            cin = cout
        last = make_divisible(LAST * width_mult)
        layers.append(ConvBNAct(cin, last, 1, act=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.head = classifier(last, n_classes, dropout, hidden=HIDDEN, act=nn.Hardswish)

    def forward(self, x):
        """Logits ``(N, n_classes)``."""
        return self.head(self.features(x))


@register_model(
    "mobilenet_v3",
    description="MobileNetV3-Small: SE blocks (hard sigmoid) and h-swish on PCA patches",
    input_kind=InputKind.PATCH,
    version="1.0",
    defaults={"patch_size": 15, "pca_components": 30, "width_mult": 1.0, "dropout": 0.2},
)
def build(in_bands: int, n_classes: int, patch_size: int, width_mult: float, dropout: float) -> MobileNetV3Small:
    """Build MobileNetV3-Small; ``width_mult`` scales every width (rounded to multiples of 8)."""
    return MobileNetV3Small(in_bands, n_classes, patch_size, width_mult, dropout)
