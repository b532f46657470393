"""hsiviewer: view, classify and export hyperspectral images.

The core (this package minus :mod:`hsiviewer.gui`) imports no Qt and works in a notebook::

    from hsiviewer import open_scene
    scene = open_scene("cube.hdr")
    scene.spectrum(10, 20)
"""
from hsiviewer.data.classes import ClassTable
from hsiviewer.errors import HsiError
from hsiviewer.io import open_labels, open_scene
from hsiviewer.data.resources import demo_scene_path
from hsiviewer.data.scene import Scene

__version__ = "0.1.0"

__all__ = ["open_scene", "open_labels", "Scene", "ClassTable", "HsiError", "demo_scene_path", "read_regions",
           "__version__"]


def read_regions(path, class_field=None):
    """Read training regions from a vector file: see :func:`hsiviewer.regions.vector.read_regions`.

    Imported on first use: the regions stack (shapely, pyogrio, rasterio) costs start-up time that
    the viewer and most commands do not need.
    """
    from hsiviewer.regions.vector import read_regions as _read

    return _read(path, class_field)
