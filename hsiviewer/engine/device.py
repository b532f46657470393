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


def available_devices() -> list[tuple[str, str]]:
    """(label, torch device name) of the devices found here: CUDA GPUs, Apple MPS, then the CPU."""
    devices = []
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        for i in range(count):
            name = torch.cuda.get_device_name(i)
            devices.append((name if count == 1 else f"GPU {i}: {name}", "cuda" if count == 1 else f"cuda:{i}"))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append(("MPS (Apple GPU)", "mps"))
    devices.append((f"CPU ({torch.get_num_threads()} threads)", "cpu"))
    return devices
