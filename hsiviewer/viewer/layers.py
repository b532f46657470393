"""Class layers (ground truth, opened class maps, predictions) as plain evented objects.

The layers panel and the image view mirror a :class:`LayerStack`; anything that wants to
show a class map (a training panel, a script) adds a layer here and the widgets follow.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from psygnal import Signal

from hsiviewer.data.classes import UNCLASSIFIED, ClassTable


class ClassLayer:
    """One class raster drawn over the scene.

    Parameters
    ----------
    name : str
    labels : ndarray (rows, cols) of int
        Class ids, 0 = unclassified (drawn transparent).
    classes : ClassTable, optional
        Names and colours; defaults from the ids present.
    opacity : float
        0..1.
    """

    #: Emitted with ``"data"``, ``"visible"`` or ``"opacity"``.
    changed = Signal(str)

    def __init__(
        self,
        name: str,
        labels: np.ndarray,
        classes: Optional[ClassTable] = None,
        opacity: float = 0.6,
        visible: bool = True,
    ) -> None:
        self.name = name
        self.visible = bool(visible)
        self.opacity = float(opacity)
        self.labels = np.zeros((0, 0), np.int64)
        self.classes = ClassTable()
        self._counts: dict[int, int] = {}
        self._assign(labels, classes)

    def _assign(self, labels: np.ndarray, classes: Optional[ClassTable]) -> None:
        labels = np.asarray(labels)
        if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"a class layer needs a 2-D integer array, got {labels.dtype} {labels.shape}")
        self.labels = labels
        self.classes = classes if classes is not None else ClassTable.from_labels(labels)
        ids, counts = np.unique(labels, return_counts=True)
        self._counts = {int(i): int(n) for i, n in zip(ids, counts) if i != UNCLASSIFIED}

    def set_data(self, labels: np.ndarray, classes: Optional[ClassTable] = None) -> None:
        """Replace the class raster (and its class table)."""
        self._assign(labels, classes)
        self.changed.emit("data")

    def set_visible(self, visible: bool) -> None:
        """Show or hide the layer."""
        if bool(visible) != self.visible:
            self.visible = bool(visible)
            self.changed.emit("visible")

    def set_opacity(self, opacity: float) -> None:
        """Set the opacity, 0 (invisible) .. 1 (opaque)."""
        opacity = min(1.0, max(0.0, float(opacity)))
        if opacity != self.opacity:
            self.opacity = opacity
            self.changed.emit("opacity")

    def present_classes(self) -> list[tuple[int, str, tuple[int, int, int], int]]:
        """(id, name, colour, pixel count) of every class present, 0 left out, by id."""
        return [(i, self.classes.name(i), self.classes.color(i), n) for i, n in sorted(self._counts.items())]

    def class_at(self, row: int, col: int) -> tuple[int, str]:
        """The class id and name at (row, col)."""
        class_id = int(self.labels[row, col])
        return class_id, self.classes.name(class_id)

    @property
    def raster(self) -> np.ndarray:
        """The (rows, cols) array the layer draws (its class ids)."""
        return self.labels

    def rgba(self, labels: Optional[np.ndarray] = None) -> np.ndarray:
        """The layer (or ``labels``, a part of it) as a (rows, cols, 4) uint8 image; 0 is transparent."""
        labels = self.labels if labels is None else labels
        size = int(max(max(self._counts, default=0), max(self.classes.ids, default=0))) + 1
        lut = self.classes.lut(size)
        return lut[np.clip(labels, 0, size - 1)]


class LayerStack:
    """The class layers of the current scene, bottom first, and which one is selected."""

    added = Signal(object)
    removed = Signal(object)
    selection_changed = Signal(object)

    def __init__(self) -> None:
        self.layers: list[ClassLayer] = []
        self.selected: Optional[ClassLayer] = None

    def add(
        self, name: str, labels: np.ndarray, classes: Optional[ClassTable] = None, opacity: float = 0.6
    ) -> ClassLayer:
        """Add a layer on top, or replace the data of the layer already called ``name``."""
        existing = self.get(name)
        if existing is not None:
            existing.set_data(labels, classes)
            return existing
        return self.insert(ClassLayer(name, labels, classes, opacity=opacity))

    def insert(self, layer):
        """Put an already built layer on top (a :class:`ClassLayer` or another kind with its interface,
        such as :class:`~hsiviewer.viewer.continuous.ContinuousLayer`); a layer of the same name is replaced."""
        existing = self.get(layer.name)
        if existing is not None:
            self.remove(existing)
        self.layers.append(layer)
        self.added.emit(layer)
        if self.selected is None:
            self.select(layer)
        return layer

    def get(self, name: str) -> Optional[ClassLayer]:
        """The layer called ``name``, or None."""
        return next((layer for layer in self.layers if layer.name == name), None)

    def remove(self, layer: ClassLayer) -> None:
        """Take ``layer`` off the stack."""
        self.layers.remove(layer)
        self.removed.emit(layer)
        if self.selected is layer:
            self.select(self.layers[-1] if self.layers else None)

    def clear(self) -> None:
        """Remove every layer."""
        for layer in list(self.layers):
            self.remove(layer)

    def select(self, layer: Optional[ClassLayer]) -> None:
        """Make ``layer`` the selected one (the one that Export class map writes)."""
        if layer is not self.selected:
            self.selected = layer
            self.selection_changed.emit(layer)
