"""HybridSN (Roy et al., 2020, IEEE GRSL 17(2)): three 3-D convolutions, one 2-D convolution, three FCs.

At the defaults (30 PCA components, 25 x 25 patches) the 3-D convolutions give (32, 18, 19, 19),
reshaped to 576 channels of 19 x 19; the 2-D convolution gives (64, 17, 17), flattened to 18 496
features for the 256-128-classes classifier. Every convolution is valid (no padding) and followed by
batch normalisation and ReLU.

Because the convolutions are valid, the network is exact over a whole scene: ``forward_dense`` runs
the convolutions once over the padded scene, then applies the first FC as a (S-8) x (S-8)
convolution and the other two as 1 x 1 convolutions, which gives, for every pixel, the logits
``forward`` gives for the patch centred on it (eval mode: batch norm uses its running statistics
and dropout is off).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hsiviewer.errors import PluginError
from hsiviewer.models import InputKind, register_model

SPECTRAL_KERNELS = (7, 5, 3)  # depth of the 3-D kernels along the bands
SPECTRAL_FILTERS = (8, 16, 32)
SPATIAL_FILTERS = 64
HIDDEN = (256, 128)
MIN_BANDS = sum(k - 1 for k in SPECTRAL_KERNELS) + 1  # 13: one band left after the 3-D convolutions
MIN_PATCH = 9  # four 3x3 convolutions eat 8 pixels: 1 x 1 left


def _conv3d_block(cin: int, cout: int, depth: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, (depth, 3, 3)), nn.BatchNorm3d(cout), nn.ReLU(inplace=True))


class HybridSN(nn.Module):
    """HybridSN for ``(N, 1, bands, S, S)`` cubes.

    Parameters
    ----------
    in_bands : int
        Bands (PCA components), at least 13.
    n_classes : int
        Outputs.
    patch_size : int
        Side S of the patch, at least 9.
    dropout : float
        Dropout after each hidden FC layer.
    """

    def __init__(self, in_bands: int, n_classes: int, patch_size: int = 25, dropout: float = 0.4) -> None:
        super().__init__()
        if in_bands < MIN_BANDS:
            raise PluginError(f"HybridSN needs at least {MIN_BANDS} bands (PCA components), got {in_bands}")
        if patch_size < MIN_PATCH:
            raise PluginError(f"HybridSN needs a patch of at least {MIN_PATCH} x {MIN_PATCH}, got {patch_size}")
        self.patch_size = patch_size
        depth = in_bands - (MIN_BANDS - 1)
        self.spectral = nn.Sequential(
            *(
                _conv3d_block(cin, cout, k)
                for cin, cout, k in zip((1,) + SPECTRAL_FILTERS[:-1], SPECTRAL_FILTERS, SPECTRAL_KERNELS)
            )
        )
        self.spatial = nn.Sequential(
            nn.Conv2d(SPECTRAL_FILTERS[-1] * depth, SPATIAL_FILTERS, 3),
            nn.BatchNorm2d(SPATIAL_FILTERS),
            nn.ReLU(inplace=True),
        )
        self.fc_side = patch_size - (MIN_PATCH - 1)
        self.fc1 = nn.Linear(SPATIAL_FILTERS * self.fc_side**2, HIDDEN[0])
        self.fc2 = nn.Linear(HIDDEN[0], HIDDEN[1])
        self.fc3 = nn.Linear(HIDDEN[1], n_classes)
        self.dropout = nn.Dropout(dropout)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 2-D feature maps ``(N, 64, h - 8, w - 8)`` of a ``(N, 1, C, h, w)`` input."""
        x = self.spectral(x)  # (N, 32, C - 12, h - 6, w - 6)
        x = x.flatten(1, 2)  # (N, 32 * (C - 12), h - 6, w - 6), filter-major
        return self.spatial(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, n_classes)`` of ``(N, 1, C, S, S)`` patches."""
        x = self.features(x).flatten(1)  # (C, H, W) order, as the dense path reshapes fc1
        x = self.dropout(F.relu(self.fc1(x)))
        x = self.dropout(F.relu(self.fc2(x)))
        return self.fc3(x)

    def forward_dense(self, x: torch.Tensor, rows_per_strip: int | None = None) -> torch.Tensor:
        """Logits ``(N, n_classes, H, W)`` of every S x S window of a padded scene, in eval mode.

        Parameters
        ----------
        x : Tensor
            ``(N, 1, C, H + S - 1, W + S - 1)``; for a zero-padded scene with ``r = S // 2`` on each
            side and odd S this is ``(N, 1, C, H + 2r, W + 2r)``.
        rows_per_strip : int, optional
            Compute this many output rows at a time (input rows ``[a, b + S - 1)`` for output rows
            ``[a, b)``), to bound memory on big scenes. All at once when None.
        """
        if self.training:
            raise RuntimeError("HybridSN.forward_dense needs eval mode (call .eval() first)")
        size = self.patch_size
        if x.dim() != 5 or x.shape[-1] < size or x.shape[-2] < size:
            raise ValueError(f"forward_dense expects (N, 1, C, rows >= {size}, cols >= {size}), got {tuple(x.shape)}")
        out_rows = x.shape[-2] - size + 1
        step = out_rows if not rows_per_strip else max(1, int(rows_per_strip))
        strips = [self._dense(x[..., a : min(a + step, out_rows) + size - 1, :]) for a in range(0, out_rows, step)]
        return strips[0] if len(strips) == 1 else torch.cat(strips, dim=2)

    def _dense(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.features(x)
        w1 = self.fc1.weight.view(HIDDEN[0], SPATIAL_FILTERS, self.fc_side, self.fc_side)
        h = F.relu(F.conv2d(feats, w1, self.fc1.bias))
        h = F.relu(F.conv2d(h, self.fc2.weight[:, :, None, None], self.fc2.bias))
        return F.conv2d(h, self.fc3.weight[:, :, None, None], self.fc3.bias)


@register_model(
    "hybridsn",
    description="HybridSN: 3-D + 2-D convolutions on PCA cubes (Roy et al. 2020)",
    input_kind=InputKind.CUBE,
    dense=True,
    version="1.0",
    defaults={"patch_size": 25, "pca_components": 30, "dropout": 0.4},
)
def build(in_bands: int, n_classes: int, patch_size: int, dropout: float) -> HybridSN:
    """Build HybridSN; sizes follow ``in_bands`` and ``patch_size``."""
    return HybridSN(in_bands, n_classes, patch_size, dropout)
