"""The desktop menu entry: a freedesktop ``.desktop`` file and the app icon, for the current user.

:func:`install_desktop_entry` writes ``hsiviewer.desktop`` into ``$XDG_DATA_HOME/applications`` and the
icon into the user's ``hicolor`` icon theme (``$XDG_DATA_HOME`` defaults to ``~/.local/share``), which is
where GNOME, KDE, Xfce and the other freedesktop menus look. :func:`uninstall_desktop_entry` removes
exactly those files again. Nothing else on the machine changes; no Qt is needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hsiviewer.data.resources import resources_dir
from hsiviewer.errors import HsiError
from hsiviewer.io.atomic import atomic_path, write_text_atomic

APP_ID = "hsiviewer"
# hicolor folder -> shipped file. The SVG serves every size; the PNG is for menus that skip SVG icons.
ICONS = {"scalable/apps": "hsiviewer.svg", "256x256/apps": "hsiviewer.png"}
# GeoTIFF is TIFF to the MIME database. ENVI headers (.hdr) have no registered type of their own
# (shared-mime-info gives *.hdr to Radiance HDR images), so the entry does not claim them.
MIME_TYPES = ("image/tiff",)
# Characters that force an Exec argument into double quotes (Desktop Entry spec, "The Exec key").
_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


class DesktopEntryError(HsiError):
    """The desktop entry or its icon cannot be written or removed."""


@dataclass(frozen=True)
class EntryFiles:
    """Where the entry and its icons go for a given data folder."""

    desktop_file: Path
    icons: dict[Path, Path]  # installed icon -> shipped source

    @property
    def all(self) -> list[Path]:
        """Every file the install writes."""
        return [self.desktop_file, *self.icons]


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset or not absolute (as the spec says)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def entry_files(data_dir: Optional[Path] = None) -> EntryFiles:
    """The files of the entry under ``data_dir`` (default :func:`data_home`)."""
    data_dir = Path(data_dir) if data_dir is not None else data_home()
    icon_dir = resources_dir() / "icons"
    icons = {data_dir / "icons" / "hicolor" / sub / name: icon_dir / name for sub, name in ICONS.items()}
    return EntryFiles(data_dir / "applications" / f"{APP_ID}.desktop", icons)


def launcher_command() -> list[str]:
    """The command that starts this installation of hsiviewer.

    The ``hsiviewer`` script beside the running interpreter (a virtual environment's or pipx's ``bin/``)
    when there is one, else ``python -m hsiviewer`` with this interpreter: either way the menu starts
    the same installation that wrote the entry, whatever ``PATH`` the desktop session has.
    """
    script = Path(sys.executable).parent / APP_ID
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", APP_ID]


def quote_exec_argument(arg: str) -> str:
    """One argument of an ``Exec`` line, quoted as the Desktop Entry spec asks."""
    arg = arg.replace("%", "%%")  # a literal percent sign; %f etc. are field codes
    if not any(ch in _EXEC_RESERVED for ch in arg):
        return arg
    for ch in '\\"`$':
        arg = arg.replace(ch, "\\" + ch)
    return f'"{arg}"'


def _escape_string(value: str) -> str:
    """A value of type string: backslashes (and so the Exec quoting's own) are doubled."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def desktop_entry_text(command: Sequence[str]) -> str:
    """The ``.desktop`` file that starts ``command gui FILE``.

    ``%f``: the viewer opens one scene, so a menu or file manager passing several files starts one
    window per file rather than giving ``gui`` arguments it refuses.
    """
    exec_line = " ".join(quote_exec_argument(a) for a in [*command, "gui"]) + " %f"
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Version=1.4",
            "Name=hsiviewer",
            "GenericName=Hyperspectral Image Viewer",
            "Comment=View, classify and export hyperspectral images",
            f"TryExec={_escape_string(command[0])}",
            f"Exec={_escape_string(exec_line)}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "Categories=Science;Geography;ImageProcessing;Qt;",
            "Keywords=hyperspectral;ENVI;GeoTIFF;remote sensing;classification;spectra;",
            f"MimeType={';'.join(MIME_TYPES)};",
            f"StartupWMClass={APP_ID}",
            "",
        ]
    )


def _refresh_caches(files: EntryFiles) -> None:
    """Bring the desktop's caches up to date, where there are any.

    Menus read the files themselves; only a cache that is already there (``mimeinfo.cache`` beside the
    entry, ``icon-theme.cache`` in the theme) would go stale and hide the change. None is created, so
    that an uninstall leaves no file behind.
    """
    theme = next(iter(files.icons)).parents[2]  # .../icons/hicolor
    apps = files.desktop_file.parent
    for cache, tool in (
        (apps / "mimeinfo.cache", ["update-desktop-database", "-q", str(apps)]),
        (theme / "icon-theme.cache", ["gtk-update-icon-cache", "-q", "-f", "-t", str(theme)]),
    ):
        if cache.exists() and shutil.which(tool[0]):
            subprocess.run(tool, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def install_desktop_entry(data_dir: Optional[Path] = None, command: Optional[Sequence[str]] = None) -> list[Path]:
    """Install the menu entry and icons for the current user; returns the files written.

    Parameters
    ----------
    data_dir : Path, optional
        The XDG data folder (default :func:`data_home`).
    command : sequence of str, optional
        The command that starts hsiviewer (default :func:`launcher_command`).

    Raises
    ------
    DesktopEntryError
        When a shipped icon is missing or a file cannot be written.
    """
    files = entry_files(data_dir)
    command = list(command) if command is not None else launcher_command()
    try:
        for target, source in files.icons.items():
            if not source.is_file():
                raise DesktopEntryError("the shipped icon is missing (a broken installation?)", source)
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
        files.desktop_file.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(files.desktop_file, desktop_entry_text(command))
    except OSError as exc:
        raise DesktopEntryError(f"cannot write the desktop entry ({exc.strerror})", exc.filename) from exc
    _refresh_caches(files)
    return files.all


def uninstall_desktop_entry(data_dir: Optional[Path] = None) -> list[Path]:
    """Remove the files :func:`install_desktop_entry` writes; returns those that were there.

    Raises
    ------
    DesktopEntryError
        When a file is there but cannot be removed.
    """
    files = entry_files(data_dir)
    removed = []
    for path in files.all:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DesktopEntryError(f"cannot remove it ({exc.strerror})", path) from exc
        removed.append(path)
    _refresh_caches(files)
    return removed
