"""The model commands of the CLI: plugins, train, predict, evaluate, and their errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import rasterio

from hsiviewer import demo_scene_path, open_scene
from hsiviewer.cli import main
from hsiviewer.engine.bundle import load_model
from hsiviewer.engine.inference import predict_scene

ROWS, COLS = slice(30, 60), slice(0, 40)
SMALL = ["--set", "patch_size=9", "--set", "pca_components=16"]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A crop of Indian Pines as .npz (with labels), and a HybridSN trained on it by the CLI."""
    folder = tmp_path_factory.mktemp("cli")
    full = open_scene(demo_scene_path())
    scene = folder / "crop.npz"
    np.savez(scene, data=full.read_subregion(ROWS, COLS), labels=full.labels[ROWS, COLS])
    model, report = folder / "model.hsim", folder / "report.json"
    code = main(
        [
            "train",
            str(scene),
            "--model",
            "hybridsn",
            "--epochs",
            "2",
            "--batch-size",
            "32",
            "--train-fraction",
            "0.3",
            "--device",
            "cpu",
            *SMALL,
            "--out",
            str(model),
            "--report",
            str(report),
        ]
    )
    assert code == 0
    return folder, scene, model, report


def test_train_writes_the_model_and_report(work, capsys):
    folder, scene, model, report = work
    trained = load_model(model)
    assert trained.spec_name == "hybridsn" and trained.hyper["patch_size"] == 9
    assert len(trained.history) == 2
    data = json.loads(report.read_text())
    assert data["model"] == "hybridsn" and data["device"] == "cpu"
    assert 0.0 <= data["oa"] <= 1.0 and data["n_train"] > 0 and data["n_test"] > 0
    assert data["n_train"] + data["n_test"] == int(np.count_nonzero(open_scene(scene).labels))
    assert data["oa"] == pytest.approx(trained.metrics["oa"])


def test_predict_writes_the_same_classes_as_predict_scene(work, capsys):
    folder, scene, model, _ = work
    out, conf = folder / "map.tif", folder / "conf.tif"
    code = main(
        [
            "predict",
            str(scene),
            "--model",
            str(model),
            "--out",
            str(out),
            "--confidence",
            str(conf),
            "--device",
            "cpu",
            "--method",
            "patch",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "method patch" in text and "pixels/s" in text
    expected = predict_scene(load_model(model), open_scene(scene), method="dense", device="cpu")
    with rasterio.open(out) as src:
        np.testing.assert_array_equal(src.read(1), expected.class_map)
    with rasterio.open(conf) as src:
        np.testing.assert_allclose(src.read(1), expected.confidence, atol=1e-4)


def test_evaluate_prints_the_metrics(work, capsys):
    folder, scene, model, _ = work
    out = folder / "map_eval.tif"
    assert main(["predict", str(scene), "--model", str(model), "--out", str(out), "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out), "--labels", str(scene)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("OA ") and "Kappa" in text and "precision" in text
    assert main(["evaluate", str(out), "--labels", str(scene), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    pred = predict_scene(load_model(model), open_scene(scene), device="cpu").class_map
    labels = open_scene(scene).labels
    assert report["oa"] == pytest.approx(np.mean(pred[labels > 0] == labels[labels > 0]))
    # --model: only the test pixels of the model's split, i.e. the figure the training reported
    assert main(["evaluate", str(out), "--labels", str(scene), "--model", str(model), "--json"]) == 0
    on_test = json.loads(capsys.readouterr().out)
    trained = load_model(model)
    test = np.asarray(trained.split.test)
    assert on_test["oa"] == pytest.approx(np.mean(pred.ravel()[test] == labels.ravel()[test]))
    assert on_test["oa"] == pytest.approx(trained.metrics["oa"])


def test_plugins_lists_hybridsn(capsys):
    assert main(["plugins"]) == 0
    assert "hybridsn" in capsys.readouterr().out
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    entry = next(m for m in listing["models"] if m["name"] == "hybridsn")
    assert entry["input_kind"] == "cube" and entry["dense"] and entry["defaults"]["patch_size"] == 25


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1
    return err


def test_missing_model_file_exits_2(work, capsys):
    folder, scene, _, _ = work
    code = main(["predict", str(scene), "--model", str(folder / "nope.hsim"), "--out", str(folder / "x.tif")])
    assert code == 2 and "nope.hsim" in _error_line(capsys)
    assert not (folder / "x.tif").exists()


def test_wrong_band_count_exits_2(work, capsys):
    folder, scene, model, _ = work
    narrow = folder / "narrow.npz"
    with np.load(scene) as data:
        np.savez(narrow, data=data["data"][:, :, :100])
    code = main(["predict", str(narrow), "--model", str(model), "--out", str(folder / "y.tif")])
    assert code == 2 and "100" in _error_line(capsys)


def test_bad_training_requests_exit_2(work, capsys):
    folder, scene, _, _ = work
    base = ["train", str(scene), "--epochs", "1", "--out", str(folder / "z.hsim")]
    assert main([*base, "--model", "no-such-net"]) == 2
    assert "no-such-net" in _error_line(capsys)
    assert main([*base, "--model", "hybridsn", "--set", "depthh=3"]) == 2
    assert "depthh" in _error_line(capsys)
    assert main([*base, "--model", "hybridsn", "--set", "nonsense"]) == 2
    assert "KEY=VALUE" in _error_line(capsys)
    assert not (folder / "z.hsim").exists()


def test_the_installed_command_prints_one_line(work):
    folder, scene, _, _ = work
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "hsiviewer",
            "predict",
            str(scene),
            "--model",
            str(folder / "missing.hsim"),
            "--out",
            str(folder / "w.tif"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert run.stderr.startswith("hsiviewer: error:") and "Traceback" not in run.stderr


def test_ctrl_c_sets_the_cancel_token_then_interrupts():
    import os
    import signal

    from hsiviewer.cli.common import cancel_on_sigint
    from hsiviewer.progress import CancelToken

    token = CancelToken()
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with cancel_on_sigint(token):
            os.kill(os.getpid(), signal.SIGINT)
            assert token.cancelled  # the first Ctrl-C only asks the work to stop
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_train_refuses_an_output_folder_that_does_not_exist_before_training(tmp_path, capsys):
    from hsiviewer import demo_scene_path
    from hsiviewer.cli import main

    code = main(["train", str(demo_scene_path()), "--model", "svm_rbf", "--out", str(tmp_path / "no" / "m.pt")])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "no").exists()


def test_predict_streams_with_tile_rows(work, capsys):
    folder, scene, model, _ = work
    out, conf = folder / "tiles.tif", folder / "tiles_conf.tif"
    assert (
        main(
            [
                "predict",
                str(scene),
                "--model",
                str(model),
                "--out",
                str(out),
                "--confidence",
                str(conf),
                "--device",
                "cpu",
                "--tile-rows",
                "5",
            ]
        )
        == 0
    )
    expected = predict_scene(load_model(model), open_scene(scene), device="cpu", tile_rows=5)
    with rasterio.open(out) as src, rasterio.open(conf) as c:
        np.testing.assert_array_equal(src.read(1), expected.class_map)
        np.testing.assert_array_equal(c.read(1), expected.confidence)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary files left
