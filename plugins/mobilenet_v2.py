"""MobileNetV2 (Sandler et al., 2018) for hyperspectral patches: inverted residuals, linear bottlenecks.

Adapted to small ``(N, C, S, S)`` PCA patches: stride-1 stem, the ImageNet stages up to 96 channels
(the 160/320-channel stages and the 1280-wide last conv are for 224 x 224 photographs), a 1x1 conv
to 512 features, and only as many stride-2 stages as the patch affords (two for 15 x 15).
Default patch 15, for the reasons given in ``mobilenet_v1.py``.
"""

from __future__ import annotations

from torch import nn

from hsiviewer.models import InputKind, register_model
from hsiviewer.models.layers import ConvBNAct, InvertedResidual, classifier, make_divisible, stride_plan

STEM = 32
LAST = 512
# (expansion t, output channels c, repeats n, ImageNet stride s of the first repeat)
SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1))


class MobileNetV2(nn.Module):
    """MobileNetV2 body (ReLU6, linear bottlenecks) and a pooled classifier for ``(N, C, S, S)``."""

    def __init__(
        self, in_bands: int, n_classes: int, patch_size: int, width_mult: float = 1.0, dropout: float = 0.2
    ) -> None:
        super().__init__()
        cin = make_divisible(STEM * width_mult)
        layers: list[nn.Module] = [ConvBNAct(in_bands, cin, 3, act=nn.ReLU6)]
        strides = stride_plan([s for *_, s in SETTINGS], patch_size)
        for (t, c, n, _), stride in zip(SETTINGS, strides):
            cout = make_divisible(c * width_mult)
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, 3, stride if i == 0 else 1, cin * t, act=nn.ReLU6))
                cin = cout
        last = make_divisible(LAST * max(1.0, width_mult))
        layers.append(ConvBNAct(cin, last, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.head = classifier(last, n_classes, dropout)

    def forward(self, x):
        """Logits ``(N, n_classes)``."""
        return self.head(self.features(x))


@register_model(
    "mobilenet_v2",
    description="MobileNetV2: inverted residuals with linear bottlenecks on PCA patches",
    input_kind=InputKind.PATCH,
    version="1.0",
    defaults={"patch_size": 15, "pca_components": 30, "width_mult": 1.0, "dropout": 0.2},
)
def build(in_bands: int, n_classes: int, patch_size: int, width_mult: float, dropout: float) -> MobileNetV2:
    """Build MobileNetV2; ``width_mult`` scales every width (rounded to multiples of 8)."""
    return MobileNetV2(in_bands, n_classes, patch_size, width_mult, dropout)
