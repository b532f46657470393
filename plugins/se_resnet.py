"""SE-ResNet (Hu et al., 2018) for hyperspectral patches: basic residual blocks with squeeze-and-excitation.

Each block is two 3x3 conv + BN layers; squeeze-and-excitation (global average pool, 1x1 conv to
``channels / reduction``, ReLU, 1x1 conv back, sigmoid) rescales the residual branch's channels
before the identity (or 1x1 projection) is added. Three stages of ``base_width``, 2x and 4x
channels; the second and third downsample when the patch affords it (15 -> 8 -> 4).
"""

from __future__ import annotations

import torch
from torch import nn

from hsiviewer.models import InputKind, register_model
from hsiviewer.models.layers import ConvBNAct, SqueezeExcite, classifier, stride_plan


class SEBasicBlock(nn.Module):
    """Two 3x3 conv + BN, SE on the branch, then ``relu(branch + shortcut)``."""

    def __init__(self, cin: int, cout: int, stride: int, reduction: int) -> None:
        super().__init__()
        self.branch = nn.Sequential(ConvBNAct(cin, cout, 3, stride), ConvBNAct(cout, cout, 3, act=None))
        self.se = SqueezeExcite(cout, max(1, cout // reduction))
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else ConvBNAct(cin, cout, 1, stride, act=None)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.se(self.branch(x)) + self.shortcut(x))


class SEResNet(nn.Module):
    """Stem conv, three stages of SE basic blocks, pooled classifier, for ``(N, C, S, S)`` patches."""

    def __init__(
        self,
        in_bands: int,
        n_classes: int,
        patch_size: int,
        base_width: int = 32,
        blocks_per_stage: int = 2,
        reduction: int = 16,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        widths = [base_width, 2 * base_width, 4 * base_width]
        layers: list[nn.Module] = [ConvBNAct(in_bands, base_width, 3)]
        cin = base_width
        for width, stride in zip(widths, stride_plan([1, 2, 2], patch_size)):
            for i in range(blocks_per_stage):
                layers.append(SEBasicBlock(cin, width, stride if i == 0 else 1, reduction))
                cin = width
        self.features = nn.Sequential(*layers)
        self.head = classifier(cin, n_classes, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, n_classes)``."""
        return self.head(self.features(x))


@register_model(
    "se_resnet",
    description="SE-ResNet: residual blocks with squeeze-and-excitation on PCA patches",
    input_kind=InputKind.PATCH,
    version="1.0",
    defaults={
        "patch_size": 15,
        "pca_components": 30,
        "base_width": 32,
        "blocks_per_stage": 2,
        "reduction": 16,
        "dropout": 0.2,
    },
)
def build(
    in_bands: int,
    n_classes: int,
    patch_size: int,
    base_width: int,
    blocks_per_stage: int,
    reduction: int,
    dropout: float,
) -> SEResNet:
    """Build SE-ResNet (channels ``base_width``, 2x, 4x; ``blocks_per_stage`` blocks each)."""
    return SEResNet(in_bands, n_classes, patch_size, base_width, blocks_per_stage, reduction, dropout)
