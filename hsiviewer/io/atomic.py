"""Atomic file writes: write beside the target, then rename over it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

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
    if target.is_dir():
        raise ExportError("is a folder; give the name of a file to write", target)
    if not target.parent.is_dir():
        raise ExportError(f"the folder {target.parent} does not exist", target)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=suffix or target.suffix + ".part", dir=target.parent
        )
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


def check_output_path(target: str | Path) -> Path:
    """Refuse, before any work, an output path that :func:`atomic_path` could not write.

    Checked: the folder exists and is writable, and the target is not a folder, not a special
    file (FIFO, device) and, when it exists, not read-only. Long work (training, prediction)
    calls this first, so a bad ``--out`` costs a second, not the result.

    Returns
    -------
    Path

    Raises
    ------
    ExportError
    """
    target = Path(target)
    if target.is_dir():
        raise ExportError("is a folder; give the name of a file to write", target)
    folder = target.absolute().parent
    if not folder.exists():
        raise ExportError(f"the folder {folder} does not exist", target)
    if not folder.is_dir():
        raise ExportError(f"{folder} is not a folder", target)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"the folder {folder} is not writable", target)
    if target.exists() or target.is_symlink():
        if not target.is_file():
            raise ExportError(
                "exists and is not a regular file (a FIFO, a device or a broken link); it will not be replaced", target
            )
        if not os.access(target, os.W_OK):
            raise ExportError("exists and is read-only", target)
    return target


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically (UTF-8)."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
