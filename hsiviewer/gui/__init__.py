"""The desktop viewer (PySide6 + pyqtgraph). Everything Qt lives in this sub-package.

Modules: :mod:`.app` (start-up, ``run_app``), :mod:`.main_window` (``MainWindow``), the view
state objects (:mod:`.display_state`, :mod:`.layer_model`, :mod:`.pins`), the canvas
(:mod:`.image_view`) and the panels (:mod:`.display_panel`, :mod:`.spectrum_panel`,
:mod:`.layers_panel`).
"""
from .qt_compat import protect_singletons

# before any other Qt call: PySide6 6.12.0 on Python 3.11 would otherwise abort the app
PYSIDE_REFCOUNT_WORKAROUND = protect_singletons()

from .main_window import MainWindow  # noqa: E402 (after the work-around above)

__all__ = ["MainWindow"]
