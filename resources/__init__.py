"""Data shipped with hsiviewer: the demo scene (installed as ``hsiviewer_resources``)."""
