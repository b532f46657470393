"""Make docs/screenshot-spectral.png: a library in the spectrum plot, a SAM layer and an NDVI layer.

The library holds the mean spectra of four ground-truth classes of the demo scene; SAM (threshold
0.05 rad) is drawn over the NDVI layer, so the unmatched pixels show the index beneath.

    QT_QPA_PLATFORM=offscreen python docs/screenshot_spectral.py [OUT.png]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QApplication

from hsiviewer import demo_scene_path
from hsiviewer.gui import MainWindow
from hsiviewer.spectral.library import SpectralLibrary, scene_scale

CLASSES = ("Corn-notill", "Soybean-mintill", "Woods", "Grass-trees")


def wait_for(app: QApplication, tools, seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while tools.job is not None and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()


def main(out: str = "docs/screenshot-spectral.png") -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    win = MainWindow()
    win.resize(1500, 900)
    win.show()
    scene = win.open_scene(demo_scene_path())
    tools = win.spectral_tools
    cube = scene.to_array().astype(float)
    names = {scene.classes.name(i): i for i in scene.classes.ids}
    means = np.array([cube[scene.labels == names[n]].mean(axis=0) for n in CLASSES])
    tools.library.set_library(SpectralLibrary(list(CLASSES), means, scene.wavelengths, scene.fwhm, scene_scale(scene)))
    win.layers.get("Ground truth").set_visible(False)
    tools.band_math_dialog.choose_preset("NDVI")
    tools.band_math_dialog.colormap.setCurrentText("magma_r")  # told apart from the class colours
    tools.run_band_math()
    wait_for(app, tools)
    tools.match_dialog.threshold.setValue(0.05)
    tools.run_match()
    wait_for(app, tools)
    win.layers.get("SAM classes").set_opacity(0.9)
    win.pin_pixel(100, 30)
    win.inspect_pixel(100, 30)
    for _ in range(20):
        app.processEvents()
    win.grab().save(out)
    print(f"wrote {out} ({Path(out).stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main(*sys.argv[1:])
