"""Put the training tools into a main window: two docks, the Model menu, recent files, saved layout.

:func:`install` is the one call the main window makes. It uses only the window's public API
(``add_dock``, ``menuBar``, ``menus.file`` / ``menus.help`` when present, ``scene_changed``), so the
viewer does not need to know anything about training.

Nothing here imports the learning engine: the menu and the docks are there at once, and the engine
(torch, scikit-learn, the plugins) loads in the background when the training panel is first shown
(Model ▸ Train…, or a saved layout that shows it) or a model action is used.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from hsiviewer.gui.actions.model_controller import ModelController
from hsiviewer.gui.settings_store import SettingsStore

#: After the training panel becomes visible, wait this long before the engine load starts: the window's
#: first frames are painted before the load competes with them for the interpreter lock.
LOAD_DELAY_MS = 500


class ModelTools(QObject):
    """The installed training tools of one window.

    Attributes
    ----------
    controller : ModelController
    panel, results : the training and results panels
    store : SettingsStore
    ready : bool
        True once the learning engine is loaded and the panel filled.
    actions : dict[str, QAction]
        ``train``, ``predict``, ``cancel``, ``save_model``, ``open_model``, ``apply``,
        ``export_prediction``, ``export_confidence``.
    """

    def __init__(self, window, registry, store: SettingsStore) -> None:
        super().__init__(window)
        self.window, self.store = window, store
        self.controller = ModelController(window, registry, store)
        self.panel, self.results = self.controller.panel, self.controller.results
        area = Qt.DockWidgetArea.BottomDockWidgetArea
        self.train_dock = window.add_dock(self.panel, "Training", area)
        self.results_dock = window.add_dock(self.results, "Results", area)
        window.splitDockWidget(self.train_dock, self.results_dock, Qt.Orientation.Horizontal)
        window.resizeDocks([self.train_dock, self.results_dock], [780, 820], Qt.Orientation.Horizontal)
        window.resizeDocks([self.train_dock], [360], Qt.Orientation.Vertical)
        # The viewer stays as it was until the user opens the panel (Model ▸ Train…); a saved
        # layout (restored below) brings the docks back where the user left them.
        self.train_dock.hide()
        self.results_dock.hide()
        self.actions: dict[str, QAction] = {}
        self._build_model_menu()
        self._build_recent_scenes()
        session = self.controller.session
        for signal in (session.busy_changed, session.model_changed, session.prediction_changed):
            signal.connect(self._sync_actions)
        session.model_changed.connect(lambda model: model is not None and self.results_dock.show())
        self.controller.engine_loaded.connect(self._sync_actions)
        self.train_dock.visibilityChanged.connect(self._on_panel_visible)
        window.scene_changed.connect(self._on_scene)
        self._sync_actions()
        store.restore_window(window)
        window.installEventFilter(self)

    # --- menus --------------------------------------------------------------------------
    def _action(self, menu: QMenu, key: str, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        self.actions[key] = action
        return action

    def _build_model_menu(self) -> None:
        bar = self.window.menuBar()
        menu = QMenu("&Model", self.window)
        help_menu = getattr(getattr(self.window, "menus", None), "help", None)
        if help_menu is not None:
            bar.insertMenu(help_menu.menuAction(), menu)
        else:
            bar.addMenu(menu)
        self.menu = menu
        c = self.controller
        self._action(menu, "train", "&Train…", self.show_training, "Ctrl+T", "Show the training panel")
        self._action(menu, "predict", "&Predict", c.predict, "Ctrl+R", "Classify every pixel of the scene")
        self._action(menu, "cancel", "&Cancel job", c.cancel, None, "Stop training or prediction at the next batch")
        menu.addSeparator()
        self._action(menu, "save_model", "&Save model…", c.save_model, None, "Write the model to one file")
        self._action(menu, "open_model", "&Open model…", c.open_model, None, "Read a model file")
        self.recent_models = menu.addMenu("Open &recent model")
        self.recent_models.aboutToShow.connect(partial(self._fill_recent, self.recent_models, "models"))
        self._action(
            menu,
            "apply",
            "&Apply to current scene",
            c.predict,
            None,
            "Classify the scene on display with the current model (same band count needed)",
        )
        menu.addSeparator()
        self._action(
            menu,
            "export_prediction",
            "Export &predicted map…",
            c.export_prediction,
            None,
            "Write the predicted classes as a GeoTIFF with colour table",
        )
        self._action(
            menu,
            "export_confidence",
            "Export &confidence map…",
            c.export_confidence,
            None,
            "Write the probability of the predicted class as a float32 GeoTIFF",
        )

    def _build_recent_scenes(self) -> None:
        file_menu = getattr(getattr(self.window, "menus", None), "file", None)
        if file_menu is None:
            self.recent_scenes = None
            return
        menu = QMenu("Open &recent", self.window)
        actions = file_menu.actions()
        file_menu.insertMenu(actions[2] if len(actions) > 2 else None, menu)
        menu.aboutToShow.connect(partial(self._fill_recent, menu, "scenes"))
        self.recent_scenes = menu

    def _fill_recent(self, menu: QMenu, kind: str) -> None:
        menu.clear()
        paths = self.store.recent_files(kind)
        for path in paths:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            opener = self.window.open_scene_in_background if kind == "scenes" else self.controller.open_model
            action.triggered.connect(lambda _checked=False, p=path, f=opener: f(p))
        if not paths:
            menu.addAction("(none)").setEnabled(False)

    def _sync_actions(self, _changed=None) -> None:
        session = self.controller.session
        idle, has_model = not session.busy, session.model is not None
        done = session.prediction is not None and not session.prediction.cancelled
        self.actions["predict"].setEnabled(idle and has_model)
        self.actions["apply"].setEnabled(idle and has_model)
        self.actions["cancel"].setEnabled(not idle)
        self.actions["save_model"].setEnabled(has_model)
        self.actions["open_model"].setEnabled(idle)
        self.actions["export_prediction"].setEnabled(done)
        self.actions["export_confidence"].setEnabled(done and session.prediction.confidence is not None)

    # --- reactions ----------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """True once the learning engine is loaded and the panel filled."""
        return self.controller.engine_ready

    def load_engine(self) -> None:
        """Start loading the learning engine now (it loads once per process, in the background)."""
        self.controller.load_engine()

    def _on_panel_visible(self, visible: bool) -> None:
        if visible:
            self.controller.load_engine(delay_ms=LOAD_DELAY_MS)

    def show_training(self) -> None:
        """Show and raise the training panel (and the results beside it); the engine starts loading."""
        self.controller.load_engine(delay_ms=LOAD_DELAY_MS)
        self.train_dock.show()
        self.results_dock.show()
        self.train_dock.raise_()
        self.panel.train_button.setFocus()

    def _on_scene(self, scene) -> None:
        self.controller.session.set_scene(scene)
        if scene is not None and scene.path is not None:
            self.store.add_recent_file(scene.path, "scenes")

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        """On closing the window: stop the running job and remember the layout."""
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.controller.shutdown()
            self.store.save_window(self.window)
        return False


def install(window, registry=None, store: Optional[SettingsStore] = None) -> ModelTools:
    """Add the training and results docks, the Model menu and File ▸ Open recent to ``window``.

    Parameters
    ----------
    window : MainWindow
    registry : Registry, optional
        Default :func:`hsiviewer.models.default_registry`, loaded with the engine in the background
        (plugin errors are listed in the panel's log once it is there).
    store : SettingsStore, optional
        Default: ``$HSIVIEWER_SETTINGS`` or the per-user settings file.
    """
    return ModelTools(window, registry, store or SettingsStore())
