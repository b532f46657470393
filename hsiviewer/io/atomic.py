"""Atomic file writes: write beside the target, then rename over it."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from hsiviewer.errors import ExportError


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``target`` on success.

    On any exception the temporary file is removed and ``target`` is left as it was.

    Parameters
    ----------
    target : str or Path
        The file to create or replace.
    suffix : str, optional
        Suffix of the temporary file (defaults to the target's, so drivers that
        look at extensions still work).

    Raises
    ------
    ExportError
        When the target's folder does not exist or cannot be written to.
    """
    target = Path(target)
    if not target.parent.is_dir():
        raise ExportError(f"the folder {target.parent} does not exist", target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix + ".part",
                                   dir=target.parent)
    except OSError as exc:
        raise ExportError(f"cannot write here ({exc.strerror})", target) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600 files; give the result the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically (UTF-8)."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
