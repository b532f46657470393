"""A per-user cache of scene pyramids: decimated levels stored once, read fast forever after.

Storage: one NumPy ``.npy`` file per level, band-sequential ``(bands, rows, cols)`` in the
scene's own dtype, opened as a memory map. Why this and not a GDAL ``.ovr`` or a COG: the viewer
reads one band at a time, and in a band-sequential ``.npy`` a band of a level is one contiguous
run of bytes whatever the interleave of the source (a band of a BIL or BIP ``.ovr`` is strided
over the whole file); opening is a header read, a window is a slice of a memory map (no
decompression, no GDAL call on the reading thread), and it needs no new dependency.

Levels 2 and coarser are stored (a quarter of the scene's pixels and less: about 1/12 of the
scene's size in all). Level 1 is read from the file with a stride of 2: its window on screen is
at most twice the screen's size, which the file serves quickly.

The cache lives in ``$HSIVIEWER_CACHE_DIR`` or ``$XDG_CACHE_HOME/hsiviewer/pyramids``
(``~/.cache/hsiviewer/pyramids``), one folder per scene keyed by its path, size and modification
time, and is kept under a size limit (``$HSIVIEWER_CACHE_LIMIT_GB``, 8 GB by default) by removing
the least recently used pyramids.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Optional

import numpy as np

from hsiviewer.data.scene import Scene
from hsiviewer.progress import CancelToken, ProgressCallback, ProgressEvent, check, report
from hsiviewer.viewer.levels import (
    backing_files,
    level_shape,
    prefetch,
    scene_interleave_known,
    top_level,
    window_byte_ranges,
)

#: The finest stored level.
FIRST_STORED = 2
#: Scenes smaller than this are read from the file at every level (fast enough, nothing to store).
MIN_BYTES = 256 * 2**20
DEFAULT_LIMIT_GB = 8.0
META = "pyramid.json"


def default_cache_dir() -> Path:
    """Where pyramids are kept (see the module docstring)."""
    if os.environ.get("HSIVIEWER_CACHE_DIR"):
        return Path(os.environ["HSIVIEWER_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hsiviewer" / "pyramids"


def default_limit_bytes() -> int:
    """The cache's size limit in bytes."""
    return int(float(os.environ.get("HSIVIEWER_CACHE_LIMIT_GB", DEFAULT_LIMIT_GB)) * 2**30)


def scene_bytes(scene: Scene) -> int:
    """The size of the scene's pixels in bytes."""
    return int(np.prod(scene.shape)) * scene.dtype.itemsize


def needs_pyramid(scene: Scene) -> bool:
    """True when ``scene`` is a file big enough, with levels that would be worth storing."""
    if scene.path is None or scene_bytes(scene) < MIN_BYTES:
        return False
    return top_level(scene.n_rows, scene.n_cols) >= FIRST_STORED


def _scene_files(scene: Scene) -> list[Path]:
    """The files whose change makes a pyramid stale: the scene's path and its siblings of one stem."""
    if scene.path is None:
        raise ValueError("a scene without a file has no pyramid cache entry")
    path = Path(scene.path).resolve()
    files = {path}
    data_file = scene.metadata.get("data_file")
    if data_file:
        files.add(Path(data_file).resolve())
    files.update(Path(p).resolve() for p in glob.glob(glob.escape(str(path.with_suffix(""))) + ".*"))
    return sorted(p for p in files if p.is_file())


def scene_key(scene: Scene) -> str:
    """The cache key of ``scene``: a hash of its files' paths, sizes and modification times."""
    stamp = [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in _scene_files(scene)]
    text = json.dumps([stamp, list(scene.shape), str(scene.dtype), scene.metadata.get("variable")])
    return hashlib.sha1(text.encode()).hexdigest()[:24]


class CachedPyramid:
    """The stored levels of one scene, memory-mapped.

    Parameters
    ----------
    folder : Path
        A folder written by :func:`build_pyramid`.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        meta = json.loads((self.folder / META).read_text())
        self.shape = tuple(meta["shape"])
        self._levels = {int(k): np.load(self.folder / f"level{k}.npy", mmap_mode="r") for k in meta["levels"]}

    def has(self, level: int) -> bool:
        """True when ``level`` is stored."""
        return level in self._levels

    @property
    def levels(self) -> list[int]:
        """The stored levels, finest first."""
        return sorted(self._levels)

    def read(self, level: int, band: int, rows: slice, cols: slice) -> np.ndarray:
        """Band ``band`` of ``level`` at ``[rows, cols]`` (level pixels), a copy."""
        return np.array(self._levels[level][band, rows, cols])

    def nbytes(self) -> int:
        """Bytes on disk."""
        return sum(p.stat().st_size for p in self.folder.iterdir())


def build_pyramid(
    scene: Scene,
    folder: Path,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    chunk_bytes: int = 64 * 2**20,
) -> CachedPyramid:
    """Write the stored levels of ``scene`` into ``folder`` (created; must not exist).

    Level 2 is read from the scene with a stride of 4 in row blocks of about ``chunk_bytes``;
    each coarser level is the one before it with a stride of 2 (the same pixels, see
    :mod:`hsiviewer.viewer.levels`). Memory stays at one block.

    Raises
    ------
    Cancelled
        When ``cancel`` is set; ``folder`` is then incomplete (:class:`PyramidCache` writes into a
        temporary folder and renames it only when done).
    """
    folder = Path(folder)
    folder.mkdir(parents=True)
    rows, cols, bands = scene.shape
    top = top_level(rows, cols)
    levels = list(range(FIRST_STORED, top + 1))
    first = _build_first(scene, folder, progress, cancel, chunk_bytes)
    for level in levels[1:]:
        check(cancel)
        shape = (bands,) + level_shape(rows, cols, level)
        out = np.lib.format.open_memmap(folder / f"level{level}.npy", "w+", scene.dtype, shape)
        for b in range(bands):  # band by band: the finer level is band-sequential too
            out[b] = first[b, ::2, ::2]
        del out
        _sync(folder / f"level{level}.npy")
        first = np.load(folder / f"level{level}.npy", mmap_mode="r")
    meta = {
        "shape": [rows, cols, bands],
        "dtype": str(scene.dtype),
        "levels": levels,
        "rule": "decimation: level k [i, j] = scene [i * 2**k, j * 2**k]",
        "source": str(scene.path),
        "written": time.time(),
    }
    (folder / META).write_text(json.dumps(meta))
    return CachedPyramid(folder)


def _build_first(scene: Scene, folder: Path, progress, cancel, chunk_bytes: int) -> np.ndarray:
    rows, cols, bands = scene.shape
    f = 1 << FIRST_STORED
    shape = (bands,) + level_shape(rows, cols, FIRST_STORED)
    out = np.lib.format.open_memmap(folder / f"level{FIRST_STORED}.npy", "w+", scene.dtype, shape)
    # a level row costs one source row of every band
    step = max(1, chunk_bytes // max(1, cols * bands * scene.dtype.itemsize))
    total = shape[1]
    files = backing_files(scene) if scene_interleave_known(scene) else []
    for r0 in range(0, total, step):
        check(cancel)
        r1 = min(total, r0 + step)
        if files:  # announce the block's lines so the disk reads them together, not fault by fault
            prefetch(
                scene,
                files,
                window_byte_ranges(
                    scene.shape,
                    scene.interleave,
                    scene.dtype.itemsize,
                    range(r0 * f, (r1 - 1) * f + 1, f),
                    range(0, cols),
                    None,
                ),
            )
        block = scene.read_subregion(slice(r0 * f, (r1 - 1) * f + 1, f), slice(0, cols, f))
        out[:, r0:r1, :] = np.moveaxis(block, 2, 0)
        report(progress, ProgressEvent("pyramid", r1, total, f"pyramid: {r1} of {total} rows"))
    del out
    _sync(folder / f"level{FIRST_STORED}.npy")
    return np.load(folder / f"level{FIRST_STORED}.npy", mmap_mode="r")


def _sync(path: Path) -> None:
    """Write ``path``'s pages to disk before the pyramid is renamed into place (a crash must not leave
    a complete-looking pyramid of zeros).

    ``os.fsync`` rather than ``numpy.memmap.flush``: the latter (``msync``) kept the interpreter lock
    for the whole write, 0.35 s for the 544 MB first level of an 8.7 GB flight line, and the window,
    whose thread needs the lock, froze that long.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PyramidCache:
    """The folder of stored pyramids, with a size limit and least-recently-used eviction.

    Parameters
    ----------
    root : Path, optional
        Default :func:`default_cache_dir`.
    limit_bytes : int, optional
        Default :func:`default_limit_bytes`.
    """

    def __init__(self, root: Optional[Path] = None, limit_bytes: Optional[int] = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.limit_bytes = int(limit_bytes) if limit_bytes is not None else default_limit_bytes()

    def folder(self, scene: Scene) -> Path:
        """The folder of ``scene``'s pyramid (whether or not it exists)."""
        return self.root / scene_key(scene)

    def lookup(self, scene: Scene) -> Optional[CachedPyramid]:
        """The stored pyramid of ``scene``, or None; a hit counts as a use for eviction."""
        folder = self.folder(scene)
        if not (folder / META).is_file():
            return None
        try:
            pyramid = CachedPyramid(folder)
        except (OSError, ValueError, KeyError):  # a damaged entry: build it again
            shutil.rmtree(folder, ignore_errors=True)
            return None
        os.utime(folder / META)
        return pyramid

    def build(
        self, scene: Scene, progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None
    ) -> CachedPyramid:
        """The pyramid of ``scene``, built now unless stored; then the cache is trimmed to its limit."""
        found = self.lookup(scene)
        if found is not None:
            return found
        folder = self.folder(scene)
        partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}-{time.monotonic_ns()}")
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            build_pyramid(scene, partial, progress, cancel)
            try:
                partial.rename(folder)
            except OSError:  # another process finished the same pyramid first
                shutil.rmtree(partial, ignore_errors=True)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        self.evict(keep=folder.name)
        return CachedPyramid(folder)

    def entries(self) -> list[tuple[Path, int, float]]:
        """(folder, bytes, last use) of every complete pyramid, least recently used first."""
        found = []
        if self.root.is_dir():
            for folder in self.root.iterdir():
                meta = folder / META
                if folder.is_dir() and meta.is_file():
                    size = sum(p.stat().st_size for p in folder.iterdir())
                    found.append((folder, size, meta.stat().st_mtime))
        return sorted(found, key=lambda e: e[2])

    def evict(self, keep: Optional[str] = None) -> list[Path]:
        """Remove least recently used pyramids until the cache fits its limit; returns those removed."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        removed = []
        for folder, size, _ in entries:
            if total <= self.limit_bytes:
                break
            if folder.name == keep:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            total -= size
            removed.append(folder)
        return removed

    def clear(self, scene: Optional[Scene] = None) -> int:
        """Remove ``scene``'s pyramid, or every pyramid; returns the bytes freed."""
        targets = (
            [self.folder(scene)]
            if scene is not None
            else ([p for p in self.root.iterdir() if p.is_dir()] if self.root.is_dir() else [])
        )
        freed = 0
        for folder in targets:
            if folder.is_dir():
                freed += sum(p.stat().st_size for p in folder.iterdir())
                shutil.rmtree(folder, ignore_errors=True)
        return freed
