"""The background engine load: one thread, once per process, and a process in its normal state afterwards.

Runs in a fresh process: in this one torch is imported already.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import gc, json, sys, threading
from hsiviewer.engine import preload
assert "torch" not in sys.modules  # importing the preload module imports no torch
first = preload.start_engine_load()
again = preload.start_engine_load()
engine = preload.wait_for_engine(timeout=600)
import torch
from hsiviewer.engine.jobs import WARM_UP
net = torch.nn.Linear(3, 2)
loss = net(torch.ones(4, 3)).sum()
loss.backward()  # torch works after its library was opened ahead of the import
double = preload.after_engine(lambda x, progress=None, cancel=None: 2 * x)
print(json.dumps({
    "same_future": first is again, "ready": preload.engine_ready(), "names": engine.registry.names(),
    "devices": [d for _, d in engine.devices], "seconds": engine.seconds, "warm_up": WARM_UP.is_set(),
    "gc_enabled": gc.isenabled(), "frozen": gc.get_freeze_count(), "grad": net.weight.grad.abs().sum().item(),
    "double": double(21, progress=None, cancel=None),
    "threads": sorted(t.name for t in threading.enumerate())}))
"""


def test_the_engine_loads_once_in_one_thread_and_leaves_a_working_process():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, check=False, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["same_future"] and seen["ready"] and seen["warm_up"]
    assert {"hybridsn", "svm_rbf", "se_resnet"} <= set(seen["names"]) and seen["devices"][-1] == "cpu"
    # the collector runs again, and the objects of the imports are frozen out of its way
    assert seen["gc_enabled"] and seen["frozen"] > 100_000
    assert seen["grad"] > 0 and seen["double"] == 42
    assert seen["threads"] == ["MainThread"]  # the load's thread has ended


def test_without_linux_library_files_the_preload_is_a_no_op(monkeypatch):
    from hsiviewer.engine import preload

    monkeypatch.setattr(preload, "NATIVE_LIBRARIES", ("libnot_there.so",))
    assert preload.load_native_libraries() == []
    monkeypatch.setattr(sys, "platform", "darwin")
    assert preload.load_native_libraries() == []
