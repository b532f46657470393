"""Model architectures shipped with hsiviewer, as plugins (installed as ``hsiviewer_plugins``).

Each module here is loaded by :mod:`hsiviewer.models.plugins` exactly as a third party's plugin file would be.
"""
