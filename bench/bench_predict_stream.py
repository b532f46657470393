"""Streaming prediction against today's in-memory path: peak anonymous memory on a 1 GB and a 4 GB scene.

Generates two ENVI BIL scenes by stacking the Indian Pines cube (145 columns, 200 bands, int16) to
many rows (written in chunks into a temporary folder, deleted at the end), then classifies each

* with ``predict_to_file`` (streaming: block by block, the new path), and
* with ``predict_scene`` + ``write_class_map`` (today's path: the whole preprocessed cube and the
  maps in memory),

each in a subprocess of its own so that the peaks are separate. A thread samples ``RssAnon`` from
``/proc/self/status`` every 10 ms (file-backed pages of the memory-mapped scene are not counted:
they are the page cache's, not the process's). Prints the peak of each, the 4 GB / 1 GB ratio
(goal for streaming: at most 1.2) and pixels/s. Then checks on Indian Pines that the streamed
GeoTIFFs equal today's files pixel for pixel (SVM, and a small HybridSN, dense and per patch).

The model is an RBF SVM on 8 whitened PCA components trained on 1 % of Indian Pines (about 100
support vectors): small and fast, so the run takes minutes on 2 cores. The in-memory path is
skipped on a scene whose estimated footprint exceeds ``--max-memory-gb``.

    python bench/bench_predict_stream.py              # 1 GB and 4 GB
    python bench/bench_predict_stream.py --quick      # 0.05 GB and 0.2 GB
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from common import indian_pines, machine, markdown_table, write_json

HERE = Path(__file__).resolve().parent


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="0.05 GB and 0.2 GB scenes")
    p.add_argument("--sizes-gb", type=float, nargs="+", help="scene sizes (default 1 4)")
    p.add_argument("--tmp", default=tempfile.gettempdir(), help="where the scenes are generated")
    p.add_argument(
        "--max-memory-gb",
        type=float,
        default=16.0,
        help="skip the in-memory path when its estimated footprint is larger",
    )
    p.add_argument("--confidence", action="store_true", help="also write the confidence maps")
    p.add_argument("--json", help="also write the figures here")
    p.add_argument("--child", choices=("stream", "memory"), help=argparse.SUPPRESS)
    p.add_argument("--scene", help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    return p.parse_args()


# --- the measured child process --------------------------------------------------------------
def rss_anon_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


class PeakSampler(threading.Thread):
    """Samples RssAnon every ``interval`` seconds and keeps the peak."""

    def __init__(self, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak, self._halt = interval, rss_anon_kib(), threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, rss_anon_kib())
            time.sleep(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        self.peak = max(self.peak, rss_anon_kib())
        return self.peak


def child(args: argparse.Namespace) -> None:
    """Classify ``--scene`` one way and print {peak_kib, baseline_kib, seconds} as JSON."""
    from hsiviewer import open_scene
    from hsiviewer.engine.bundle import load_model
    from hsiviewer.engine.inference import predict_scene
    from hsiviewer.engine.streaming import predict_to_file
    from hsiviewer.io.export import write_class_map, write_confidence_map

    model = load_model(args.model)
    scene = open_scene(args.scene)
    out = Path(args.out)
    conf = out.with_name(out.stem + "_conf.tif") if args.confidence else None
    baseline = rss_anon_kib()  # interpreter, torch, the model: the same for both paths
    sampler = PeakSampler()
    sampler.start()
    start = time.perf_counter()
    if args.child == "stream":
        predict_to_file(model, scene, out, conf)
    else:
        pred = predict_scene(model, scene, confidence=conf is not None)
        write_class_map(out, pred.class_map, model.classes, like=scene)
        if conf is not None:
            write_confidence_map(conf, pred.confidence, like=scene)
    seconds = time.perf_counter() - start
    print(json.dumps({"peak_kib": sampler.stop(), "baseline_kib": baseline, "seconds": seconds}))


# --- the parent ------------------------------------------------------------------------------
def make_scene(folder: Path, cube: np.ndarray, size_gb: float, name: str | None = None) -> tuple[Path, int]:
    """An ENVI BIL int16 scene of about ``size_gb`` GB: ``cube`` stacked down, written in chunks."""
    rows, cols, bands = cube.shape
    n_rows = max(rows, int(size_gb * 1e9 / (cols * bands * 2)))
    bil = np.ascontiguousarray(cube.astype(np.int16).transpose(0, 2, 1))  # (rows, bands, cols)
    data = folder / f"{name or f'scene_{size_gb:g}gb'}.bil"
    with open(data, "wb") as f:
        for a in range(0, n_rows, rows):
            f.write(bil[: min(rows, n_rows - a)].tobytes())
    header = (
        f"ENVI\nsamples = {cols}\nlines = {n_rows}\nbands = {bands}\nheader offset = 0\n"
        "file type = ENVI Standard\ndata type = 2\ninterleave = bil\nbyte order = 0\n"
    )
    data.with_suffix(".hdr").write_text(header)
    return data, n_rows


def run_child(kind: str, scene: Path, model: Path, out: Path, confidence: bool) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        "--scene",
        str(scene),
        "--model",
        str(model),
        "--out",
        str(out),
    ] + (["--confidence"] if confidence else [])
    run = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if run.returncode != 0:
        raise SystemExit(f"{kind} on {scene.name} failed:\n{run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def in_memory_estimate_gb(n_pixels: int, k: int, confidence: bool) -> float:
    """The preprocessed cube (float32 x k), the map, completed and valid masks, the confidence."""
    return n_pixels * (4 * k + 1 + 1 + 1 + (4 if confidence else 0)) / 1e9


def train_small_svm(scene, folder: Path) -> Path:
    from hsiviewer.engine.bundle import save_model
    from hsiviewer.engine.training import TrainConfig, train_model

    model = train_model(scene, TrainConfig(model="svm_rbf", train_fraction=0.01, seed=0, hyper={"pca_components": 8}))
    path = folder / "svm.pt"
    save_model(model, path)
    return path


def identical_on_indian_pines(scene, folder: Path) -> list[list]:
    """Streamed files against predict_scene + write_class_map on Indian Pines: share of equal pixels."""
    import rasterio

    from hsiviewer.engine.inference import predict_scene
    from hsiviewer.engine.streaming import predict_to_file
    from hsiviewer.engine.training import TrainConfig, train_model
    from hsiviewer.io.export import write_class_map, write_confidence_map

    svm = train_model(scene, TrainConfig(model="svm_rbf", train_fraction=0.05, seed=0))
    hybridsn = train_model(
        scene,
        TrainConfig(
            model="hybridsn",
            epochs=1,
            batch_size=64,
            train_fraction=0.05,
            seed=0,
            device="cpu",
            hyper={"pca_components": 16, "patch_size": 9},
        ),
    )
    rows = []
    for name, model, method in (
        ("svm_rbf", svm, "auto"),
        ("hybridsn", hybridsn, "dense"),
        ("hybridsn", hybridsn, "patch"),
    ):
        pred = predict_scene(model, scene, method=method, device="cpu")
        write_class_map(folder / "ref.tif", pred.class_map, model.classes, like=scene)
        write_confidence_map(folder / "ref_c.tif", pred.confidence, like=scene)
        predict_to_file(model, scene, folder / "s.tif", folder / "s_c.tif", method=method, device="cpu", block_rows=60)
        with (
            rasterio.open(folder / "ref.tif") as a,
            rasterio.open(folder / "s.tif") as b,
            rasterio.open(folder / "ref_c.tif") as ac,
            rasterio.open(folder / "s_c.tif") as bc,
        ):
            same = float(np.mean(a.read(1) == b.read(1)))
            conf = bool(np.array_equal(ac.read(1), bc.read(1), equal_nan=True))
            meta = a.colormap(1) == b.colormap(1) and a.tags() == b.tags()
        rows.append([name, pred.method, f"{same:.4%}", conf, meta])
    return rows


def main() -> None:
    args = parse_args()
    if args.child:
        child(args)
        return
    sizes = args.sizes_gb or ([0.05, 0.2] if args.quick else [1.0, 4.0])
    scene = indian_pines()
    free_gb = shutil.disk_usage(args.tmp).free / 1e9
    if free_gb < sum(sizes) * 1.2 + 1:
        sys.exit(f"{args.tmp} has {free_gb:.1f} GB free; the scenes need {sum(sizes):.1f} GB")
    folder = Path(tempfile.mkdtemp(prefix="bench_stream_", dir=args.tmp))
    results = {"machine": machine(), "sizes_gb": sizes, "runs": []}
    try:
        model = train_small_svm(scene, folder)
        cube = scene.to_array()
        table = []
        for size in sizes:
            path, n_rows = make_scene(folder, cube, size)
            n_pixels = n_rows * cube.shape[1]
            print(
                f"scene {path.name}: {n_rows} x {cube.shape[1]} x {cube.shape[2]} int16, "
                f"{path.stat().st_size / 1e9:.2f} GB",
                flush=True,
            )
            for kind in ("stream", "memory"):
                estimate = in_memory_estimate_gb(n_pixels, 8, args.confidence)
                if kind == "memory" and estimate > args.max_memory_gb:
                    print(f"  memory: skipped (estimated {estimate:.1f} GB > {args.max_memory_gb} GB)")
                    continue
                r = run_child(kind, path, model, folder / f"{kind}.tif", args.confidence)
                r.update(kind=kind, size_gb=size, n_pixels=n_pixels, pixels_per_s=n_pixels / r["seconds"])
                results["runs"].append(r)
                print(
                    f"  {kind}: peak RssAnon {r['peak_kib'] / 1024:.0f} MiB (start {r['baseline_kib'] / 1024:.0f}"
                    f" MiB), {r['seconds']:.1f} s, {r['pixels_per_s']:,.0f} pixels/s",
                    flush=True,
                )
                table.append(
                    [
                        f"{size:g} GB",
                        kind,
                        f"{r['peak_kib'] / 1024:.0f}",
                        f"{(r['peak_kib'] - r['baseline_kib']) / 1024:.0f}",
                        f"{r['seconds']:.1f}",
                        f"{r['pixels_per_s']:,.0f}",
                    ]
                )
            path.unlink()
            path.with_suffix(".hdr").unlink()
        print()
        print(markdown_table(["scene", "path", "peak RssAnon MiB", "above start MiB", "seconds", "pixels/s"], table))
        for kind in ("stream", "memory"):
            peaks = {r["size_gb"]: r["peak_kib"] for r in results["runs"] if r["kind"] == kind}
            if len(peaks) == len(sizes) and len(sizes) >= 2:
                ratio = peaks[sizes[-1]] / peaks[sizes[0]]
                results[f"{kind}_ratio"] = ratio
                print(
                    f"{kind}: peak at {sizes[-1]:g} GB / peak at {sizes[0]:g} GB = {ratio:.2f}"
                    + ("  (goal <= 1.2)" if kind == "stream" else "")
                )
        print()
        same = identical_on_indian_pines(scene, folder)
        results["indian_pines"] = same
        print("Indian Pines, streamed files against predict_scene + write_class_map:")
        print(
            markdown_table(["model", "method", "identical classes", "identical confidence", "same colours/tags"], same)
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    write_json(args.json, results)


if __name__ == "__main__":
    main()
