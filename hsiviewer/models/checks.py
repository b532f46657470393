"""A quick, cheap check that a registered model builds and runs (used by ``Registry.check``)."""

from __future__ import annotations

import numpy as np

from hsiviewer.errors import PluginError
from hsiviewer.models.spec import InputKind, ModelSpec

N_CLASSES = 3
DEFAULT_BANDS = 30
_BATCH = 2
_DENSE_SHAPE = (2, 3)  # rows, cols of the little scene the dense path is compared on


def smoke_test(spec: ModelSpec, seed: int = 0) -> None:
    """Build ``spec`` at its defaults for 3 classes and run it on random data.

    ``in_bands`` is the default ``pca_components`` (30 when None). Torch models run one forward
    pass in eval mode; a dense model's ``forward_dense`` must agree with ``forward`` on every pixel
    of a 2 x 3 scene. Scikit-learn models are fitted on 30 random spectra and predict.

    Raises
    ------
    PluginError
        The model gives the wrong shape, non-finite values, or a dense output that differs.
    """
    bands = spec.defaults["pca_components"] or DEFAULT_BANDS
    size = spec.defaults["patch_size"]
    model = spec.build(bands, N_CLASSES)
    rng = np.random.default_rng(seed)
    if spec.framework == "sklearn":
        _check_sklearn(spec, model, bands, rng)
    else:
        _check_torch(spec, model, bands, size, rng)


def _check_sklearn(spec: ModelSpec, model, bands: int, rng: np.random.Generator) -> None:
    x = rng.normal(size=(10 * N_CLASSES, bands))
    y = np.repeat(np.arange(N_CLASSES), 10)
    x += y[:, None]  # separable enough that every class is predicted somewhere
    predicted = np.asarray(model.fit(x, y).predict(x))
    if predicted.shape != (len(x),):
        raise PluginError(f"model '{spec.name}': predict gave shape {predicted.shape}, expected ({len(x)},)")


def _check_torch(spec: ModelSpec, model, bands: int, size: int, rng: np.random.Generator) -> None:
    import torch

    model.eval()
    shape = {
        InputKind.CUBE: (_BATCH, 1, bands, size, size),
        InputKind.PATCH: (_BATCH, bands, size, size),
        InputKind.SPECTRUM: (_BATCH, bands),
    }[spec.input_kind]
    x = torch.from_numpy(rng.normal(size=shape).astype(np.float32))
    with torch.no_grad():
        out = model(x)
    if tuple(out.shape) != (_BATCH, N_CLASSES):
        raise PluginError(f"model '{spec.name}': output shape {tuple(out.shape)}, expected ({_BATCH}, {N_CLASSES})")
    if not torch.isfinite(out).all():
        raise PluginError(f"model '{spec.name}': the output holds NaN or infinite values")
    if spec.dense:
        _check_dense(spec, model, bands, size, rng)


def _check_dense(spec: ModelSpec, model, bands: int, size: int, rng: np.random.Generator) -> None:
    import torch

    if not hasattr(model, "forward_dense"):
        raise PluginError(f"model '{spec.name}' is declared dense but has no forward_dense")
    rows, cols = _DENSE_SHAPE
    r = size // 2
    scene = np.zeros((bands, rows + 2 * r, cols + 2 * r), np.float32)
    scene[:, r : r + rows, r : r + cols] = rng.normal(size=(bands, rows, cols))
    padded = torch.from_numpy(scene)
    patches = torch.stack([padded[:, i : i + size, j : j + size] for i in range(rows) for j in range(cols)])
    if spec.input_kind == InputKind.CUBE:
        padded, patches = padded[None], patches[:, None]
    with torch.no_grad():
        dense = model.forward_dense(padded[None])
        per_patch = model(patches).T.reshape(1, N_CLASSES, rows, cols)
    if tuple(dense.shape) != tuple(per_patch.shape):
        raise PluginError(
            f"model '{spec.name}': forward_dense gave shape {tuple(dense.shape)}, expected {tuple(per_patch.shape)}"
        )
    scale = float(per_patch.abs().max()) or 1.0
    if float((dense - per_patch).abs().max()) > 1e-3 * scale:
        raise PluginError(f"model '{spec.name}': forward_dense differs from forward patch by patch")
