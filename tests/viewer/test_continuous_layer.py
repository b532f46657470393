"""Continuous layers without Qt: colours, transparency of nodata, the binned legend, the stack."""

import numpy as np
import pytest

from hsiviewer.viewer.continuous import ContinuousLayer, colormap_table
from hsiviewer.viewer.layers import LayerStack


def test_rgba_maps_levels_to_the_ends_of_the_colour_map_and_nan_to_transparent():
    values = np.array([[0.0, 0.5, 1.0], [np.nan, -3.0, 7.0]], np.float32)
    layer = ContinuousLayer("ndvi", values, "viridis", levels=(0.0, 1.0))
    rgba = layer.rgba()
    table = colormap_table("viridis")
    assert tuple(rgba[0, 0, :3]) == tuple(table[0]) and tuple(rgba[0, 2, :3]) == tuple(table[-1])
    assert tuple(rgba[1, 1, :3]) == tuple(table[0]) and tuple(rgba[1, 2, :3]) == tuple(table[-1])  # clipped
    assert rgba[1, 0, 3] == 0 and (rgba[0, :, 3] == 255).all()
    assert layer.class_at(0, 1) == (1, "0.5") and layer.class_at(1, 0) == (0, "")


def test_legend_bins_count_every_finite_pixel():
    values = np.linspace(0, 1, 100, dtype=np.float32).reshape(10, 10)
    values[0, 0] = np.nan
    layer = ContinuousLayer("x", values, levels=(0.0, 1.0))
    legend = layer.present_classes()
    assert len(legend) == 5 and sum(row[3] for row in legend) == 99
    assert legend[0][1] == "≤ 0.2" and legend[-1][1] == "> 0.8" and legend[2][1] == "0.4 – 0.6"


def test_stack_holds_continuous_layers_beside_class_layers():
    stack = LayerStack()
    seen = []
    stack.added.connect(seen.append)
    stack.add("classes", np.ones((2, 2), np.uint8))
    first = stack.insert(ContinuousLayer("score", np.zeros((2, 2))))
    second = stack.insert(ContinuousLayer("score", np.ones((2, 2))))  # same name: replaced
    assert [layer.name for layer in stack.layers] == ["classes", "score"] and stack.get("score") is second
    assert seen[1] is first and seen[2] is second
    with pytest.raises(ValueError, match="unknown colour map"):
        ContinuousLayer("bad", np.zeros((2, 2)), "jet")
