"""Batch prediction on a real LocalCluster of 2 worker processes: the same files as `hsiviewer predict`,
a worker killed mid-run, unreadable and misfitting scenes, re-runs and cancel."""

from __future__ import annotations

import hashlib
import json
import os
import signal

import numpy as np
import pytest
import rasterio
from affine import Affine

from hsiviewer import demo_scene_path, open_scene
from hsiviewer.cli import main
from hsiviewer.cli.batch_commands import expand_scenes
from hsiviewer.engine.batch import predict_many
from hsiviewer.engine.batch_worker import TEST_DELAY_ENV
from hsiviewer.engine.bundle import save_model
from hsiviewer.engine.training import TrainConfig, train_model
from hsiviewer.errors import HsiError
from hsiviewer.progress import CancelToken

distributed = pytest.importorskip("distributed")

ROWS = [(0, 60), (40, 100), (85, 145)]


@pytest.fixture(scope="module")
def cluster():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, env={"OMP_NUM_THREADS": "1"}
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Three crops of Indian Pines (two .npz, one georeferenced GeoTIFF), an SVM and a small HybridSN."""
    folder = tmp_path_factory.mktemp("batch")
    scene = open_scene(demo_scene_path())
    cube = scene.to_array()
    paths = []
    for i, (a, b) in enumerate(ROWS[:2]):
        np.savez(folder / f"crop{i}.npz", data=cube[a:b])
        paths.append(folder / f"crop{i}.npz")
    a, b = ROWS[2]
    profile = dict(
        driver="GTiff",
        width=cube.shape[1],
        height=b - a,
        count=cube.shape[2],
        dtype="uint16",
        crs="EPSG:32616",
        transform=Affine(20.0, 0, 500_000.0, 0, -20.0, 4_500_000.0),
    )
    with rasterio.open(folder / "crop2.tif", "w", **profile) as dst:
        dst.write(cube[a:b].transpose(2, 0, 1))
    paths.append(folder / "crop2.tif")
    svm = train_model(scene, TrainConfig(model="svm_rbf", train_fraction=0.02, seed=0, hyper={"pca_components": 8}))
    save_model(svm, folder / "svm.pt")
    net = train_model(
        scene,
        TrainConfig(
            model="hybridsn",
            epochs=1,
            batch_size=64,
            train_per_class=5,
            seed=0,
            device="cpu",
            hyper={"pca_components": 16, "patch_size": 9},
        ),
    )
    save_model(net, folder / "net.pt")
    return folder, paths


def predict_cli(folder, scene, model, name):
    """What `hsiviewer predict` writes for ``scene``: (classes, confidence, aux.xml, qml, tags)."""
    out = folder / "cli"
    out.mkdir(exist_ok=True)
    assert (
        main(
            [
                "predict",
                str(scene),
                "--model",
                str(model),
                "--out",
                str(out / f"{name}.tif"),
                "--confidence",
                str(out / f"{name}_c.tif"),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    return read_outputs(out / f"{name}.tif", out / f"{name}_c.tif")


def read_outputs(path, conf):
    with rasterio.open(path) as f, rasterio.open(conf) as c:
        return (
            f.read(1),
            c.read(1),
            path.with_name(path.name + ".aux.xml").read_text(),
            path.with_suffix(".qml").read_text(),
            f.tags(),
            f.colormap(1),
            f.crs,
            f.transform,
        )


def assert_same(batch, cli, exact_confidence=True):
    np.testing.assert_array_equal(batch[0], cli[0])
    if exact_confidence:
        np.testing.assert_array_equal(batch[1], cli[1])
    else:
        # A worker runs torch on its share of the cores (one thread here) and the CLI on all of
        # them: oneDNN sums a convolution in another order, so the probabilities may differ in
        # the last bit of float32; the classes may not.
        np.testing.assert_allclose(batch[1], cli[1], rtol=1e-6, atol=0)
    assert batch[2:] == cli[2:]


def no_temporaries(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("model_name", ["svm", "net"])
def test_outputs_equal_hsiviewer_predict(cluster, files, tmp_path, model_name):
    folder, scenes = files
    model = folder / f"{model_name}.pt"
    manifest = predict_many(model, scenes, tmp_path, client=cluster, confidence=True, device="cpu", block_rows=20)
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    assert manifest["model_sha256"] == sha
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    for scene in scenes:
        record = on_disk["scenes"][str(scene)]
        assert record["status"] == "done" and record["model_sha256"] == sha and record["workers"]
        assert record["pixels_per_s"] > 0 and record["seconds"] > 0
        stem = scene.name.split(".")[0]
        batch = read_outputs(tmp_path / f"{stem}.tif", tmp_path / f"{stem}_confidence.tif")
        assert_same(batch, predict_cli(tmp_path, scene, model, stem), exact_confidence=model_name == "svm")
    assert no_temporaries(tmp_path) == []
    assert (tmp_path / "crop2.tif").exists()
    with rasterio.open(tmp_path / "crop2.tif") as f:
        assert f.crs == rasterio.crs.CRS.from_epsg(32616)


def test_a_killed_worker_changes_nothing(cluster, files, tmp_path):
    folder, scenes = files
    model = folder / "svm.pt"
    expected = {s: predict_cli(tmp_path, s, model, s.name.split(".")[0]) for s in scenes[:2]}
    out = tmp_path / "out"
    out.mkdir()
    cluster.run(lambda: os.environ.__setitem__(TEST_DELAY_ENV, "0.4"))  # slow blocks: the kill lands mid-run
    killed = []

    def kill_one(event):
        if killed:
            return
        busy = [w for w, tasks in cluster.processing().items() if tasks]
        if busy:
            killed.append(busy[0])
            pid = cluster.run(os.getpid, workers=[busy[0]])[busy[0]]
            os.kill(pid, signal.SIGKILL)  # the worker process dies with its blocks half done

    try:
        manifest = predict_many(
            model,
            scenes[:2],
            out,
            client=cluster,
            confidence=True,
            device="cpu",
            tile_rows=5,
            block_rows=5,
            progress=kill_one,
        )
    finally:
        cluster.run(lambda: os.environ.pop(TEST_DELAY_ENV, None))
    assert killed
    for scene in scenes[:2]:
        assert manifest["scenes"][str(scene)]["status"] == "done"
        stem = scene.name.split(".")[0]
        batch = read_outputs(out / f"{stem}.tif", out / f"{stem}_confidence.tif")
        np.testing.assert_array_equal(batch[0], expected[scene][0])  # tile_rows differ: classes only
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarted the killed worker


def test_cli_reports_unreadable_and_misfitting_scenes_and_writes_the_others(cluster, files, tmp_path, capsys):
    folder, scenes = files
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a scene")
    narrow = tmp_path / "narrow.npz"
    np.savez(narrow, data=np.zeros((10, 10, 50), np.uint16))
    out = tmp_path / "out"
    address = cluster.scheduler.address
    code = main(
        [
            "predict-batch",
            str(scenes[0]),
            str(bad),
            str(narrow),
            str(scenes[1]),
            "--model",
            str(folder / "svm.pt"),
            "--out-dir",
            str(out),
            "--scheduler",
            address,
            "--device",
            "cpu",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "4 scene(s): 2 done, 2 failed" in captured.out
    assert "broken.npz" in captured.err and "has 50 bands but the model expects 200" in captured.err
    assert "Traceback" not in captured.err
    assert sorted(p.name for p in out.glob("*.tif")) == ["crop0.tif", "crop1.tif"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenes"][str(bad)]["status"] == "failed" and manifest["scenes"][str(bad)]["reason"]


def test_second_run_skips_what_is_done(cluster, files, tmp_path):
    folder, scenes = files
    model = folder / "svm.pt"
    predict_many(model, scenes[:2], tmp_path, client=cluster, device="cpu")
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.tif")}
    again = predict_many(model, scenes, tmp_path, client=cluster, device="cpu")
    statuses = {os.path.basename(k): v["status"] for k, v in again["scenes"].items()}
    assert statuses == {"crop0.npz": "skipped", "crop1.npz": "skipped", "crop2.tif": "done"}
    assert all(tmp_path.joinpath(n).stat().st_mtime_ns == t for n, t in stamps.items())
    redone = predict_many(model, scenes[:1], tmp_path, client=cluster, device="cpu", overwrite=True)
    assert redone["scenes"][str(scenes[0])]["status"] == "done"
    assert tmp_path.joinpath("crop0.tif").stat().st_mtime_ns != stamps["crop0.tif"]
    # Another model is not "done": the scene is predicted again.
    other = predict_many(folder / "net.pt", scenes[1:2], tmp_path, client=cluster, device="cpu")
    assert other["scenes"][str(scenes[1])]["status"] == "done"


def test_cancel_leaves_no_partial_files(cluster, files, tmp_path):
    folder, scenes = files
    token = CancelToken()
    manifest = predict_many(
        folder / "svm.pt",
        scenes,
        tmp_path,
        client=cluster,
        confidence=True,
        device="cpu",
        tile_rows=5,
        block_rows=5,
        progress=lambda event: token.cancel(),
        cancel=token,
    )
    statuses = [manifest["scenes"][str(s)]["status"] for s in scenes]
    assert "cancelled" in statuses
    assert no_temporaries(tmp_path) == []
    for scene, status in zip(scenes, statuses):
        stem = scene.name.split(".")[0]
        assert (tmp_path / f"{stem}.tif").exists() == (status == "done")
        assert (tmp_path / f"{stem}_confidence.tif").exists() == (status == "done")
    assert json.loads((tmp_path / "manifest.json").read_text())["scenes"][str(scenes[-1])]["status"] == "cancelled"


def test_scene_list_globs_and_duplicate_names(tmp_path):
    for name in ("a.npz", "b.npz", "c.tif"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "list.txt").write_text("# scenes\nc.tif\n\na.npz\n")
    found = expand_scenes([str(tmp_path / "*.npz")], str(tmp_path / "list.txt"))
    assert [p.name for p in found] == ["a.npz", "b.npz", "c.tif"]
    with pytest.raises(HsiError, match="matches no file"):
        expand_scenes([str(tmp_path / "*.hdr")], None)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.npz").write_bytes(b"")
    with pytest.raises(HsiError, match="would both write a.tif"):
        expand_scenes([str(tmp_path / "a.npz"), str(tmp_path / "sub" / "a.npz")], None)


def test_a_scene_that_vanishes_mid_run_fails_and_the_others_are_written(cluster, files, tmp_path):
    folder, scenes = files
    doomed = tmp_path / "doomed.npz"
    doomed.write_bytes(scenes[1].read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    cluster.run(lambda: os.environ.__setitem__(TEST_DELAY_ENV, "0.3"))
    try:
        # The first block finished: the file goes before the workers reach it (it is planned last).
        manifest = predict_many(
            folder / "svm.pt",
            [scenes[0], doomed],
            out,
            client=cluster,
            device="cpu",
            tile_rows=5,
            block_rows=5,
            retries=1,
            progress=lambda event: doomed.unlink(missing_ok=True),
        )
    finally:
        cluster.run(lambda: os.environ.pop(TEST_DELAY_ENV, None))
    record = manifest["scenes"][str(doomed)]
    assert record["status"] == "failed" and "doomed.npz" in record["reason"]
    assert len(record["reason"].splitlines()) == 1
    assert manifest["scenes"][str(scenes[0])]["status"] == "done"
    assert sorted(p.name for p in out.iterdir()) == ["crop0.qml", "crop0.tif", "crop0.tif.aux.xml", "manifest.json"]
