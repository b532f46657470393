"""Model file integrity: a file is exactly what was saved, or it is refused at load time."""

from __future__ import annotations

import struct
import zipfile

import numpy as np
import pytest
import torch
from engine_helpers import synthetic_scene, tiny_registry

from hsiviewer.cli import main
from hsiviewer.engine.bundle import load_model, save_model
from hsiviewer.engine.inference import predict_scene
from hsiviewer.engine.model_integrity import DIGEST_KEY, payload_digest
from hsiviewer.engine.training import TrainConfig, train_model
from hsiviewer.errors import ModelFileError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def registry():
    return tiny_registry()


@pytest.fixture(scope="module")
def scene():
    return synthetic_scene()


@pytest.fixture(scope="module")
def saved(tmp_path_factory, registry, scene):
    model = train_model(scene, TrainConfig("tiny_patch", epochs=1, train_fraction=0.3, seed=2), registry=registry)
    path = tmp_path_factory.mktemp("models") / "m.hsim"
    save_model(model, path)
    return path


def _member_data_span(path, name_part: str) -> tuple[int, int]:
    """Where the bytes of the largest archive member whose name contains ``name_part`` lie."""
    with zipfile.ZipFile(path) as archive:
        info = max((i for i in archive.infolist() if name_part in i.filename), key=lambda i: i.file_size)
    raw = path.read_bytes()
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    return start, start + info.compress_size


def _flipped(path, tmp_path, positions, name="flipped.hsim"):
    data = bytearray(path.read_bytes())
    for pos in positions:
        data[pos] ^= 0x5A
    out = tmp_path / name
    out.write_bytes(bytes(data))
    return out


def test_a_saved_file_carries_a_digest_and_loads(saved, registry):
    payload = torch.load(saved, weights_only=True)
    assert payload[DIGEST_KEY] == payload_digest(payload)
    assert load_model(saved, registry=registry).spec_name == "tiny_patch"


def test_weights_with_bytes_flipped_are_refused(saved, registry, tmp_path, capsys):
    start, end = _member_data_span(saved, "data/")
    bad = _flipped(saved, tmp_path, [start + (end - start) // 2, start + (end - start) // 2 + 1])
    with pytest.raises(ModelFileError, match=r"flipped.hsim: is damaged: the checksum of its part"):
        load_model(bad, registry=registry)
    # the CLI refuses it in one line, and writes no map
    code = main(["predict", str(bad), "--model", str(bad), "--out", str(tmp_path / "map.tif")])
    assert code == 2 and not (tmp_path / "map.tif").exists()


def test_any_flipped_byte_is_refused_or_harmless(saved, registry, scene, tmp_path):
    """Flip one byte at 40 places across the file: either refused, or the same predictions."""
    reference = predict_scene(load_model(saved, registry=registry), scene, device="cpu").class_map
    size = saved.stat().st_size
    for i, pos in enumerate(np.linspace(0, size - 1, 40).astype(int)):
        bad = _flipped(saved, tmp_path, [int(pos)], name=f"f{i}.hsim")
        try:
            model = load_model(bad, registry=registry)
        except ModelFileError:
            continue
        np.testing.assert_array_equal(predict_scene(model, scene, device="cpu").class_map, reference)


def test_content_changed_behind_the_checksums_is_refused_by_the_digest(saved, registry, tmp_path):
    payload = torch.load(saved, weights_only=True)
    key = next(iter(payload["weights"]))
    payload["weights"][key] = payload["weights"][key] + 0.01  # a valid archive, different numbers
    changed = tmp_path / "changed.hsim"
    torch.save(payload, changed)
    with pytest.raises(ModelFileError, match="does not match the SHA-256"):
        load_model(changed, registry=registry)


def test_files_without_a_digest_still_load_and_are_crc_checked(saved, registry, tmp_path):
    payload = torch.load(saved, weights_only=True)
    del payload[DIGEST_KEY]
    old = tmp_path / "old.hsim"
    torch.save(payload, old)
    assert load_model(old, registry=registry).spec_name == "tiny_patch"
    start, end = _member_data_span(old, "data/")
    with pytest.raises(ModelFileError, match="checksum"):
        load_model(_flipped(old, tmp_path, [(start + end) // 2]), registry=registry)


def test_weights_of_the_wrong_shape_name_the_parameter(saved, registry, tmp_path):
    payload = torch.load(saved, weights_only=True)
    key = next(k for k, v in payload["weights"].items() if v.ndim == 4)
    payload["weights"][key] = payload["weights"][key][:, :, :2, :2].clone()
    payload[DIGEST_KEY] = payload_digest(payload)
    other = tmp_path / "other.hsim"
    torch.save(payload, other)
    with pytest.raises(ModelFileError, match=f"parameter '{key}' is .* in the file but .* in the plugin"):
        load_model(other, registry=registry)


def test_inconsistent_preprocessing_is_refused(saved, registry, tmp_path):
    payload = torch.load(saved, weights_only=True)
    payload["preprocessor"]["mean"] = payload["preprocessor"]["mean"][:-1].clone()
    payload[DIGEST_KEY] = payload_digest(payload)
    other = tmp_path / "pre.hsim"
    torch.save(payload, other)
    with pytest.raises(ModelFileError, match="preprocessing is inconsistent"):
        load_model(other, registry=registry)


def test_a_folder_is_not_a_model_file(registry, tmp_path):
    with pytest.raises(ModelFileError, match="not a regular file"):
        load_model(tmp_path, registry=registry)
