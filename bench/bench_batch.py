"""Batch prediction on Dask: 8 scenes on 1 worker process against 2, and the Dask path's overhead.

Generates 8 ENVI BIL scenes (Indian Pines stacked to ``--rows`` rows, 145 columns, 200 bands,
int16) and one larger scene in a temporary folder (deleted at the end), then measures

* ``predict_many`` on the 8 scenes with a LocalCluster of 1 worker process and of 2 (the cluster
  started beforehand, so the figure is the batch itself; the start is printed apart): the speed-up;
* the overhead of the Dask path against plain streaming prediction on one scene: ``predict_to_file``
  in this process (what ``hsiviewer predict`` runs) against ``predict_many`` with 1 worker
  process (goal: within 10 %), and both commands end to end (``hsiviewer predict`` against
  ``hsiviewer predict-batch --workers 1``, interpreter and cluster start included).

The model is an RBF SVM on 8 whitened PCA components trained on 1 % of Indian Pines: small and
fast, so the run takes minutes on 2 cores (scikit-learn's SVM predicts on one core, so two
worker processes can use both).

    python bench/bench_batch.py            # 8 x 2,000 rows, one scene of 8,000 rows
    python bench/bench_batch.py --quick    # 8 x 300 rows, one scene of 1,200 rows
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_predict_stream import make_scene, train_small_svm
from common import REPO, indian_pines, machine, markdown_table, write_json


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rows", type=int, help="rows of each of the 8 scenes (default 2000)")
    p.add_argument("--big-rows", type=int, help="rows of the overhead scene (default 8000)")
    p.add_argument("--repeats", type=int, default=2, help="runs of each overhead measurement (the best is kept)")
    p.add_argument("--tmp", default=tempfile.gettempdir())
    p.add_argument("--json", help="also write the figures here")
    return p.parse_args()


def batch_seconds(model, scenes, out: Path, n_workers: int, figures: dict | None = None) -> tuple[float, float]:
    """(cluster start, batch) seconds with a fresh LocalCluster of ``n_workers`` processes.

    ``figures`` receives the CPU seconds the workers used during the batch and the load average:
    on a shared machine a second worker process only helps when a second core is free.
    """
    from hsiviewer.engine.batch import _local_client, predict_many

    start = time.perf_counter()
    client, cluster = _local_client(n_workers)
    client.wait_for_workers(n_workers)
    # A fresh worker process imports torch, scikit-learn and hsiviewer at its first task (seconds on
    # a loaded 2-core machine): counted with the start, so that the batch figure is the batch.
    client.run(_import_engine)
    started = time.perf_counter() - start
    try:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        cpu0 = client.run(time.process_time)
        t = time.perf_counter()
        manifest = predict_many(model, scenes, out, client=client, device="cpu")
        seconds = time.perf_counter() - t
        cpu1 = client.run(time.process_time)
        if figures is not None:
            figures["worker_cpu_s"] = sum(cpu1[w] - cpu0[w] for w in cpu0 if w in cpu1)
            figures["load_average_1min"] = os.getloadavg()[0]
    finally:
        client.close()
        cluster.close()
    bad = [k for k, v in manifest["scenes"].items() if v["status"] != "done"]
    if bad:
        raise SystemExit(f"scenes not done: {bad}")
    return started, seconds


def _import_engine() -> None:
    import sklearn.svm  # noqa: F401

    import hsiviewer.engine.batch_worker  # noqa: F401
    import hsiviewer.engine.streaming  # noqa: F401


def stream_seconds(model_path, scene_path, out: Path) -> float:
    from hsiviewer import open_scene
    from hsiviewer.engine.bundle import load_model
    from hsiviewer.engine.streaming import predict_to_file

    model, scene = load_model(model_path), open_scene(scene_path)
    t = time.perf_counter()
    predict_to_file(model, scene, out, device="cpu")
    return time.perf_counter() - t


def command_seconds(args: list[str]) -> float:
    t = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "hsiviewer", *args], cwd=REPO, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"hsiviewer {' '.join(args)} failed:\n{run.stderr}")
    return time.perf_counter() - t


def main() -> None:
    args = parse_args()
    rows = args.rows or (300 if args.quick else 2000)
    big_rows = args.big_rows or (1200 if args.quick else 8000)
    scene = indian_pines()
    cube = scene.to_array()
    per_gb = 1e9 / (cube.shape[1] * cube.shape[2] * 2)
    folder = Path(tempfile.mkdtemp(prefix="bench_batch_", dir=args.tmp))
    results: dict = {"machine": machine(), "rows": rows, "big_rows": big_rows}
    try:
        model = train_small_svm(scene, folder)
        scenes = [make_scene(folder, cube, rows / per_gb, f"scene{i}")[0] for i in range(8)]
        big = make_scene(folder, cube, big_rows / per_gb, "big")[0]
        n_pixels = 8 * rows * cube.shape[1]
        table = []
        for n in (1, 2):
            figures: dict = {}
            started, seconds = batch_seconds(model, scenes, folder / f"out{n}", n, figures)
            results[f"workers_{n}"] = {
                "cluster_start_s": started,
                "seconds": seconds,
                "pixels_per_s": n_pixels / seconds,
                **figures,
            }
            table.append(
                [
                    f"8 scenes, {n} worker process(es)",
                    f"{seconds:.1f}",
                    f"{n_pixels / seconds:,.0f}",
                    f"{started:.1f}",
                    f"{figures['worker_cpu_s']:.1f}",
                    f"{figures['load_average_1min']:.1f}",
                ]
            )
            print(table[-1], flush=True)
        speedup = results["workers_1"]["seconds"] / results["workers_2"]["seconds"]
        results["speedup_2_over_1"] = speedup
        big_pixels = big_rows * cube.shape[1]
        plain = min(stream_seconds(model, big, folder / "plain.tif") for _ in range(args.repeats))
        dask = min(batch_seconds(model, [big], folder / "dask", 1)[1] for _ in range(args.repeats))
        cli_plain = min(
            command_seconds(
                ["predict", str(big), "--model", str(model), "--out", str(folder / "cli.tif"), "--device", "cpu"]
            )
            for _ in range(args.repeats)
        )
        cli_dask = min(
            command_seconds(
                [
                    "predict-batch",
                    str(big),
                    "--model",
                    str(model),
                    "--out-dir",
                    str(folder / "cli_dask"),
                    "--workers",
                    "1",
                    "--device",
                    "cpu",
                    "--overwrite",
                ]
            )
            for _ in range(args.repeats)
        )
        results["overhead"] = {
            "plain_s": plain,
            "dask_1_worker_s": dask,
            "ratio": dask / plain,
            "cli_plain_s": cli_plain,
            "cli_dask_s": cli_dask,
            "cli_ratio": cli_dask / cli_plain,
        }
        table += [
            [
                f"1 scene {big_rows} rows: predict_to_file (hsiviewer predict)",
                f"{plain:.1f}",
                f"{big_pixels / plain:,.0f}",
                "",
                "",
                "",
            ],
            ["1 scene: predict_many, 1 worker process", f"{dask:.1f}", f"{big_pixels / dask:,.0f}", "", "", ""],
            ["1 scene: `hsiviewer predict` end to end", f"{cli_plain:.1f}", "", "", "", ""],
            ["1 scene: `hsiviewer predict-batch --workers 1` end to end", f"{cli_dask:.1f}", "", "", "", ""],
        ]
        print()
        print(
            markdown_table(
                ["run", "seconds", "pixels/s", "cluster start + imports s", "worker CPU s", "load avg"], table
            )
        )
        print(f"speed-up, 2 worker processes over 1: {speedup:.2f}x")
        print(
            f"Dask path / plain streaming on one scene: {dask / plain:.3f} (goal <= 1.10); "
            f"commands end to end: {cli_dask / cli_plain:.3f}"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    write_json(args.json, results)


if __name__ == "__main__":
    main()
