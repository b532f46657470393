"""Spectral matching and band math on a large scene, against the time of reading the scene once.

Builds a 2,000 x 2,000 x 224 int16 ENVI scene (BIL, 1.8 GB) in ``--folder`` by resampling the
bundled Indian Pines cube to 224 bands (400-2500 nm, FWHM 10 nm) and tiling it, then measures in
the same run:

* **read**: every row tile of the scene read into memory once (the baseline; the same tiles the
  tools read);
* **SAM**: :func:`hsiviewer.spectral.matching.match_scene` against 20 references;
* **band math**: :func:`hsiviewer.spectral.bandmath.evaluate` of a 3-band expression.

Each is timed *cold* (the file's pages dropped from the page cache with ``posix_fadvise`` first, so
the bytes come from the disk) and *warm* (straight after, from the page cache). The goal is SAM and
band math within 2 x the cold read. Peak memory is the largest ``RssAnon`` of this process seen
during each step (sampled every 20 ms), which leaves out the memory-mapped file itself. The scene is
deleted at the end unless ``--keep``.

    python bench/bench_spectral.py                   # the full 2,000 x 2,000 x 224 scene
    python bench/bench_spectral.py --rows 300 --cols 300   # a quick check
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

import numpy as np
from common import machine, markdown_table, write_json

from hsiviewer import demo_scene_path, open_scene
from hsiviewer.spectral.bandmath import evaluate, parse_expression
from hsiviewer.spectral.matching import match_scene

EXPRESSION = "2.5 * (R860 - R650) / (R860 + 6 * R650 - 7.5 * R470 + 10000)"  # EVI on a 0-10000 scale


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=2000)
    p.add_argument("--cols", type=int, default=2000)
    p.add_argument("--bands", type=int, default=224)
    p.add_argument("--refs", type=int, default=20, help="reference spectra for SAM")
    p.add_argument("--folder", default="/tmp", help="where the scene is written (and deleted)")
    p.add_argument("--keep", action="store_true", help="keep the generated scene")
    p.add_argument("--json", help="also write the figures here")
    return p.parse_args()


# --- the scene ----------------------------------------------------------------------------------
def build_scene(folder: Path, rows: int, cols: int, bands: int) -> tuple[Path, np.ndarray]:
    """Write the tiled ENVI scene; returns its header and the source spectra (for references)."""
    demo = open_scene(demo_scene_path())
    wl = np.linspace(400.0, 2500.0, bands)
    src = demo.to_array().astype(np.float32)
    order = np.argsort(demo.wavelengths)
    flat = src.reshape(-1, demo.n_bands)[:, order]
    resampled = np.stack([np.interp(wl, demo.wavelengths[order], s) for s in flat]).astype(np.int16)
    cube = resampled.reshape(demo.n_rows, demo.n_cols, bands)
    data, header = folder / "bench_spectral.bil", folder / "bench_spectral.hdr"
    col_index = np.arange(cols) % demo.n_cols
    with open(data, "wb") as out:
        for r in range(rows):
            line = cube[r % demo.n_rows][col_index]  # (cols, bands)
            out.write(np.ascontiguousarray(line.T).astype("<i2").tobytes())  # BIL: bands x cols per line
        out.flush()
        os.fsync(out.fileno())
    header.write_text(
        "ENVI\n"
        f"samples = {cols}\nlines = {rows}\nbands = {bands}\nheader offset = 0\nfile type = ENVI Standard\n"
        "data type = 2\ninterleave = bil\nbyte order = 0\nwavelength units = Nanometers\n"
        "wavelength = {" + ", ".join(f"{w:.2f}" for w in wl) + "}\n"
        "fwhm = {" + ", ".join("10.0" for _ in wl) + "}\n"
    )
    return header, resampled


def drop_cache(path: Path) -> None:
    """Ask the kernel to forget the file's cached pages, so the next read comes from the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


# --- measuring ----------------------------------------------------------------------------------
def rss_anon_mb() -> float:
    """Anonymous resident memory of this process (MB), from /proc/self/status."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class PeakRss:
    """The largest RssAnon seen while the ``with`` block runs, sampled every 20 ms."""

    def __enter__(self) -> PeakRss:
        self.base = rss_anon_mb()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_anon_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_anon_mb())


def read_once(scene, tile_pixels: int = 65_536) -> None:
    """Read every row tile of the scene into memory once (the baseline)."""
    step = max(1, tile_pixels // scene.n_cols)
    for a in range(0, scene.n_rows, step):
        np.array(scene.read_subregion(slice(a, a + step), slice(None)), copy=True)


def timed(label: str, fn, data: Path, cold: bool) -> dict:
    if cold:
        drop_cache(data)
    with PeakRss() as mem:
        start = time.perf_counter()
        fn()
        seconds = time.perf_counter() - start
    return {
        "step": label,
        "cache": "cold" if cold else "warm",
        "seconds": round(seconds, 2),
        "peak_rss_anon_mb": round(mem.peak, 0),
        "rss_anon_before_mb": round(mem.base, 0),
    }


def main() -> None:
    args = parse_args()
    folder = Path(args.folder)
    start = time.perf_counter()
    header, spectra = build_scene(folder, args.rows, args.cols, args.bands)
    data = header.with_suffix(".bil")
    print(
        f"wrote {args.rows} x {args.cols} x {args.bands} int16 ({data.stat().st_size / 1e9:.2f} GB) in "
        f"{time.perf_counter() - start:.0f} s"
    )
    try:
        scene = open_scene(header)
        rng = np.random.default_rng(0)
        refs = spectra[rng.choice(len(spectra), args.refs, replace=False)].astype(float)
        expr = parse_expression(EXPRESSION, scene)
        runs = []
        for cold in (True, False):
            runs.append(timed("read once", lambda: read_once(scene), data, cold))
            runs.append(timed(f"SAM, {args.refs} references", lambda: match_scene(scene, refs), data, cold))
            runs.append(timed("band math, 3 bands", lambda: evaluate(scene, expr), data, cold))
        for run in runs:
            base = next(r for r in runs if r["step"] == "read once" and r["cache"] == run["cache"])
            run["x_read"] = round(run["seconds"] / base["seconds"], 2)
        print(
            markdown_table(
                ["step", "cache", "seconds", "x read (same cache)", "peak RssAnon MB"],
                [[r["step"], r["cache"], r["seconds"], r["x_read"], r["peak_rss_anon_mb"]] for r in runs],
            )
        )
        print(f"expression: {EXPRESSION} ({expr.describe(scene)})")
        write_json(args.json, {"machine": machine(), "shape": [args.rows, args.cols, args.bands], "runs": runs})
    finally:
        if not args.keep:
            data.unlink(missing_ok=True)
            header.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
