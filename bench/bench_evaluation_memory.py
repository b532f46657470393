"""The evaluation after training on a large scene: peak anonymous memory, streamed against before.

After fitting, training classifies the test pixels through the prediction path
(:func:`hsiviewer.engine.training.predict_test_pixels`). It used to call ``predict_scene`` with the
test pixels as the mask: the whole scene preprocessed into memory, plus its maps. It now streams
block by block (``BlockPredictor``, as ``hsiviewer predict`` does) and skips blocks without a test
pixel. This generates ENVI BIL scenes of ``--sizes-gb`` (Indian Pines stacked down, 200 bands
int16, its labels alike), takes every 50th labelled pixel as a test pixel, and runs in a subprocess
each

* ``new``: ``predict_test_pixels``, and
* ``old``: ``predict_scene(..., mask=test pixels, confidence=False)`` and the test pixels of its map,

with an RBF SVM on 30 PCA components trained on 1 % of Indian Pines. It prints the peak RssAnon
above the start of each (file pages of the memory-mapped scene are not counted), the seconds, the
ratio of the largest scene's peak to the smallest's, and whether both give the same classes.

    python bench/bench_evaluation_memory.py                  # 1 GB and 4 GB
    python bench/bench_evaluation_memory.py --sizes-gb 0.1 0.4
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_predict_stream import PeakSampler, make_scene, rss_anon_kib
from common import indian_pines, machine, write_json

EVERY = 50


def child(mode: str, path: str, out: str) -> None:
    from hsiviewer import open_scene
    from hsiviewer.engine.inference import predict_scene
    from hsiviewer.engine.training import TrainConfig, predict_test_pixels, train_model

    model = train_model(
        indian_pines(), TrainConfig(model="svm_rbf", train_fraction=0.01, seed=0, hyper={"pca_components": 30})
    )
    scene = open_scene(path)
    labels = indian_pines().labels
    stacked = np.tile(labels, (-(-scene.n_rows // labels.shape[0]), 1))[: scene.n_rows]
    test = np.flatnonzero(stacked.ravel())[::EVERY]
    model.split = dataclasses.replace(model.split, test=test)
    base, sampler, start = rss_anon_kib(), PeakSampler(), time.perf_counter()
    sampler.start()
    if mode == "new":
        predicted = predict_test_pixels(model, scene, "cpu")
    else:
        mask = np.zeros(scene.n_rows * scene.n_cols, bool)
        mask[test] = True
        pred = predict_scene(model, scene, device="cpu", mask=mask.reshape(scene.shape[:2]), confidence=False)
        predicted = pred.class_map.ravel()[test]
    peak = sampler.stop()
    np.save(out, predicted)
    print(json.dumps({"peak_mib": round((peak - base) / 1024), "seconds": round(time.perf_counter() - start, 1)}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes-gb", type=float, nargs="+", default=[1.0, 4.0])
    p.add_argument("--tmp", default=tempfile.gettempdir())
    p.add_argument("--json", help="also write the figures here")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(*args.child)
        return
    folder = Path(tempfile.mkdtemp(prefix="bench_evaluation_", dir=args.tmp))
    results = {"machine": machine(), "every_nth_labelled_pixel_tested": EVERY, "scenes": []}
    try:
        for size in args.sizes_gb:
            path, rows = make_scene(folder, indian_pines().to_array(), size)
            row = {"size_gb": round(path.stat().st_size / 1e9, 2), "shape": [rows, 145, 200]}
            for mode in ("old", "new"):
                out = folder / f"{mode}.npy"
                run = subprocess.run(
                    [sys.executable, __file__, "--child", mode, str(path), str(out)], capture_output=True, text=True
                )
                if run.returncode != 0:
                    raise SystemExit(f"{mode} failed:\n{run.stderr}")
                row[mode] = json.loads(run.stdout.strip().splitlines()[-1])
            row["same_classes"] = bool(np.array_equal(np.load(folder / "old.npy"), np.load(folder / "new.npy")))
            print(json.dumps(row), flush=True)
            results["scenes"].append(row)
            path.unlink()
        first, last = results["scenes"][0], results["scenes"][-1]
        for mode in ("old", "new"):
            results[f"{mode}_peak_ratio_largest_to_smallest"] = round(
                last[mode]["peak_mib"] / max(1, first[mode]["peak_mib"]), 2
            )
        print(json.dumps({k: v for k, v in results.items() if k.endswith("ratio_largest_to_smallest")}))
        if args.json:
            write_json(args.json, results)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
