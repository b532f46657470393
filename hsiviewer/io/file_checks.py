"""Refuse what is not a regular file before any reader opens it, and cubes no one can use.

Opening a FIFO (named pipe) blocks until something writes to it, so ``hsiviewer info`` on one
would hang; a device can be endless; a symbolic link loop reads as "no such file" in
:meth:`pathlib.Path.exists`. Each is named here for what it is, without opening it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Optional

import numpy as np

from hsiviewer.errors import SceneReadError

_KINDS = (
    (stat.S_ISFIFO, "FIFO (named pipe)"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)


def check_input_file(path: str | Path, what: str = "scene file") -> Path:
    """``path`` if it is an existing, non-empty regular file (links followed); else a clear refusal.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file should be, for the message ("scene file", "label raster").

    Raises
    ------
    SceneReadError
        No such file, a broken link, a link loop, a folder, a FIFO, a device, a socket, an empty
        file, or a file that cannot be read.
    """
    path = Path(path)
    try:
        info = os.stat(path)  # stat, not open: opening a FIFO would block
    except OSError as exc:
        raise SceneReadError(_stat_problem(path, exc), path) from exc
    if stat.S_ISDIR(info.st_mode):
        raise SceneReadError(f"is a folder, not a {what}", path)
    for test, kind in _KINDS:
        if test(info.st_mode):
            raise SceneReadError(
                f"is a {kind}, not a regular file; hsiviewer reads {what}s from regular files only", path
            )
    if info.st_size == 0:
        raise SceneReadError(f"is empty (0 bytes), not a {what}", path)
    if not os.access(path, os.R_OK):
        raise SceneReadError("cannot be read (permission denied)", path)
    return path


def _stat_problem(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "is a symbolic link loop (following its links leads back to a link already followed)"
    if path.is_symlink():
        return f"is a broken symbolic link (it points to {os.readlink(path)}, which does not exist)"
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno == errno.EACCES:
        return "cannot be read (permission denied)"
    return f"cannot be read ({exc.strerror or exc})"


def check_scene_array(shape: tuple, dtype, path: Optional[Path]) -> None:
    """Refuse a cube that no viewer or model can use: empty, or not plain numbers.

    Raises
    ------
    SceneReadError
        For a 0-sized axis, or a complex, structured, object, string or date dtype.
    """
    dtype = np.dtype(dtype)
    if any(int(n) == 0 for n in shape):
        raise SceneReadError(
            f"holds an empty cube ({' x '.join(str(int(n)) for n in shape)} rows x cols x "
            "bands); a scene needs at least one of each",
            path,
        )
    if dtype.kind not in "biuf":
        raise SceneReadError(
            f"holds {_dtype_words(dtype)}; a scene is a (rows, cols, bands) array of integers or real floats", path
        )


def _dtype_words(dtype: np.dtype) -> str:
    if dtype.names:
        return f"a structured array (fields {', '.join(dtype.names)})"
    return {
        "c": f"complex numbers ({dtype.name})",
        "O": "Python objects (an object array)",
        "U": "text",
        "S": "bytes",
        "M": "dates",
        "m": "time spans",
        "V": "raw bytes",
    }.get(dtype.kind, f"{dtype} values")
