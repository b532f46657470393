"""Start-up: time from process start to the first image on screen, and memory (RssAnon) at that moment.

Every figure is one fresh Python process (offscreen Qt), repeated ``--repeat`` times; the median is
reported. Variants, all measured in the same run:

``bare import``
    ``import PySide6.QtWidgets, pyqtgraph``: the floor any PySide6 + pyqtgraph app pays.
``bare window``
    The same, plus a ``QApplication`` and one pyqtgraph window drawing a 145 x 145 RGB image; the time
    is taken when the image item is first painted.
``hsiviewer``
    The viewer's start (``hsiviewer gui``): ``MainWindow`` opens the demo scene (Indian Pines,
    145 x 145 x 200) and the time is taken when the scene's image item is first painted.
``hsiviewer, engine first``
    The same with the learning engine (torch, scikit-learn, the plugins) loaded before the window, as
    the viewer started before the engine loaded in the background: what the user used to wait for.
``gui --screenshot``
    The whole ``python -m hsiviewer gui --screenshot`` command, start to exit (no memory figure).

Run: ``python bench/bench_startup.py [--repeat 5] [--json bench/results/startup.json]`` (Linux: RssAnon is
read from ``/proc/self/status``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# What every child runs first: a report line with the wall clock, RssAnon and the heavy modules present.
HELPERS = r"""
import json, sys, time
def rss_anon_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
def report():
    heavy = sorted(m for m in ("torch", "sklearn", "scipy", "rasterio") if m in sys.modules)
    print("RESULT " + json.dumps({"t": time.time(), "rss_mb": rss_anon_mb(), "heavy": heavy}), flush=True)
"""

# Calls report() the first time an ImageItem holding an image is painted, then quits the event loop.
FIRST_PAINT = r"""
import pyqtgraph as pg
from PySide6.QtCore import QTimer
_paint, _seen = pg.ImageItem.paint, []
def _first_paint(self, painter, *args):
    _paint(self, painter, *args)
    if self.image is not None and not _seen:
        _seen.append(True)
        report()
        QTimer.singleShot(0, QApplication.instance().quit)
pg.ImageItem.paint = _first_paint
"""

CHILDREN = {
    "bare import": HELPERS
    + r"""
import PySide6.QtWidgets, pyqtgraph
report()
""",
    "bare window": HELPERS
    + r"""
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(["bench"])
"""
    + FIRST_PAINT
    + r"""
import numpy as np
pg.setConfigOptions(imageAxisOrder="row-major")
window = QMainWindow()
view = pg.GraphicsLayoutWidget()
box = view.addViewBox(lockAspect=True)
box.addItem(pg.ImageItem(np.random.default_rng(0).integers(0, 255, (145, 145, 3), dtype=np.uint8)))
window.setCentralWidget(view)
window.resize(1400, 900)
window.show()
app.exec()
""",
    "hsiviewer": HELPERS
    + r"""
from PySide6.QtWidgets import QApplication
from hsiviewer.gui.app import _application
app = _application(screenshot=True)
"""
    + FIRST_PAINT
    + r"""
from hsiviewer import demo_scene_path
from hsiviewer.gui.main_window import MainWindow
window = MainWindow()
window.open_scene(demo_scene_path())
window.resize(1400, 900)
window.show()
app.exec()
""",
    "hsiviewer, engine first": HELPERS
    + r"""
from hsiviewer.engine.preload import load_engine
load_engine()
from PySide6.QtWidgets import QApplication
from hsiviewer.gui.app import _application
app = _application(screenshot=True)
"""
    + FIRST_PAINT
    + r"""
from hsiviewer import demo_scene_path
from hsiviewer.gui.main_window import MainWindow
window = MainWindow()
window.open_scene(demo_scene_path())
window.resize(1400, 900)
window.show()
app.exec()
""",
}


def run_child(code: str, env: dict) -> dict:
    """One fresh process: seconds from spawn to its report, and what it reported."""
    start = time.time()
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, check=False, capture_output=True, text=True, timeout=600
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"child failed ({result.returncode}): {result.stderr[-2000:]}")
    seen = json.loads(lines[-1][len("RESULT ") :])
    seen["seconds"] = seen.pop("t") - start
    return seen


def run_command(args: list[str], env: dict) -> dict:
    """Seconds from spawn to exit of ``python -m hsiviewer ARGS``."""
    start = time.time()
    result = subprocess.run(
        [sys.executable, "-m", "hsiviewer", *args],
        cwd=REPO,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"hsiviewer {' '.join(args)} failed: {result.stderr[-2000:]}")
    return {"seconds": time.time() - start, "rss_mb": None, "heavy": None}


def measure(repeat: int, variants: list[str]) -> dict[str, list[dict]]:
    """Interleaved repetitions (one of each variant per round), so that a burst of load on a shared
    machine hits every variant alike."""
    folder = tempfile.mkdtemp(prefix="hsiviewer-bench-startup-")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(REPO),
        "HSIVIEWER_SETTINGS": os.path.join(folder, "settings.ini"),
    }  # no saved layout showing the panel
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name in variants:
            if name == "gui --screenshot":
                runs[name].append(run_command(["gui", "--screenshot", os.path.join(folder, "shot.png")], env))
            else:
                runs[name].append(run_child(CHILDREN[name], env))
    return runs


def summarise(runs: dict[str, list[dict]]) -> dict[str, dict]:
    """Median seconds and RssAnon (MB) of each variant, its range, and the heavy modules present."""
    table = {}
    for name, seen in runs.items():
        secs = [s["seconds"] for s in seen]
        rss = [s["rss_mb"] for s in seen if s["rss_mb"] is not None]
        table[name] = {
            "seconds": statistics.median(secs),
            "min_s": min(secs),
            "max_s": max(secs),
            "rss_mb": statistics.median(rss) if rss else None,
            "heavy": seen[0]["heavy"],
            "runs": len(seen),
        }
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per variant (median reported)")
    parser.add_argument("--quick", action="store_true", help="2 repetitions, without the engine-first variant")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    variants = ["bare import", "bare window", "hsiviewer", "hsiviewer, engine first", "gui --screenshot"]
    if args.quick:
        variants.remove("hsiviewer, engine first")
    repeat = 2 if args.quick else args.repeat
    table = summarise(measure(repeat, variants))
    bare = table["bare import"]["seconds"]
    print(
        f"start-up, median of {repeat} fresh processes (offscreen Qt), {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at the end\n"
    )
    print(f"{'variant':<26}{'first image':>12}{'range':>16}{'RssAnon':>10}{'x bare import':>15}  heavy modules")
    for name, row in table.items():
        rss = f"{row['rss_mb']:.0f} MB" if row["rss_mb"] is not None else "–"
        print(
            f"{name:<26}{row['seconds']:>10.2f} s{row['min_s']:>7.2f}-{row['max_s']:.2f} s{rss:>10}"
            f"{row['seconds'] / bare:>14.1f}x  {', '.join(row['heavy'] or []) or '–'}"
        )
    viewer = table["hsiviewer"]
    verdict = {
        "within 3x bare import": viewer["seconds"] <= 3 * bare,
        "under 2 s": viewer["seconds"] < 2.0,
        "under 300 MB": viewer["rss_mb"] < 300,
    }
    print("\n" + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in verdict.items()))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {
                    "repeat": repeat,
                    "cpus": os.cpu_count(),
                    "load_average": os.getloadavg(),
                    "figures": table,
                    "verdict": verdict,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
