"""Training's data preparation on a large scene: peak anonymous memory, this branch against before.

Generates an ENVI BIL scene of ``--size-gb`` (Indian Pines stacked to many rows, 200 bands int16, with
its labels stacked alike), then runs in a subprocess each

* ``new``: :func:`hsiviewer.engine.training.prepare_data` (PCA fitted on its sample of pixels read from
  the file, preprocessed a block at a time straight into the padded cube), and
* ``old``: the code ``prepare_data`` ran before (the raw cube read whole, fitted, transformed, padded),

and prints the peak RssAnon above the start of each (HybridSN settings: PCA 16, patch 9).

    python bench/bench_train_prepare_memory.py --size-gb 1
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_predict_stream import PeakSampler, make_scene, rss_anon_kib
from common import indian_pines


def child(mode: str, path: str) -> None:
    from hsiviewer import open_scene
    from hsiviewer.engine.training import TrainConfig, prepare_data
    from hsiviewer.processing.patches import pad_cube
    from hsiviewer.processing.preprocess import Preprocessor

    scene = open_scene(path)
    labels = indian_pines().labels
    scene.labels = np.tile(labels, (-(-scene.n_rows // labels.shape[0]), 1))[: scene.n_rows]
    hyper = {"pca_components": 16, "patch_size": 9}
    config = TrainConfig(model="hybridsn", train_fraction=0.01, seed=0, hyper=hyper)
    base, sampler, start = rss_anon_kib(), PeakSampler(), time.perf_counter()
    sampler.start()
    if mode == "new":
        prepare_data(scene, config, hyper)
    else:
        raw = scene.to_array()
        valid = scene.valid_mask()
        pre = Preprocessor().fit(raw, valid, n_components=16, seed=0)
        cube = pre.transform(raw)
        del raw
        cube[~valid] = 0.0
        pad_cube(cube, 4)
    peak = sampler.stop()
    print(f"{mode}: peak RssAnon {(peak - base) / 1024:.0f} MiB above the start, {time.perf_counter() - start:.1f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size-gb", type=float, default=1.0)
    p.add_argument("--tmp", default=tempfile.gettempdir())
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(*args.child)
        return
    folder = Path(tempfile.mkdtemp(prefix="bench_prepare_", dir=args.tmp))
    try:
        path, rows = make_scene(folder, indian_pines().to_array(), args.size_gb)
        print(f"scene {rows} x 145 x 200 int16, {path.stat().st_size / 1e9:.2f} GB")
        for mode in ("old", "new"):
            run = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], capture_output=True, text=True)
            print(run.stdout.strip() or run.stderr)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
