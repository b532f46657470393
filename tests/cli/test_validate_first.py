"""Bad options and output paths are refused before any work starts, in one line, exit 2."""

from __future__ import annotations

import time

import numpy as np
import pytest
from engine_helpers import synthetic_scene

from hsiviewer.cli import main


@pytest.fixture
def scene_file(tmp_path):
    scene = synthetic_scene()
    path = tmp_path / "scene.npz"
    np.savez(path, data=scene.to_array(), labels=scene.labels)
    return path


def _train(scene_file, *extra):
    return ["train", str(scene_file), "--model", "svm_rbf", "--device", "cpu", *extra]


def test_train_out_on_a_folder_is_refused_in_under_a_second(scene_file, tmp_path, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    start = time.perf_counter()
    code = main(_train(scene_file, "--out", str(folder)))
    seconds = time.perf_counter() - start
    err = capsys.readouterr().err
    assert code == 2 and seconds < 1.0
    assert "is a folder" in err and str(folder) in err and "Traceback" not in err
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--out", "{tmp}/missing/model.hsim"], "does not exist"),
        (["--out", "{tmp}/m.hsim", "--report", "{tmp}/m.hsim"], "two outputs"),
        (["--out", "{scene}"], "also an input"),
        (["--out", "{tmp}/m.hsim", "--epochs", "0"], "epochs must be"),
        (["--out", "{tmp}/m.hsim", "--batch-size", "-3"], "batch size must be"),
        (["--out", "{tmp}/m.hsim", "--lr", "nan"], "learning rate"),
        (["--out", "{tmp}/m.hsim", "--train-fraction", "1.5"], "training fraction"),
        (["--out", "{tmp}/m.hsim", "--val-fraction", "1"], "validation fraction"),
        (["--out", "{tmp}/m.hsim", "--seed", "-1"], "seed must be"),
        (["--out", "{tmp}/m.hsim", "--set", "patch_size=4"], "patch_size"),
        (["--out", "{tmp}/m.hsim", "--set", "nonsense"], "KEY=VALUE"),
    ],
)
def test_bad_train_options_are_refused_before_training(scene_file, tmp_path, capsys, extra, message):
    extra = [e.format(tmp=tmp_path, scene=scene_file) for e in extra]
    before = scene_file.read_bytes()
    code = main(_train(scene_file, *extra))
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "m.hsim").exists() and scene_file.read_bytes() == before


@pytest.mark.parametrize(
    "labels, message",
    [
        (lambda lab: lab.astype(np.int32) * 30000, "class id 90000"),
        (lambda lab: np.zeros_like(lab), "no labelled pixels"),
        (lambda lab: lab.astype(np.int16) - 1, "negative class ids"),
    ],
)
def test_bad_ground_truth_is_refused_before_training(tmp_path, capsys, labels, message):
    scene = synthetic_scene()
    path = tmp_path / "scene.npz"
    np.savez(path, data=scene.to_array(), labels=labels(scene.labels))
    start = time.perf_counter()
    code = main(_train(path, "--out", str(tmp_path / "m.hsim")))
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert time.perf_counter() - start < 5  # refused up front, not after a fit
    assert not (tmp_path / "m.hsim").exists()


def test_predict_out_on_a_folder_and_bad_batch_size(scene_file, tmp_path, capsys):
    assert main(["predict", str(scene_file), "--model", str(tmp_path / "none.hsim"), "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert (
        main(
            [
                "predict",
                str(scene_file),
                "--model",
                str(tmp_path / "none.hsim"),
                "--out",
                str(tmp_path / "map.tif"),
                "--batch-size",
                "0",
            ]
        )
        == 2
    )
    assert "--batch-size must be at least 1" in capsys.readouterr().err


def test_evaluate_with_all_zero_labels_says_so(tmp_path, capsys):
    zeros, some = tmp_path / "zeros.npy", tmp_path / "map.npy"
    np.save(zeros, np.zeros((4, 5), np.uint8))
    np.save(some, np.ones((4, 5), np.uint8))
    assert main(["evaluate", str(some), "--labels", str(zeros)]) == 2
    err = capsys.readouterr().err
    assert "no labelled pixels" in err and "Traceback" not in err
