"""A table of odd and bad inputs and what the CLI must do with each: work and say what it
assumed, or refuse in one line naming the file and the problem (exit 2), never a traceback or a hang.

Every input is a tiny file generated here. The focused tests beside this one go deeper:
test_envi_headers.py (units, encodings, repeated keys), test_nonfinite.py (NaN cubes trained),
test_model_integrity.py (damaged model files), test_validate_first.py (options and outputs).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from _synth_files import write_envi

from hsiviewer.cli import main

CUBE = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4)


# --- builders: each writes one input into a folder and returns the command line --------------------
def _npy(array, **sidecar):
    def build(folder: Path) -> list[str]:
        path = folder / "scene.npy"
        np.save(path, array, allow_pickle=array.dtype == object)
        if sidecar:
            (folder / "scene.json").write_text(json.dumps(sidecar["meta"]) if "meta" in sidecar else sidecar["text"])
        return ["info", str(path)]

    return build


def _special(kind):
    def build(folder: Path) -> list[str]:
        path = folder / "scene.npy"
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "loop":
            os.symlink(folder / "b.npy", path)
            os.symlink(path, folder / "b.npy")
        elif kind == "broken":
            os.symlink(folder / "gone.npy", path)
        elif kind == "empty":
            path.write_bytes(b"")
        elif kind == "folder":
            path.mkdir()
        elif kind == "device":
            return ["info", os.devnull]
        elif kind == "fifo sidecar":
            np.save(path, CUBE)
            os.mkfifo(folder / "scene.json")
        return ["info", str(path)]

    return build


def _envi(extra="", edit=None, raw=None, cut=0):
    def build(folder: Path) -> list[str]:
        header, data = write_envi(folder, CUBE, extra=extra)
        text = header.read_text(encoding="utf-8")
        if edit:
            text = text.replace(*edit)
        header.write_bytes(raw(text) if raw else text.encode("utf-8"))
        if cut:
            data.write_bytes(data.read_bytes()[:-cut])
        return ["info", str(header)]

    return build


def _train_labels(labels):
    def build(folder: Path) -> list[str]:
        path = folder / "scene.npz"
        np.savez(path, data=np.random.default_rng(0).normal(size=(6, 6, 4)), labels=labels)
        return ["train", str(path), "--model", "svm_rbf", "--out", str(folder / "m.hsim")]

    return build


def _evaluate_zero_labels(folder: Path) -> list[str]:
    np.save(folder / "map.npy", np.ones((3, 3), np.uint8))
    np.save(folder / "gt.npy", np.zeros((3, 3), np.uint8))
    return ["evaluate", str(folder / "map.npy"), "--labels", str(folder / "gt.npy")]


def _damaged_model(folder: Path) -> list[str]:
    scene = folder / "scene.npz"
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(1, 4), 12).reshape(6, 6).astype(np.uint8)
    np.savez(scene, data=labels[:, :, None] * 10.0 + rng.normal(size=(6, 6, 4)), labels=labels)
    model = folder / "m.hsim"
    assert main(["train", str(scene), "--model", "svm_rbf", "--train-fraction", "0.5", "--out", str(model)]) == 0
    data = bytearray(model.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4] = bytes(b ^ 0xFF for b in data[middle : middle + 4])
    model.write_bytes(bytes(data))
    return ["predict", str(scene), "--model", str(model), "--out", str(folder / "map.tif")]


def _train_out_folder(folder: Path) -> list[str]:
    scene = folder / "scene.npz"
    np.savez(scene, data=np.zeros((4, 4, 3)), labels=np.ones((4, 4), np.uint8))
    return ["train", str(scene), "--model", "hybridsn", "--out", str(folder)]


NAN_CUBE = np.where(np.arange(24).reshape(2, 3, 4) == 5, np.nan, 1.5).astype(np.float32)
INF_CUBE = np.where(np.arange(24).reshape(2, 3, 4) == 5, -np.inf, 1.5).astype(np.float32)
STRUCTURED = np.zeros((2, 3, 4), dtype=[("a", "f4"), ("b", "i2")])

#: (name, builder, exit code, text the output must hold)
CASES = [
    # arrays
    ("float cube with NaN", _npy(NAN_CUBE), 0, "float32"),
    ("float cube with -inf", _npy(INF_CUBE), 0, "float32"),
    ("complex cube", _npy(np.zeros((2, 3, 4), np.complex64)), 2, "complex numbers"),
    ("structured cube", _npy(STRUCTURED), 2, "structured array (fields a, b)"),
    ("object cube", _npy(np.empty((2, 3, 4), object)), 2, "Python objects"),
    ("text cube", _npy(np.full((2, 3, 4), "x")), 2, "holds text"),
    ("0 rows", _npy(np.zeros((0, 3, 4), np.float32)), 2, "empty cube (0 x 3 x 4"),
    ("0 bands", _npy(np.zeros((2, 3, 0), np.float32)), 2, "empty cube"),
    ("2-D array", _npy(np.zeros((2, 3), np.float32)), 2, "2-D array"),
    # files that are not regular files
    ("FIFO", _special("fifo"), 2, "FIFO (named pipe)"),
    ("character device", _special("device"), 2, "character device"),
    ("symlink loop", _special("loop"), 2, "symbolic link loop"),
    ("broken symlink", _special("broken"), 2, "broken symbolic link"),
    ("empty file", _special("empty"), 2, "empty (0 bytes)"),
    ("folder", _special("folder"), 2, "is a folder"),
    ("FIFO sidecar", _special("fifo sidecar"), 2, "sidecar is not a regular file"),
    # JSON sidecars
    ("nodata null", _npy(CUBE, meta={"nodata": None}), 0, "nodata      none"),
    ("nodata number", _npy(CUBE, meta={"nodata": 7}), 0, "nodata      7"),
    ("nodata text", _npy(CUBE, meta={"nodata": "abc"}), 2, "'nodata' must be a number or null"),
    ("nodata list", _npy(CUBE, meta={"nodata": [0]}), 2, "'nodata' must be a number or null"),
    (
        "colour of two values",
        _npy(CUBE, meta={"classes": [{"id": 1, "name": "a", "color": [1, 2]}]}),
        2,
        "'classes[0].color' must be three or four",
    ),
    (
        "colour above 255",
        _npy(CUBE, meta={"classes": [{"id": 1, "name": "a", "color": [1, 2, 300]}]}),
        2,
        "'classes[0].color'",
    ),
    (
        "class id too large",
        _npy(CUBE, meta={"classes": [{"id": 70000, "name": "a"}]}),
        2,
        "'classes[0].id' must be a whole number from 0 to 65535",
    ),
    (
        "default bands out of range",
        _npy(CUBE, meta={"default_bands": [0, 1, 9]}),
        2,
        "'default_bands' must be three (or one) band indices from 0 to 3",
    ),
    (
        "band names of another count",
        _npy(CUBE, meta={"band_names": ["a", "b"]}),
        2,
        "'band_names' must be a list of 4 texts",
    ),
    ("bad bands as text", _npy(CUBE, meta={"bad_bands": ["no"] * 4}), 2, "'bad_bands'"),
    (
        "wavelength null",
        _npy(CUBE, meta={"wavelengths": [400, None, 600, 700]}),
        2,
        "'wavelengths' must be a list of 4 finite numbers",
    ),
    ("sidecar not JSON", _npy(CUBE, text="{nodata: 0"), 2, "not valid JSON"),
    ("sidecar a list", _npy(CUBE, text="[1, 2]"), 2, "must hold a JSON object"),
    # ENVI headers
    ("ENVI with BOM", _envi(raw=lambda t: b"\xef\xbb\xbf" + t.encode()), 0, "2 x 3 x 4"),
    (
        "ENVI in Latin-1",
        _envi(extra="description = {Gerät µ}\n", raw=lambda t: t.encode("latin-1")),
        0,
        "read as Latin-1",
    ),
    ("ENVI repeated description", _envi(extra="sensor type = Other\n"), 0, "'sensor type' is given 2 times"),
    ("ENVI repeated lines", _envi(extra="lines = 1\n"), 2, "gives 'lines' 2 times with different values"),
    ("ENVI repeated data type", _envi(extra="data type = 4\n"), 2, "'data type'"),
    ("ENVI 0 lines", _envi(edit=("lines   = 2", "lines   = 0")), 2, "needs at least one of each"),
    (
        "ENVI wavenumber",
        _envi(extra="wavelength units = Wavenumber\nwavelength = {10000,8000,5000,4000}\n"),
        0,
        "1000.0-2500.0 nm",
    ),
    (
        "ENVI GHz",
        _envi(extra="wavelength units = GHz\nwavelength = {1,2,3,4}\n"),
        0,
        "wavelength units 'GHz' are not a length",
    ),
    ("ENVI Unknown units", _envi(extra="wavelength units = Unknown\nwavelength = {1,2,3,4}\n"), 0, "shown by number"),
    ("ENVI short wavelength list", _envi(extra="wavelength = {1,2,3}\n"), 0, "'wavelength' has 3 values"),
    ("ENVI unclosed list", _envi(extra="wavelength = {1,2,\n"), 2, "never closed"),
    ("ENVI truncated data", _envi(cut=4), 2, "truncated"),
    ("ENVI header of binary bytes", _envi(raw=lambda t: b"\x00\x01ENVI"), 2, "not an ENVI header"),
    # ground truth
    ("label id above 65535", _train_labels(np.full((6, 6), 70000, np.int32)), 2, "class id 70000"),
    ("negative labels", _train_labels(np.full((6, 6), -1, np.int16)), 2, "negative class ids"),
    ("all-zero labels, train", _train_labels(np.zeros((6, 6), np.uint8)), 2, "no labelled pixels"),
    ("all-zero labels, evaluate", _evaluate_zero_labels, 2, "no labelled pixels"),
    # outputs and model files
    ("train --out a folder", _train_out_folder, 2, "is a folder"),
    ("model file with bytes flipped", _damaged_model, 2, "is damaged"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name, build, code, text", CASES, ids=[c[0] for c in CASES])
def test_odd_input(tmp_path, capsys, name, build, code, text):
    argv = build(tmp_path)
    capsys.readouterr()  # what building the input printed
    assert main(argv) == code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hsiviewer: error: "), err
        assert text in lines[0], err
        if argv[0] == "info":
            assert argv[1].rsplit("/", 1)[-1].split(".")[0] in lines[0]  # the message names the file
    else:
        assert text in out, out


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cube", [NAN_CUBE, INF_CUBE], ids=["NaN", "-inf"])
def test_info_json_of_a_nonfinite_cube_is_strict_json(tmp_path, capsys, cube):
    path = tmp_path / "scene.npy"
    np.save(path, cube)
    (tmp_path / "scene.json").write_text(json.dumps({"wavelengths": [400, 500, 600, 700]}))
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    json.dumps(info, allow_nan=False)
    assert info["warnings"] == [] and info["wavelength_range_nm"] == [400, 700]
