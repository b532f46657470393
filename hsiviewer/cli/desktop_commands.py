"""The ``desktop-entry`` command: put hsiviewer into the desktop's application menu, or take it out."""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add ``desktop-entry`` to the ``hsiviewer`` sub-parsers."""
    p = sub.add_parser(
        "desktop-entry",
        help="add hsiviewer (with its icon) to the application menu of the current user",
        description="Write hsiviewer.cli.desktop_entry to $XDG_DATA_HOME/applications and the icon to the user's "
        "hicolor icon theme ($XDG_DATA_HOME defaults to ~/.local/share). The entry starts "
        "this installation of hsiviewer and opens a file passed to it.",
    )
    p.add_argument("--uninstall", action="store_true", help="remove exactly the files it installs")
    p.set_defaults(handler=run_desktop_entry)


def run_desktop_entry(args: argparse.Namespace) -> int:
    """Install or remove the entry and list the files."""
    from hsiviewer.cli.desktop_entry import (
        install_desktop_entry,
        launcher_command,
        uninstall_desktop_entry,
    )

    if args.uninstall:
        removed = uninstall_desktop_entry()
        for path in removed:
            print(f"removed {path}")
        if not removed:
            print("no hsiviewer desktop entry was installed")
        return 0
    for path in install_desktop_entry():
        print(f"wrote {path}")
    print(f"the menu entry starts: {' '.join(launcher_command())} gui FILE")
    return 0
