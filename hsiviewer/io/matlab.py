"""MATLAB ``.mat`` files: v5 through :func:`scipy.io.loadmat`, v7.3 (HDF5) through h5py.

MATLAB is column-major, so a v7.3 file stores a MATLAB (rows, cols, bands) array as an HDF5
dataset of shape (bands, cols, rows). A v7.3 cube is read *lazily*: the file stays open and each
read pulls only the requested block and transposes it back (reading one band is one contiguous
slab of the file). A v5 file has no random access, so the chosen variable is loaded into memory
(only that variable, not the whole file).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import h5py
import numpy as np
import scipy.io

from hsiviewer.data.scene import Scene
from hsiviewer.errors import SceneReadError
from hsiviewer.io.numpy_io import LABEL_KEYS, scene_from_array
from hsiviewer.io.sidecar import read_sidecar
from hsiviewer.io.slicing import forward_slice

NUMERIC_CLASSES = {
    "double",
    "single",
    "logical",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
}


class MatlabH5Source:
    """Lazy (rows, cols, bands) access to a MATLAB v7.3 dataset stored as (bands, cols, rows).

    Parameters
    ----------
    path : Path
        The ``.mat`` file (kept open for reading; h5py serialises access from several threads).
    name : str
        The variable.
    """

    def __init__(self, path: Path, name: str) -> None:
        self.file = h5py.File(path, "r")
        self.dataset = self.file[name]
        self.shape = tuple(int(s) for s in self.dataset.shape[::-1])
        self.dtype = np.dtype(self.dataset.dtype)

    def read_subregion(self, rows: slice, cols: slice, bands: Sequence[int] | None = None) -> np.ndarray:
        """Return the (r, c, b) block ``[rows, cols, bands]`` in the file's dtype."""
        row_sel, row_flip = forward_slice(rows, self.shape[0])
        col_sel, col_flip = forward_slice(cols, self.shape[1])
        if bands is None:
            block = np.asarray(self.dataset[:, col_sel, row_sel]).transpose(2, 1, 0)
        else:
            n = self.shape[2]
            wanted = [int(b) for b in bands]
            if any(not -n <= b < n for b in wanted):
                raise IndexError(f"band index out of range 0..{n - 1}: {wanted}")
            wanted = [b % n for b in wanted]
            unique = sorted(set(wanted))  # h5py wants increasing, distinct indices
            if not unique:
                return np.zeros(
                    (len(range(*rows.indices(self.shape[0]))), len(range(*cols.indices(self.shape[1]))), 0), self.dtype
                )
            block = np.asarray(self.dataset[unique, col_sel, row_sel]).transpose(2, 1, 0)
            block = block[:, :, np.searchsorted(unique, wanted)]
        return np.ascontiguousarray(block[::row_flip, ::col_flip])

    def close(self) -> None:
        """Close the file."""
        self.file.close()


def list_variables(path: Path) -> tuple[str, list[tuple[str, tuple[int, ...], str]]]:
    """The format (``"v5"`` or ``"v7.3"``) and variables ``(name, MATLAB shape, MATLAB class)``.

    scipy reads v4/v5/v7 files and refuses v7.3 with ``NotImplementedError``; those are HDF5
    and are listed with h5py instead.
    """
    try:
        return "v5", [(n, tuple(s), c) for n, s, c in scipy.io.whosmat(str(path))]
    except NotImplementedError:
        pass
    except (ValueError, TypeError, OSError, scipy.io.matlab.MatReadError) as exc:
        raise SceneReadError(f"is not a readable MATLAB file ({exc})", path) from exc
    if not h5py.is_hdf5(path):
        raise SceneReadError("is neither a MATLAB v5 nor a v7.3 (HDF5) file", path)
    variables = []
    with h5py.File(path, "r") as f:
        for name, item in f.items():
            if name.startswith("#"):  # "#refs#", "#subsystem#": MATLAB's internal bookkeeping
                continue
            if isinstance(item, h5py.Dataset):
                cls = item.attrs.get("MATLAB_class", b"")
                cls = cls.decode() if isinstance(cls, bytes) else str(cls)
                if item.dtype.fields is not None:
                    cls = f"complex {cls}"
                variables.append((name, tuple(int(s) for s in item.shape[::-1]), cls))
            else:
                variables.append((name, (), "struct"))
    return "v7.3", variables


def describe(variables: list[tuple[str, tuple[int, ...], str]]) -> str:
    """``"a (145x145 double), b (3x4x5 uint8)"`` for error messages."""
    return ", ".join(f"{n} ({'x'.join(map(str, s))} {c})" for n, s, c in variables) or "no variables"


def choose_variable(path: Path, variables: list, ndim: int, variable: Optional[str], what: str) -> str:
    """The named variable, checked, or the only numeric ``ndim``-D one; errors list what is there."""
    if variable is not None:
        match = [v for v in variables if v[0] == variable]
        if not match:
            raise SceneReadError(f"has no variable '{variable}' (it has {describe(variables)})", path)
        name, shape, cls = match[0]
        if len(shape) != ndim or cls not in NUMERIC_CLASSES:
            raise SceneReadError(
                f"variable '{name}' is {'x'.join(map(str, shape))} {cls}; {what} needs a {ndim}-D numeric array", path
            )
        return name
    candidates = [v for v in variables if len(v[1]) == ndim and v[2] in NUMERIC_CLASSES]
    if len(candidates) == 1:
        return candidates[0][0]
    problem = "several" if candidates else "no"
    raise SceneReadError(
        f"holds {problem} {ndim}-D numeric arrays, so it is not clear which is {what}; "
        f"name the variable (it has {describe(variables)})",
        path,
    )


def load_variable(path: Path, fmt: str, name: str) -> np.ndarray:
    """Load one variable into memory as the MATLAB array (v7.3 transposed back)."""
    if fmt == "v5":
        return scipy.io.loadmat(str(path), variable_names=[name])[name]
    with h5py.File(path, "r") as f:
        return np.asarray(f[name][()]).T


def read_mat(path: Path, variable: Optional[str] = None) -> Scene:
    """Read a cube (rows, cols, bands) from a MATLAB v5 or v7.3 file.

    Parameters
    ----------
    path : Path
    variable : str, optional
        The variable holding the cube; by default the only 3-D numeric array.

    Returns
    -------
    Scene
        Lazy for v7.3, in memory for v5. A 2-D integer variable named ``labels``/``gt``/...
        of the same size becomes the ground truth; metadata come from a ``<stem>.json`` sidecar.

    Raises
    ------
    SceneReadError
        When the file is not a MATLAB file, or the cube is ambiguous or missing (the message
        lists the variables).
    """
    path = Path(path)
    fmt, variables = list_variables(path)
    name = choose_variable(path, variables, 3, variable, "the cube")
    cube = MatlabH5Source(path, name) if fmt == "v7.3" else load_variable(path, fmt, name)
    labels = _labels_beside(path, fmt, variables, cube.shape[:2])
    scene = scene_from_array(path, cube, labels, read_sidecar(path))
    scene.metadata.update(matlab_format=fmt, variable=name)
    return scene


def _labels_beside(path: Path, fmt: str, variables: list, shape: tuple) -> Optional[np.ndarray]:
    for key in LABEL_KEYS:
        for name, var_shape, cls in variables:
            if name == key and tuple(var_shape) == tuple(shape) and cls in NUMERIC_CLASSES:
                labels = load_variable(path, fmt, name)
                if np.issubdtype(labels.dtype, np.integer):
                    return labels
    return None
