"""The QGIS style of a regions file: polygons filled translucently in their class colour, by ``class_id``.

QGIS reads ``<file>.qml`` beside a vector file as the layer's default style (as for the class-map
rasters of :mod:`hsiviewer.io.export_styles`), so the legend shows the class names at once.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

FILL_ALPHA = 110


def region_style(classes: Iterable) -> str:
    """The text of a ``.qml``: a categorised renderer on ``class_id``, one category per class."""
    root = ET.Element("qgis", version="3.28.0", styleCategories="Symbology")
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        type="categorizedSymbol",
        attr="class_id",
        forceraster="0",
        symbollevels="0",
        enableorderby="0",
    )
    cats = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for index, cls in enumerate(classes):
        ET.SubElement(cats, "category", value=str(cls.class_id), label=cls.name, symbol=str(index), render="true")
        symbols.append(_fill_symbol(str(index), cls.color))
    ET.SubElement(root, "blendMode").text = "0"
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode") + "\n"


def _fill_symbol(name: str, color) -> ET.Element:
    r, g, b = (int(v) for v in color[:3])
    symbol = ET.Element("symbol", type="fill", name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"})
    for key, value in (
        ("color", f"{r},{g},{b},{FILL_ALPHA}"),
        ("outline_color", f"{r},{g},{b},255"),
        ("outline_style", "solid"),
        ("outline_width", "0.6"),
        ("outline_width_unit", "MM"),
        ("style", "solid"),
    ):
        ET.SubElement(layer, "prop", k=key, v=value)
    return symbol
