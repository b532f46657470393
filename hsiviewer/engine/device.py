"""Which torch device to train and predict on."""
from __future__ import annotations

import torch

from hsiviewer.errors import TrainingError


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for ``name``: ``"auto"`` picks CUDA, then Apple MPS, then the CPU.

    Raises
    ------
    TrainingError
        For an unknown device name or one that is not available on this machine.
    """
    name = (name or "auto").strip().lower()
    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps is not None and mps.is_available())
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if mps_ok else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise TrainingError(f"unknown device '{name}' (use auto, cpu, cuda or mps)") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TrainingError("device 'cuda' was asked for, but no CUDA GPU is available")
    if device.type == "mps" and not mps_ok:
        raise TrainingError("device 'mps' was asked for, but Apple MPS is not available")
    return device
