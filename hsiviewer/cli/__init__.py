"""The ``hsiviewer`` command line.

Each command group lives in its own module and adds its sub-parsers through ``add_parsers``;
a command's handler takes the parsed arguments and returns an exit code. Typed errors
(:class:`~hsiviewer.errors.HsiError`) are printed as one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional

from hsiviewer.errors import HsiError

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every command group."""
    from hsiviewer import __version__
    from hsiviewer.cli import (
        batch_commands,
        desktop_commands,
        model_commands,
        overview_commands,
        region_commands,
        scene_commands,
        spectral_commands,
    )

    parser = argparse.ArgumentParser(
        prog="hsiviewer",
        description="View, classify and export hyperspectral images. With no command, opens the viewer "
        "on the bundled Indian Pines demo scene.",
    )
    parser.add_argument("--version", action="version", version=f"hsiviewer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    scene_commands.add_parsers(sub)
    model_commands.add_parsers(sub)
    desktop_commands.add_parsers(sub)
    region_commands.add_parsers(sub)
    spectral_commands.add_parsers(sub)
    overview_commands.add_parsers(sub)
    batch_commands.add_parsers(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui", *(argv or [])])
    try:
        return int(args.handler(args) or 0)
    except HsiError as exc:
        print(f"hsiviewer: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("hsiviewer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a command that stopped reading (| head)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
