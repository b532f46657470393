"""Writers of tiny synthetic files for the reader tests (written byte by byte, not by the readers)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

ENVI_CODES = {"uint8": 1, "int16": 2, "int32": 3, "float32": 4, "float64": 5, "uint16": 12}
INTERLEAVE_AXES = {"bsq": (2, 0, 1), "bil": (0, 2, 1), "bip": (0, 1, 2)}


def write_envi(
    folder: Path,
    cube: np.ndarray,
    interleave: str = "bsq",
    byte_order: int = 0,
    offset: int = 0,
    extra: str = "",
    name: str = "scene",
    data_suffix: str = ".bsq",
    header_name: str | None = None,
) -> tuple[Path, Path]:
    """Write ``cube`` (rows, cols, bands) as an ENVI pair; returns (header, data file)."""
    rows, cols, bands = cube.shape
    data = folder / f"{name}{data_suffix}"
    order = ">" if byte_order == 1 else "<"
    body = np.ascontiguousarray(cube.transpose(INTERLEAVE_AXES[interleave])).astype(cube.dtype.newbyteorder(order))
    data.write_bytes(b"\xab" * offset + body.tobytes())
    header = folder / (header_name or f"{name}.hdr")
    header.write_text(
        "ENVI\n"
        f"description = {{synthetic {interleave} test cube}}\n"
        f"samples = {cols}\nlines   = {rows}\nbands   = {bands}\n"
        f"header offset = {offset}\nfile type = ENVI Standard\n"
        f"data type = {ENVI_CODES[cube.dtype.name]}\ninterleave = {interleave}\n"
        f"sensor type = TestSensor\nbyte order = {byte_order}\n" + extra,
        encoding="utf-8",
    )
    return header, data


def envi_list(values) -> str:
    """``{a, b, c}`` as ENVI writes lists, over two lines like real headers."""
    items = [str(v) for v in values]
    half = len(items) // 2
    return "{\n " + ", ".join(items[:half]) + ",\n " + ", ".join(items[half:]) + "}"


def write_mat73(path: Path, variables: dict[str, np.ndarray]) -> Path:
    """Write a file laid out as MATLAB 7.3 writes one: HDF5 behind a 512-byte MAT header.

    MATLAB is column-major, so each array is stored transposed and tagged with its class.
    """
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, array in variables.items():
            array = np.asarray(array)
            cls = (
                "logical"
                if array.dtype == bool
                else {"float64": "double", "float32": "single"}.get(array.dtype.name, array.dtype.name)
            )
            stored = array.astype(np.uint8) if array.dtype == bool else array
            dataset = f.create_dataset(name, data=stored.T)
            dataset.attrs["MATLAB_class"] = np.bytes_(cls)
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    header = text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as f:
        f.write(header.ljust(512, b"\x00"))
    return path
