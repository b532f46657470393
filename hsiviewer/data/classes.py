"""Class tables: the names and colours of the classes of a label or class-map raster."""

from __future__ import annotations

import colorsys
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

Color = tuple[int, int, int]

#: A legible qualitative palette (Tableau 20 order, then a few more) for class ids 1, 2, ...
PALETTE: tuple[Color, ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (188, 189, 34),
    (23, 190, 207),
    (174, 199, 232),
    (255, 187, 120),
    (152, 223, 138),
    (255, 152, 150),
    (197, 176, 213),
    (196, 156, 148),
    (247, 182, 210),
    (219, 219, 141),
    (158, 218, 229),
    (127, 127, 127),
    (199, 199, 199),
    (255, 255, 51),
    (166, 86, 40),
    (0, 0, 128),
    (128, 0, 0),
)

UNCLASSIFIED = 0


def default_color(class_id: int) -> Color:
    """The default colour of ``class_id``: black for 0, the palette for 1..24, then distinct hues.

    Past the palette, hues step by the golden angle (and lightness alternates), so that ids far
    apart, e.g. 12 and 300 of a uint16 map, do not share a colour as a cycling palette would make them.
    """
    if class_id == UNCLASSIFIED:
        return (0, 0, 0)
    if class_id <= len(PALETTE):
        return PALETTE[class_id - 1]
    hue = (class_id * 0.618033988749895) % 1.0
    value = 0.95 if class_id % 2 else 0.7
    rgb = colorsys.hsv_to_rgb(hue, 0.75, value)
    r, g, b = (int(round(255 * c)) for c in rgb)
    return (r, g, b)


@dataclass
class ClassTable:
    """Names and colours of classes, keyed by integer id; id 0 means unclassified.

    Attributes
    ----------
    names : dict[int, str]
    colors : dict[int, tuple[int, int, int]]
    """

    names: dict[int, str] = field(default_factory=dict)
    colors: dict[int, Color] = field(default_factory=dict)

    @classmethod
    def from_ids(
        cls, ids: Iterable[int], names: Mapping[int, str] | None = None, colors: Mapping[int, Color] | None = None
    ) -> ClassTable:
        """Build a table covering ``ids`` (0 is always included), filling gaps with defaults."""
        names = dict(names or {})
        colors = dict(colors or {})
        table = cls()
        for i in sorted({UNCLASSIFIED, *(int(i) for i in ids)}):
            table.names[i] = names.get(i) or ("Unclassified" if i == UNCLASSIFIED else f"Class {i}")
            r, g, b = (int(c) for c in tuple(colors.get(i, default_color(i)))[:3])
            table.colors[i] = (r, g, b)
        return table

    @classmethod
    def from_labels(
        cls, labels: np.ndarray, names: Mapping[int, str] | None = None, colors: Mapping[int, Color] | None = None
    ) -> ClassTable:
        """Build a table for the ids present in ``labels`` and in ``names``."""
        ids = set(np.unique(labels).astype(int).tolist()) | set(int(k) for k in (names or {}))
        return cls.from_ids(ids, names, colors)

    @property
    def ids(self) -> list[int]:
        """Class ids in increasing order, 0 included."""
        return sorted(self.names)

    def name(self, class_id: int) -> str:
        """The name of ``class_id`` (``"Class N"`` when unknown)."""
        return self.names.get(int(class_id), f"Class {int(class_id)}")

    def color(self, class_id: int) -> Color:
        """The colour of ``class_id`` (palette default when unknown)."""
        return self.colors.get(int(class_id), default_color(int(class_id)))

    def lut(self, size: int | None = None) -> np.ndarray:
        """An RGBA lookup table (size x 4, uint8): id -> colour; id 0 transparent."""
        size = size or (max(self.ids) + 1)
        lut = np.zeros((size, 4), np.uint8)
        for i in range(1, size):
            lut[i, :3] = self.color(i)
            lut[i, 3] = 255
        return lut

    def to_dict(self) -> dict:
        """A JSON-ready dict: ``{"classes": [{"id", "name", "color"}, ...]}``."""
        return {"classes": [{"id": i, "name": self.names[i], "color": list(self.color(i))} for i in self.ids]}

    @classmethod
    def from_dict(cls, data: Mapping) -> ClassTable:
        """Inverse of :meth:`to_dict`."""
        entries = data.get("classes", [])
        names = {int(e["id"]): str(e["name"]) for e in entries}
        colors = {int(e["id"]): tuple(e["color"]) for e in entries if "color" in e}
        return cls.from_ids(names, names, colors)

    def to_json(self) -> str:
        """Serialise to JSON text."""
        return json.dumps(self.to_dict(), indent=2)
