"""QtJob: a core call on a QThread, with progress, cancel, results and errors as signals."""

import time

import pytest

pytest.importorskip("pytestqt")
from hsiviewer.errors import Cancelled, HsiError  # noqa: E402
from hsiviewer.gui.threads.qt_workers import QtJob  # noqa: E402
from hsiviewer.progress import ProgressEvent  # noqa: E402


def busy_python(seconds, progress=None, cancel=None):
    """Pure-Python work: it needs the interpreter lock the whole time."""
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        n += 1
        if cancel is not None and cancel.cancelled:
            return -1
    progress(ProgressEvent("work", 1, 1))
    return n


def test_wait_returns_without_the_event_loop_and_results_follow(qtbot):
    job = QtJob(lambda **kw: busy_python(0.3, **kw), "busy")
    results, ended = [], []
    job.finished.connect(results.append)
    job.ended.connect(lambda: ended.append(True))
    start = time.perf_counter()
    job.start()
    assert job.wait(10_000)  # the thread quits by itself; wait() lets it run Python meanwhile
    assert time.perf_counter() - start < 5
    qtbot.waitUntil(lambda: bool(ended), timeout=5000)
    assert len(results) == 1 and results[0] > 0


def test_cancel_and_errors_arrive_as_signals(qtbot):
    job = QtJob(lambda **kw: busy_python(30, **kw), "long")
    with qtbot.waitSignal(job.finished, timeout=10_000) as done:
        job.start()
        job.cancel()
    assert done.args == [-1] and job.wait(5000)

    def fail(progress=None, cancel=None):
        raise HsiError("no ground truth", "scene.npz")

    job = QtJob(fail, "failing")
    with qtbot.waitSignal(job.failed, timeout=10_000) as failed:
        job.start()
    assert failed.args == ["scene.npz: no ground truth", ""]


def test_latest_worker_runs_the_newest_call_and_drops_the_waiting_ones(qtbot):
    import threading

    from hsiviewer.gui.threads.latest_worker import LatestWorker

    worker = LatestWorker("test-latest")
    done, failed, started = [], [], []
    release = threading.Event()
    worker.done.connect(lambda call_id, result: done.append((call_id, result)))
    worker.failed.connect(lambda call_id, message: failed.append((call_id, message)))

    def call(value, cancel):
        started.append(value)
        if value == 0:
            release.wait(10)  # holds the worker while the newer calls come
        if cancel():
            raise Cancelled("newer call")
        return value * 10

    worker.submit(call, 0)
    qtbot.waitUntil(lambda: started == [0], timeout=10_000)
    ids = [worker.submit(call, v) for v in range(1, 5)]  # calls 1-3 are replaced while they wait
    release.set()  # call 0 sees that it is stale and stops
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    qtbot.wait(100)
    assert done == [(ids[-1], 40)] and failed == [] and started == [0, 4]
    assert worker.dropped == 4 and worker.idle

    def broken(cancel):
        raise HsiError("cannot read", "scene.hdr")

    call = worker.submit(broken)
    qtbot.waitUntil(lambda: bool(failed), timeout=10_000)
    assert failed == [(call, "scene.hdr: cannot read")]
    worker.stop()
