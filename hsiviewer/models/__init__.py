"""Model architectures as plugins: the public API a plugin file uses.

``from hsiviewer.models import register_model, InputKind`` is all a plugin needs; shared torch
building blocks are in :mod:`hsiviewer.models.layers`. Importing this package does not import torch.
"""

from hsiviewer.models.plugins import (
    InputKind,
    ModelSpec,
    PluginLoadError,
    Registry,
    default_registry,
    load_registry,
    register_model,
    user_plugin_dir,
)

__all__ = [
    "register_model",
    "InputKind",
    "ModelSpec",
    "Registry",
    "PluginLoadError",
    "load_registry",
    "default_registry",
    "user_plugin_dir",
]
