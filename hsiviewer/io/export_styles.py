"""The sidecar files that make a class map readable in GDAL and QGIS.

A GeoTIFF stores a colour table but not class names. GDAL keeps the names of a GeoTIFF band's
categories in its PAM file ``<map>.tif.aux.xml`` (``CategoryNames``, plus a raster attribute
table with value, colour and name columns that QGIS 3.30+ and ArcGIS read), and QGIS picks up
the paletted style ``<map>.qml`` beside the raster as the layer's default style, so the legend
shows the names at once (the habit of the EnMAP-Box).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hsiviewer.data.classes import ClassTable

# GDALRATFieldType and GDALRATFieldUsage codes (gdal.h), as GDAL writes them in PAM files.
_GFT_INTEGER, _GFT_STRING = 0, 2
_GFU_NAME, _GFU_MINMAX, _GFU_RED, _GFU_GREEN, _GFU_BLUE, _GFU_ALPHA = 2, 5, 6, 7, 8, 9

_RAT_FIELDS = (
    ("Value", _GFT_INTEGER, _GFU_MINMAX),
    ("Red", _GFT_INTEGER, _GFU_RED),
    ("Green", _GFT_INTEGER, _GFU_GREEN),
    ("Blue", _GFT_INTEGER, _GFU_BLUE),
    ("Alpha", _GFT_INTEGER, _GFU_ALPHA),
    ("Class_Name", _GFT_STRING, _GFU_NAME),
)


def category_names(classes: ClassTable) -> list[str]:
    """Names by value from 0 to the largest id; ids the table does not know get ``""``.

    GDAL's category names are positional (entry *i* names value *i*), so gaps need an entry.
    """
    return [classes.names.get(i, "") for i in range(max(classes.ids) + 1)]


def pam_xml(classes: ClassTable, band_description: str = "class") -> str:
    """The text of ``<map>.aux.xml``: category names and a thematic attribute table for band 1."""
    root = ET.Element("PAMDataset")
    band = ET.SubElement(root, "PAMRasterBand", band="1")
    ET.SubElement(band, "Description").text = band_description
    names = ET.SubElement(band, "CategoryNames")
    for name in category_names(classes):
        ET.SubElement(names, "Category").text = name
    rat = ET.SubElement(band, "GDALRasterAttributeTable", tableType="thematic")
    for index, (field, ftype, usage) in enumerate(_RAT_FIELDS):
        defn = ET.SubElement(rat, "FieldDefn", index=str(index))
        ET.SubElement(defn, "Name").text = field
        ET.SubElement(defn, "Type").text = str(ftype)
        ET.SubElement(defn, "Usage").text = str(usage)
    for row_index, class_id in enumerate(classes.ids):
        r, g, b, a = rgba(classes, class_id)
        row = ET.SubElement(rat, "Row", index=str(row_index))
        for value in (class_id, r, g, b, a, classes.names[class_id]):
            ET.SubElement(row, "F").text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def qgis_style(classes: ClassTable, band: int = 1) -> str:
    """The text of ``<map>.qml``: a QGIS paletted renderer with one entry per class (not 0)."""
    root = ET.Element(
        "qgis",
        version="3.28.0",
        styleCategories="AllStyleCategories",
        hasScaleBasedVisibilityFlag="0",
        minScale="1e+08",
        maxScale="0",
    )
    pipe = ET.SubElement(root, "pipe")
    renderer = ET.SubElement(
        pipe, "rasterrenderer", type="paletted", band=str(band), opacity="1", alphaBand="-1", nodataColor=""
    )
    ET.SubElement(renderer, "rasterTransparency")
    palette = ET.SubElement(renderer, "colorPalette")
    for class_id in classes.ids:
        if class_id == 0:
            continue  # 0 is nodata: QGIS draws it transparent anyway
        r, g, b, a = rgba(classes, class_id)
        ET.SubElement(
            palette,
            "paletteEntry",
            value=str(class_id),
            color=f"#{r:02x}{g:02x}{b:02x}",
            label=classes.names[class_id],
            alpha=str(a),
        )
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(
        pipe,
        "huesaturation",
        saturation="0",
        grayscaleMode="0",
        colorizeOn="0",
        colorizeRed="255",
        colorizeGreen="128",
        colorizeBlue="128",
        colorizeStrength="100",
    )
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(root, "blendMode").text = "0"
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode") + "\n"


def rgba(classes: ClassTable, class_id: int) -> tuple[int, int, int, int]:
    """The colour of ``class_id`` with alpha: 0 (unclassified) is transparent black."""
    if class_id == 0:
        return (0, 0, 0, 0)
    r, g, b = classes.color(class_id)
    return (int(r), int(g), int(b), 255)
