"""Tools ▸ Mask…: a threshold of a continuous layer as the mask that display, training and prediction honour.

The mask is kept on the window as ``window.analysis_mask`` ((rows, cols) bool or None); the model
controller hands it to training (only labelled pixels inside are sampled) and prediction (pixels
outside get 0). It is drawn as an opaque layer over the pixels outside it, so they are hidden.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject

from hsiviewer.data.classes import ClassTable
from hsiviewer.gui.widgets.spectral_dialogs import MaskDialog
from hsiviewer.viewer.continuous import ContinuousLayer

MASK_LAYER = "Mask (outside hidden)"
MASK_COLOR = (24, 24, 24)


class MaskTools(QObject):
    """The mask of one window and its dialog.

    Attributes
    ----------
    dialog : MaskDialog
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        window.analysis_mask = None
        self.dialog = MaskDialog(window)
        self.dialog.apply_requested.connect(self.apply_from_dialog)
        self.dialog.clear_requested.connect(self.clear)
        window.layers.added.connect(lambda _layer: self._sync_layers())
        window.layers.removed.connect(lambda _layer: self._sync_layers())
        window.scene_changed.connect(self._on_scene)

    def _on_scene(self, _scene) -> None:
        # the layers (the mask layer with them) were cleared with the old scene
        self.window.analysis_mask = None
        self.dialog.status.setText("No mask: every pixel takes part.")

    def show(self) -> None:
        """Tools ▸ Mask…"""
        self._sync_layers()
        self.dialog.show()
        self.dialog.raise_()

    def _continuous_layers(self) -> list[ContinuousLayer]:
        return [layer for layer in self.window.layers.layers if isinstance(layer, ContinuousLayer)]

    def _sync_layers(self) -> None:
        self.dialog.set_layers([layer.name for layer in self._continuous_layers()])

    def apply_from_dialog(self) -> None:
        """The Mask dialog's Apply button."""
        d = self.dialog
        self.window.run_guarded(
            "apply the mask",
            self.apply,
            d.layer.currentText(),
            d.operator.currentData(),
            d.low.value(),
            d.high.value(),
            d.combine.currentData(),
            d.invert.isChecked(),
        )

    def apply(
        self,
        layer_name: str,
        op: str,
        low: float,
        high: float | None = None,
        how: str = "replace",
        inverted: bool = False,
    ) -> np.ndarray:
        """Threshold continuous layer ``layer_name``, combine it with the current mask and apply the result.

        Raises
        ------
        MaskError
            When there is no such continuous layer, or the threshold is invalid.
        """
        from hsiviewer.spectral.mask import MaskError, combine, invert, threshold

        layer = self.window.layers.get(layer_name)
        if not isinstance(layer, ContinuousLayer):
            raise MaskError(
                f"there is no continuous layer '{layer_name}' to threshold; compute an index (Tools ▸ "
                f"Band math…) or a matching score first"
            )
        mask = threshold(layer.values, op, low, high)
        if inverted:
            mask = invert(mask)
        current = self.window.analysis_mask
        if how != "replace" and current is not None:
            mask = combine(current, mask, how)
        self.set(mask)
        return mask

    def set(self, mask: np.ndarray | None) -> None:
        """Use ``mask`` for display, training and prediction (None: every pixel)."""
        from hsiviewer.spectral.mask import describe

        w = self.window
        if mask is not None and np.shape(mask) != w.scene.shape[:2]:
            raise ValueError(f"the mask is {np.shape(mask)} but the scene is {w.scene.shape[:2]}")
        w.analysis_mask = None if mask is None else np.asarray(mask, bool)
        existing = w.layers.get(MASK_LAYER)
        if mask is None:
            if existing is not None:
                w.layers.remove(existing)
            self.dialog.status.setText("No mask: every pixel takes part.")
            return
        outside = (~w.analysis_mask).astype(np.uint8)
        table = ClassTable.from_ids([1], {1: "outside the mask"}, {1: MASK_COLOR})
        layer = w.add_class_layer(MASK_LAYER, outside, table)
        layer.set_opacity(1.0)
        self.dialog.status.setText(f"Mask: {describe(w.analysis_mask)}; training and prediction use only these pixels.")

    def clear(self) -> None:
        """Drop the mask: every pixel is shown and used again."""
        self.set(None)
