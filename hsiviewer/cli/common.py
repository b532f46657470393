"""What every command shares: output paths checked before any work, and Ctrl-C as a cancel request."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from hsiviewer.errors import ExportError
from hsiviewer.io.atomic import check_output_path


@contextlib.contextmanager
def cancel_on_sigint(token) -> Iterator[None]:
    """Turn the first Ctrl-C into ``token.cancel()``; a second one interrupts as usual."""

    def handler(signum, frame):
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel()
        print("\nstopping after the current batch (Ctrl-C again to abort)...", file=sys.stderr)

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave Ctrl-C alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def check_writable(target) -> None:
    """Raise ExportError when ``target`` (None: nothing to check) cannot be written."""
    if target is not None:
        check_output_path(target)


def check_outputs(targets: list, inputs: list) -> None:
    """Check every output path (None: not asked for) before any work: writable, distinct, not an input."""
    seen: dict = {}
    given = {Path(p).absolute() for p in inputs if p is not None}
    for target in targets:
        if target is None:
            continue
        check_writable(target)
        key = Path(target).absolute()
        if key in given:
            raise ExportError("is also an input of this command; writing it would destroy that input", target)
        if key in seen:
            raise ExportError("is given for two outputs; they need different file names", target)
        seen[key] = True
