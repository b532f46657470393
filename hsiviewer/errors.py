"""Typed errors. Each carries the file it is about and the problem in plain words."""

from __future__ import annotations

from pathlib import Path


class HsiError(Exception):
    """Base class of every error hsiviewer reports to a user.

    Parameters
    ----------
    message : str
        The problem, in plain words.
    path : str or Path, optional
        The file the problem is about; it is put in front of the message.
    """

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = None if path is None else Path(path)
        self.problem = message
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)


class SceneReadError(HsiError):
    """A scene or label file cannot be read."""


class ExportError(HsiError):
    """A result cannot be written."""


class PluginError(HsiError):
    """A model plugin is broken, missing or a duplicate."""


class ModelFileError(HsiError):
    """A model file cannot be read, or does not fit the scene it is applied to."""


class TrainingError(HsiError):
    """Training cannot start with the given data or settings."""


class Cancelled(HsiError):
    """Work was stopped through its cancel token."""


class RegionError(HsiError):
    """A file of training regions cannot be read, placed on the scene or written."""
