"""The desktop menu entry: what `hsiviewer desktop-entry` writes, what --uninstall removes, the app icon."""

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hsiviewer.cli import main
from hsiviewer.cli.desktop_entry import (
    desktop_entry_text,
    entry_files,
    install_desktop_entry,
    launcher_command,
    quote_exec_argument,
    uninstall_desktop_entry,
)
from hsiviewer.data.resources import resources_dir

ICONS = resources_dir() / "icons"


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def parse_exec(value: str) -> list[str]:
    """The arguments of an Exec value as a launcher reads them (Desktop Entry spec 1.4)."""
    value = re.sub(r"\\(.)", lambda m: {"s": " ", "n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), value)
    args = [
        re.sub(r"\\(.)", r"\1", quoted) if quoted or bare == "" else bare
        for quoted, bare in re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', value)
    ]
    return [arg.replace("%%", "%") if arg != "%f" else arg for arg in args]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_the_icon_ships_as_svg_and_png():
    svg = (ICONS / "hsiviewer.svg").read_text()
    assert svg.lstrip().startswith("<svg") and 'viewBox="0 0 256 256"' in svg
    png = (ICONS / "hsiviewer.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == int.from_bytes(png[20:24], "big") == 256  # IHDR size


def test_command_line_installs_entry_and_icons_under_xdg_data_home(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["desktop-entry"]) == 0
    desktop = tmp_path / "applications" / "hsiviewer.desktop"
    svg = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "hsiviewer.svg"
    png = tmp_path / "icons" / "hicolor" / "256x256" / "apps" / "hsiviewer.png"
    assert files_under(tmp_path) == sorted([desktop, svg, png])
    assert svg.read_bytes() == (ICONS / "hsiviewer.svg").read_bytes()
    assert png.read_bytes() == (ICONS / "hsiviewer.png").read_bytes()
    entry = read_entry(desktop)
    assert entry["Type"] == "Application" and entry["Name"] == "hsiviewer"
    assert entry["Icon"] == "hsiviewer" and entry["Terminal"] == "false"
    assert entry["MimeType"] == "image/tiff;"
    # the Exec line starts this very installation and passes the file on to `gui`
    assert parse_exec(entry["Exec"]) == [*launcher_command(), "gui", "%f"]
    assert entry["TryExec"] == launcher_command()[0]
    out = capsys.readouterr().out
    assert f"wrote {desktop}" in out and f"wrote {svg}" in out


def test_without_xdg_data_home_it_goes_to_local_share(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    written = install_desktop_entry()
    assert tmp_path / ".local" / "share" / "applications" / "hsiviewer.desktop" in written
    assert (tmp_path / ".local" / "share" / "icons" / "hicolor" / "scalable" / "apps" / "hsiviewer.svg").is_file()


def test_the_launcher_runs_and_prints_the_version():
    # the command the menu runs is a working hsiviewer, not just a path that exists
    run = subprocess.run([*launcher_command(), "--version"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.startswith("hsiviewer ")


def test_uninstall_removes_exactly_what_install_wrote(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    other = tmp_path / "applications" / "other.desktop"  # someone else's entry stays
    other.parent.mkdir(parents=True)
    other.write_text("[Desktop Entry]\nType=Application\nName=other\nExec=other\n")
    written = install_desktop_entry()
    assert main(["desktop-entry", "--uninstall"]) == 0
    assert files_under(tmp_path) == [other]
    out = capsys.readouterr().out
    assert all(f"removed {path}" in out for path in written)
    assert main(["desktop-entry", "--uninstall"]) == 0  # twice is fine
    assert "no hsiviewer desktop entry was installed" in capsys.readouterr().out


def test_exec_arguments_with_spaces_and_specials_are_quoted_per_spec(tmp_path):
    odd = str(tmp_path / "my apps" / 'a"b$c%d' / "hsiviewer")
    text = desktop_entry_text([odd])
    exec_value = next(line for line in text.splitlines() if line.startswith("Exec="))[len("Exec=") :]
    assert exec_value.startswith('"') and "%%d" in exec_value
    assert parse_exec(exec_value) == [odd, "gui", "%f"]
    assert quote_exec_argument("/usr/bin/hsiviewer") == "/usr/bin/hsiviewer"
    assert quote_exec_argument("100%") == "100%%"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_file_validate_accepts_the_entry(tmp_path):
    path = install_desktop_entry(tmp_path)[0]
    run = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout == "", run.stdout


@pytest.mark.skipif(shutil.which("update-desktop-database") is None, reason="desktop-file-utils not installed")
def test_an_existing_mime_cache_is_kept_up_to_date(tmp_path):
    apps = tmp_path / "applications"
    apps.mkdir()
    subprocess.run(["update-desktop-database", str(apps)], check=True)
    cache = apps / "mimeinfo.cache"
    install_desktop_entry(tmp_path)
    assert "image/tiff=hsiviewer.desktop;" in cache.read_text()
    uninstall_desktop_entry(tmp_path)
    assert "hsiviewer" not in cache.read_text()
    assert files_under(tmp_path) == [cache]


def test_entry_files_follow_the_data_folder(tmp_path):
    files = entry_files(tmp_path)
    assert files.desktop_file == tmp_path / "applications" / "hsiviewer.desktop"
    assert all(source.is_file() for source in files.icons.values())


def test_the_window_gets_the_app_icon(request):
    pytest.importorskip("pytestqt")
    request.getfixturevalue("qapp")
    from hsiviewer.gui.app import _application

    app = _application(screenshot=True)
    pixmap = app.windowIcon().pixmap(64, 64)
    assert not pixmap.isNull()
    image = pixmap.toImage()
    # the red front band at the lower left of the icon, the dark background left of it
    red = image.pixelColor(11, 30)
    assert red.red() > 180 and red.green() < 120 and red.blue() < 100, red.name()
    background = image.pixelColor(4, 32)
    assert (background.red(), background.green(), background.blue()) == (0x1D, 0x27, 0x33)


def test_the_desktop_module_imports_no_qt():
    code = (
        "import sys, hsiviewer.cli.desktop_entry, hsiviewer.cli.desktop_commands; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph')]; "
        "sys.exit(1 if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
