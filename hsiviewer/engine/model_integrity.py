"""Is a model file exactly what was saved? Checksums of the archive and of its content, and shapes.

``torch.load`` does not verify the CRC-32 checksums of its zip archive, so a file with a few
bytes changed on disk or in transfer loads and predicts a different map. Three checks catch it:

1. the archive's own CRC-32 of every member (:func:`check_archive`), which every model file has;
2. a SHA-256 of the whole payload written at save time (:func:`payload_digest`), which files from
   before it was introduced lack (they are still read, with check 1 alone);
3. the shapes of the preprocessing arrays and of the network's parameters against what the
   plugin builds (:func:`check_state_shapes`), which catches a file from another plugin version.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hsiviewer.errors import ModelFileError

#: The payload key holding the digest (not itself part of the digest).
DIGEST_KEY = "sha256"


def check_archive(path: Path) -> None:
    """Verify the CRC-32 of every member of the zip archive that ``torch.save`` wrote.

    Raises
    ------
    ModelFileError
        When the file is not a zip archive or a member's checksum does not match.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ModelFileError(
            f"is not an hsiviewer model file, or is damaged (not a readable archive: {exc})", path
        ) from exc
    except (OSError, RuntimeError, ValueError, NotImplementedError) as exc:  # zlib errors, encrypted, ...
        raise ModelFileError(f"is damaged; its archive cannot be read ({type(exc).__name__}: {exc})", path) from exc
    if bad is not None:
        raise ModelFileError(
            f"is damaged: the checksum of its part '{bad}' does not match what was saved "
            "(the file was changed after it was written); use a good copy",
            path,
        )


def payload_digest(payload: dict) -> str:
    """The SHA-256 (hex) of a model payload's content, every key but :data:`DIGEST_KEY`.

    Keys are taken in sorted order and tensors by dtype, shape and bytes, so the digest does not
    depend on how ``torch.save`` laid the archive out.
    """
    digest = hashlib.sha256()
    _feed(digest, {k: v for k, v in payload.items() if k != DIGEST_KEY})
    return digest.hexdigest()


def _feed(digest, value: Any) -> None:
    if isinstance(value, dict):
        digest.update(b"{")
        for key in sorted(value, key=str):
            _feed(digest, str(key))
            _feed(digest, value[key])
        digest.update(b"}")
    elif isinstance(value, (list, tuple)):
        digest.update(b"[")
        for item in value:
            _feed(digest, item)
        digest.update(b"]")
    elif isinstance(value, torch.Tensor):
        array = value.detach().cpu().contiguous()
        digest.update(f"T{array.dtype}{tuple(array.shape)}".encode())
        digest.update(array.reshape(-1).view(torch.uint8).numpy().tobytes() if array.numel() else b"")
    else:
        digest.update(f"{type(value).__name__}:{value!r}".encode())


def check_digest(payload: dict, path: Path) -> None:
    """Compare the stored digest with the content (files without one are accepted: see the module)."""
    stored = payload.get(DIGEST_KEY)
    if stored is None:
        return
    if payload_digest(payload) != stored:
        raise ModelFileError(
            "is damaged: its content does not match the SHA-256 stored when it was saved "
            "(the file was changed after it was written); use a good copy",
            path,
        )


def check_state_shapes(expected: dict, weights: dict, name: str, path: Path) -> None:
    """Refuse weights whose names or shapes differ from the state dict the plugin builds.

    Parameters
    ----------
    expected : dict
        ``net.state_dict()`` of a freshly built network.
    weights : dict
        The tensors from the file.
    name : str
        The architecture, for the message.
    """
    missing = [k for k in expected if k not in weights]
    extra = [k for k in weights if k not in expected]
    if missing or extra:
        parts = ([f"missing {', '.join(missing[:3])}"] if missing else []) + (
            [f"unexpected {', '.join(extra[:3])}"] if extra else []
        )
        raise ModelFileError(f"its weights do not fit model '{name}' ({'; '.join(parts)})", path)
    for key, tensor in expected.items():
        got = tuple(weights[key].shape)
        if got != tuple(tensor.shape):
            raise ModelFileError(
                f"its weights do not fit model '{name}': parameter '{key}' is {got} in "
                f"the file but {tuple(tensor.shape)} in the plugin",
                path,
            )


def check_preprocessor_shapes(pre, n_bands: int, path: Path) -> None:
    """Refuse preprocessing arrays whose shapes disagree with each other or with the band count."""

    def shape(a) -> tuple:
        return tuple(np.shape(a))

    problems = []
    if pre.n_bands != n_bands:
        problems.append(f"it was fitted on {pre.n_bands} bands but the model takes {n_bands}")
    if shape(pre.mean) != (pre.n_bands,):
        problems.append(f"the mean has shape {shape(pre.mean)}")
    if pre.kind == "standard" and shape(pre.scale) != (pre.n_bands,):
        problems.append(f"the scale has shape {shape(pre.scale)}")
    if pre.kind == "pca":
        k = shape(pre.components)[0] if len(shape(pre.components)) == 2 else -1
        if shape(pre.components) != (k, pre.n_bands) or shape(pre.explained_variance) != (k,):
            problems.append(
                f"the PCA components are {shape(pre.components)} and the variances {shape(pre.explained_variance)}"
            )
    if problems:
        raise ModelFileError(f"its preprocessing is inconsistent: {'; '.join(problems)}", path)
