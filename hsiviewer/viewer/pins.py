"""Pinned pixels: the spectra a user clicked, each with its own colour.

A plain evented list; the spectrum panel draws the curves and the image view the markers.
"""

from __future__ import annotations

from dataclasses import dataclass

from psygnal import Signal

#: Curve colours of pinned spectra (bright, told apart on a dark plot; never the live grey).
PIN_COLORS = (
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
    (250, 190, 212),
)


@dataclass(frozen=True)
class Pin:
    """A pinned pixel."""

    row: int
    col: int
    color: tuple[int, int, int]

    @property
    def name(self) -> str:
        """The legend entry, ``"r, c"``."""
        return f"{self.row}, {self.col}"

    @property
    def column_name(self) -> str:
        """The CSV column name, ``"r{row}_c{col}"``."""
        return f"r{self.row}_c{self.col}"


class PinnedPixels:
    """The pinned pixels, in the order they were pinned."""

    #: Emitted after any change (pin added, removed or all cleared).
    changed = Signal()

    def __init__(self) -> None:
        self.pins: list[Pin] = []
        self._next_color = 0

    def add(self, row: int, col: int) -> Pin:
        """Pin (row, col); pinning a pixel twice returns the existing pin."""
        for pin in self.pins:
            if (pin.row, pin.col) == (row, col):
                return pin
        pin = Pin(int(row), int(col), PIN_COLORS[self._next_color % len(PIN_COLORS)])
        self._next_color += 1
        self.pins.append(pin)
        self.changed.emit()
        return pin

    def remove(self, pin: Pin) -> None:
        """Unpin ``pin``."""
        self.pins.remove(pin)
        self.changed.emit()

    def clear(self) -> None:
        """Unpin everything."""
        if self.pins:
            self.pins.clear()
        self._next_color = 0
        self.changed.emit()

    def __len__(self) -> int:
        return len(self.pins)
