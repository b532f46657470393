"""A small 1-D CNN on each pixel's spectrum: no spatial context, so it shows what the spectra alone give.

Three Conv1d (kernel 7, 5, 3) + BN + ReLU + max-pool stages along the bands, global average pool,
dropout and a linear layer. Input: the centre pixel's standardised bands (default: no PCA, so the
convolutions see neighbouring wavelengths, which is what makes a 1-D convolution meaningful).
"""

from __future__ import annotations

import torch
from torch import nn

from hsiviewer.models import InputKind, register_model

KERNELS = (7, 5, 3)


class SpectralCNN(nn.Module):
    """1-D convolutions over the bands of ``(N, C)`` spectra."""

    def __init__(self, in_bands: int, n_classes: int, width: int = 32, dropout: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for i, kernel in enumerate(KERNELS):
            cout = width * 2**i
            layers += [nn.Conv1d(cin, cout, kernel, padding=kernel // 2), nn.BatchNorm1d(cout), nn.ReLU(inplace=True)]
            # Pool only while a few bands remain, so short (PCA) spectra still work.
            if in_bands // 2 ** (i + 1) >= 2:
                layers.append(nn.MaxPool1d(2))
            cin = cout
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(cin, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, n_classes)`` of ``(N, C)`` spectra."""
        return self.head(self.features(x[:, None, :]))


@register_model(
    "spectral_cnn",
    description="1-D CNN on each pixel's spectrum (no spatial context)",
    input_kind=InputKind.SPECTRUM,
    version="1.0",
    defaults={"patch_size": 1, "pca_components": None, "width": 32, "dropout": 0.2},
)
def build(in_bands: int, n_classes: int, patch_size: int, width: int, dropout: float) -> SpectralCNN:
    """Build the spectral 1-D CNN (``width``, 2x and 4x channels)."""
    return SpectralCNN(in_bands, n_classes, width, dropout)
