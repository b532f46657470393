"""The desktop viewer (PySide6 + pyqtgraph). Everything Qt lives in this sub-package.

- :mod:`.app`: start-up (``run_app``); :mod:`.main_window`: ``MainWindow``.
- :mod:`.widgets`: the canvas and the panels, each mirroring a state object of :mod:`hsiviewer.viewer`.
- :mod:`.actions`: menus, file dialogs, the Model menu and its controller.
- :mod:`.threads`: core calls on worker threads.

``MainWindow`` is imported on first use, so that importing a module of this package (a widget in a test)
does not build the whole window's import graph.
"""

from hsiviewer.gui.qt_compat import protect_singletons

# before any other Qt call: PySide6 6.12.0 on Python 3.11 would otherwise abort the app
PYSIDE_REFCOUNT_WORKAROUND = protect_singletons()

__all__ = ["MainWindow"]


def __getattr__(name: str):
    if name == "MainWindow":
        from hsiviewer.gui.main_window import MainWindow

        return MainWindow
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
