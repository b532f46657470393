"""Fixtures of the GUI tests: shown main windows whose error dialogs are recorded, not popped up."""

import pytest

pytest.importorskip("pytestqt")


@pytest.fixture(autouse=True)
def own_settings(tmp_path, monkeypatch):
    """Each test's windows keep their settings (recent files, layout) in a file of their own, not the user's."""
    monkeypatch.setenv("HSIVIEWER_SETTINGS", str(tmp_path / "settings.ini"))


@pytest.fixture
def errors():
    """(title, message) of every error dialog the test's windows showed."""
    return []


@pytest.fixture
def make_window(qtbot, errors):
    """``make_window(size=(1200, 800), demo=True)``: a shown ``MainWindow`` (on the demo scene unless
    ``demo`` is False) whose error dialogs go to :func:`errors`; closed with the test."""
    from hsiviewer import demo_scene_path
    from hsiviewer.gui import MainWindow

    def make(size=(1200, 800), demo=True):
        win = MainWindow()
        win.error_dialog = lambda title, text: errors.append((title, text))
        qtbot.addWidget(win)
        win.resize(*size)
        win.show()
        qtbot.waitExposed(win)
        if demo:
            assert win.open_scene(demo_scene_path()) is not None
        return win

    return make


@pytest.fixture
def window(make_window):
    """A 1200 x 800 main window showing the demo scene."""
    return make_window()
