"""What the app remembers between runs: window layout, recent files, last training settings.

Everything goes through one :class:`QSettings` INI file:

* the file named by ``path``, or by the environment variable ``HSIVIEWER_SETTINGS`` (tests and
  portable installs use it);
* else, when the running application is hsiviewer's (``hsiviewer gui`` names it so), the per-user
  file Qt chooses for organisation and application ``hsiviewer``;
* else (the window embedded in another Qt application, a test run under pytest-qt) a temporary
  file that is dropped at exit, so that nothing leaks into, or is read from, the user's settings.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QByteArray, QCoreApplication, QSettings

ENV_VAR = "HSIVIEWER_SETTINGS"
#: The application (and organisation) name that ``hsiviewer gui`` gives its QApplication.
APP_NAME = "hsiviewer"
MAX_RECENT = 10


class SettingsStore:
    """Read and write the remembered state.

    Parameters
    ----------
    path : str or Path, optional
        An INI file to use; default: ``$HSIVIEWER_SETTINGS``, else see the module docstring.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        path = path or os.environ.get(ENV_VAR)
        self._scratch: Optional[tempfile.TemporaryDirectory] = None
        if not path and QCoreApplication.applicationName() != APP_NAME:
            self._scratch = tempfile.TemporaryDirectory(prefix="hsiviewer-settings-")
            path = Path(self._scratch.name) / "settings.ini"
        if path:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.qsettings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, APP_NAME, APP_NAME)

    @property
    def persistent(self) -> bool:
        """False when the settings live in a temporary file (not hsiviewer's own application)."""
        return self._scratch is None

    @property
    def path(self) -> str:
        """The file the settings live in."""
        return self.qsettings.fileName()

    def sync(self) -> None:
        """Write pending changes to disk now."""
        self.qsettings.sync()

    # --- window layout ------------------------------------------------------------------
    def save_window(self, window) -> None:
        """Remember the geometry of ``window`` and the places of its docks and toolbars."""
        self.qsettings.setValue("window/geometry", window.saveGeometry())
        self.qsettings.setValue("window/state", window.saveState())
        self.sync()

    def restore_window(self, window) -> bool:
        """Put ``window`` back as it was saved; False when nothing was saved (or it does not fit)."""
        geometry = self.qsettings.value("window/geometry")
        state = self.qsettings.value("window/state")
        restored = False
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            restored = bool(window.restoreGeometry(geometry))
        if isinstance(state, QByteArray) and not state.isEmpty():
            restored = bool(window.restoreState(state)) or restored
        return restored

    # --- recent files -------------------------------------------------------------------
    def recent_files(self, kind: str = "scenes") -> list[str]:
        """The files of ``kind`` (``"scenes"``, ``"models"``) opened last, newest first, existing ones only."""
        entries = self._json(f"recent/{kind}", [])
        return [p for p in entries if isinstance(p, str) and Path(p).exists()]

    def add_recent_file(self, path: str | Path, kind: str = "scenes") -> list[str]:
        """Put ``path`` first in the recent files of ``kind``; returns the new list."""
        path = str(Path(path).resolve())
        entries = [path] + [p for p in self._json(f"recent/{kind}", []) if p != path]
        self.qsettings.setValue(f"recent/{kind}", json.dumps(entries[:MAX_RECENT]))
        self.sync()
        return self.recent_files(kind)

    # --- training settings --------------------------------------------------------------
    def training_settings(self) -> dict:
        """The settings of the last training run started ({} when none)."""
        value = self._json("training/last", {})
        return value if isinstance(value, dict) else {}

    def save_training_settings(self, settings: dict) -> None:
        """Remember ``settings`` (plain JSON values) as the last training settings."""
        self.qsettings.setValue("training/last", json.dumps(settings))
        self.sync()

    def _json(self, key: str, default):
        text = self.qsettings.value(key)
        if not isinstance(text, str):
            return default
        try:
            return json.loads(text)
        except ValueError:  # a hand-edited or damaged entry: forget it rather than fail at start-up
            return default
