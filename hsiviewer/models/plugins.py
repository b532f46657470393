"""The model plugin API: declare an architecture, find plugins, look models up.

A plugin is a Python file (or an installed package's entry point in group ``hsiviewer.models``)
that decorates builders::

    from hsiviewer.models import InputKind, register_model

    @register_model("tiny_cnn", description="two 3x3 convolutions", input_kind=InputKind.PATCH,
                    defaults={"patch_size": 9, "pca_components": 20, "width": 32})
    def build(in_bands, n_classes, patch_size, width):
        ...  # return a torch.nn.Module giving logits (N, n_classes)

Discovery, registry and spec live in :mod:`.discovery`, :mod:`.registry` and :mod:`.spec`;
this module is their public face.
"""

from __future__ import annotations

from hsiviewer.models.discovery import (
    ENTRY_POINT_GROUP,
    ENV_VAR,
    default_registry,
    env_plugin_dirs,
    load_registry,
    user_plugin_dir,
)
from hsiviewer.models.registry import PluginLoadError, Registry, register_model
from hsiviewer.models.spec import InputKind, ModelSpec

__all__ = [
    "InputKind",
    "ModelSpec",
    "PluginLoadError",
    "Registry",
    "register_model",
    "load_registry",
    "default_registry",
    "user_plugin_dir",
    "env_plugin_dirs",
    "ENV_VAR",
    "ENTRY_POINT_GROUP",
]
