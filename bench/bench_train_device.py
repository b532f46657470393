"""HybridSN training on an accelerator: on-device patch gathering against host gathering, bf16/fp16
autocast against float32, same run. Also checks cancel and the model-file round trip there.

Every variant trains HybridSN at its defaults (PCA 30, 25 x 25 patches, batch 128, Adam 1e-3) on
Indian Pines with 10 % of the labelled pixels (same seed, same split) through
:func:`hsiviewer.engine.training.train_model`; the rate is training patches per second over the epochs after
the first (the first pays for cuDNN autotuning and allocation).

    python bench/bench_train_device.py --epochs 10 --json out.json
    python bench/bench_train_device.py --device cpu --epochs 1 --crop 40   # smoke run
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import hsiviewer.engine.fit as torch_fit
from hsiviewer import demo_scene_path, open_scene
from hsiviewer.engine.batches import to_model_input
from hsiviewer.engine.bundle import load_model, save_model
from hsiviewer.engine.training import TrainConfig, train_model
from hsiviewer.processing.patches import pad_cube, patches_for
from hsiviewer.progress import CancelToken


def rate(model) -> float:
    later = model.history[1:] or model.history
    return model.metrics["n_train"] * len(later) / sum(h["seconds"] for h in later)


def run(scene, name: str, config: TrainConfig, **patches) -> dict:
    saved = {k: getattr(torch_fit, k) for k in patches}
    bf16 = torch.cuda.is_bf16_supported
    try:
        for k, v in patches.items():
            setattr(torch_fit, k, v)
        if name.endswith("fp16"):
            torch.cuda.is_bf16_supported = lambda *a, **k: False
        start = time.perf_counter()
        model = train_model(scene, config)
        wall = time.perf_counter() - start
    finally:
        torch.cuda.is_bf16_supported = bf16
        for k, v in saved.items():
            setattr(torch_fit, k, v)
    row = {
        "variant": name,
        "patches_per_s": rate(model),
        "oa": model.metrics["oa"],
        "kappa": model.metrics["kappa"],
        "wall_s": wall,
        "final_loss": model.history[-1]["loss"],
        "device": model.metrics["device"],
    }
    print(json.dumps(row), flush=True)
    return row, model


def check_cancel_and_file(scene, config: TrainConfig, model, out: Path) -> dict:
    token, seen = CancelToken(), []

    def progress(e):
        if e.stage == "batch":
            seen.append(e.done)
            if e.done == 5:
                token.cancel()

    cancelled = train_model(scene, config, progress=progress, cancel=token)
    save_model(model, out)
    back = load_model(out)
    x = pad_cube(model.preprocessor.transform(scene.to_array()), model.patch_size // 2)
    n = min(scene.n_rows, scene.n_cols)
    pick = np.arange(0, n, max(1, n // 20))
    patches = torch.from_numpy(np.ascontiguousarray(patches_for(x, pick, pick[::-1], model.patch_size)))
    with torch.no_grad():
        a = model.net.eval()(to_model_input(patches, model.input_kind))
        b = back.net(to_model_input(patches, back.input_kind))
    return {
        "cancel_batches_seen": len(seen),
        "cancel_flag": cancelled.metrics["cancelled"],
        "cancel_history": len(cancelled.history),
        "cancel_net_device": str(next(cancelled.net.parameters()).device),
        "file_round_trip_equal": bool(torch.equal(a, b)),
        "file_mb": out.stat().st_size / 2**20,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--crop", type=int, default=None, help="use the top-left N x N pixels only")
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args()
    scene = open_scene(demo_scene_path())
    if args.crop:
        from hsiviewer.io.numpy_io import scene_from_array

        cube = scene.to_array()[: args.crop, : args.crop]
        scene = scene_from_array(None, np.ascontiguousarray(cube), scene.labels[: args.crop, : args.crop].copy(), {})
    base = dict(model="hybridsn", epochs=args.epochs, device=args.device, seed=0)
    rows = []
    row, model = run(scene, "device gather, autocast", TrainConfig(**base))
    rows.append(row)
    if args.device.startswith("cuda"):
        rows.append(run(scene, "host gather, autocast", TrainConfig(**base), MAX_DEVICE_CUBE=-1)[0])
        rows.append(run(scene, "device gather, float32", TrainConfig(**base, amp=False))[0])
        rows.append(run(scene, "device gather, autocast fp16", TrainConfig(**{**base, "epochs": 3}))[0])
    checks = check_cancel_and_file(
        scene, TrainConfig(**{**base, "epochs": 2}), model, Path("/tmp/bench_model.hsimodel")
    )
    print(json.dumps(checks))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "rows": rows,
                    "checks": checks,
                    "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
                    "torch": torch.__version__,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
