"""The viewer's state objects work and emit their changes without Qt (psygnal), as the widgets expect."""

import subprocess
import sys

import numpy as np
import pytest

from hsiviewer.data.classes import ClassTable
from hsiviewer.viewer.display import DisplayState
from hsiviewer.viewer.layers import LayerStack
from hsiviewer.viewer.pins import PinnedPixels
from hsiviewer.viewer.session import ModelSession


def test_view_state_modules_import_no_qt_and_no_torch():
    code = (
        "import sys\n"
        "import hsiviewer.viewer.display, hsiviewer.viewer.layers, hsiviewer.viewer.pins\n"
        "import hsiviewer.viewer.session, hsiviewer.viewer.rendering, hsiviewer.viewer.pixel_info\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'torch')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_display_state_emits_the_changed_field(demo_scene):
    state = DisplayState()
    seen: list[str] = []
    state.changed.connect(seen.append)
    state.reset(demo_scene)
    state.set_mode("band")
    state.set_band(17)
    state.set_rgb((29, 19, 9))
    state.set_stretch("minmax")
    assert seen == ["scene", "mode", "band", "rgb", "stretch"]
    assert state.band == 17 and tuple(state.rgb) == (29, 19, 9)
    with pytest.raises(ValueError):
        state.set_band(demo_scene.n_bands)
    assert seen[-1] == "stretch"  # a refused change emits nothing


def test_layer_stack_and_layers_signal_adds_removals_and_edits():
    stack = LayerStack()
    added, removed, edits = [], [], []
    stack.added.connect(added.append)
    stack.removed.connect(removed.append)
    labels = np.array([[0, 1], [2, 2]], np.uint8)
    layer = stack.add("truth", labels, ClassTable.from_labels(labels))
    layer.changed.connect(edits.append)
    layer.set_opacity(0.25)
    layer.set_visible(False)
    layer.set_visible(False)  # unchanged: no signal
    assert added == [layer] and stack.get("truth") is layer
    assert edits == ["opacity", "visible"]
    assert layer.rgba()[0, 0, 3] == 0 and layer.rgba()[1, 1, 3] > 0  # unclassified is transparent
    stack.remove(layer)
    assert removed == [layer] and stack.get("truth") is None


def test_pins_and_model_session_emit():
    pins = PinnedPixels()
    count = []
    pins.changed.connect(lambda: count.append(len(pins)))
    pin = pins.add(3, 4)
    pins.remove(pin)
    assert count == [1, 0]

    session = ModelSession()
    busy = []
    session.busy_changed.connect(busy.append)
    session.set_busy("Training hybridsn")
    session.set_busy("")
    assert busy == ["Training hybridsn", ""]
