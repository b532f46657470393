"""Garbage collection stays on the GUI thread while a job runs on its worker thread.

A Qt object of the GUI thread caught in a reference cycle is freed by the cyclic collector; before
the fix the collector ran on the worker thread (the one allocating), so the object's C++ destructor
ran there, in the middle of the GUI thread's painting: the cause of a rare hang of the training panel.
"""

import gc
import threading

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QObject, Qt  # noqa: E402

from hsiviewer.gui.threads import qt_gc  # noqa: E402
from hsiviewer.gui.threads.qt_workers import QtJob  # noqa: E402


def cyclic_qobject(destroyed_on: list) -> None:
    """Leave a GUI-thread QObject in a reference cycle that records the thread its destructor runs on."""
    obj = QObject()
    obj.me = obj
    obj.destroyed.connect(
        lambda *_: destroyed_on.append(threading.current_thread().name), Qt.ConnectionType.DirectConnection
    )


def allocate(progress=None, cancel=None):
    """Make many containers: with automatic collection on, the collector runs on this thread."""
    junk = [[] for _ in range(50_000)]
    return len(junk)


def test_a_cycle_made_on_the_gui_thread_is_not_freed_on_the_worker(qtbot):
    destroyed_on, ended = [], []
    gc.collect()  # empty the young generation: the cycle below is what the next collection finds
    cyclic_qobject(destroyed_on)
    job = QtJob(allocate, "allocate")
    job.ended.connect(lambda: ended.append(True))
    job.start()
    assert job.wait(30_000)  # the GUI thread makes no Python objects meanwhile
    qtbot.waitUntil(lambda: bool(ended), timeout=10_000)
    gc.collect()
    assert destroyed_on == [threading.main_thread().name]


def test_the_gui_thread_collects_while_the_job_runs_and_automatic_collection_returns(qtbot):
    assert gc.isenabled()
    release, destroyed_on, ended = threading.Event(), [], []
    job = QtJob(lambda progress=None, cancel=None: release.wait(30), "waiting")
    job.ended.connect(lambda: ended.append(True))
    job.start()
    assert not gc.isenabled() and qt_gc.collecting_on_gui_thread()
    for _ in range(3):
        cyclic_qobject(destroyed_on)
    kept = [[] for _ in range(2 * gc.get_threshold()[0])]  # past the threshold of the young generation
    # garbage made while the job runs is collected during the job, on the GUI thread (its timer)
    qtbot.waitUntil(lambda: len(destroyed_on) == 3, timeout=10_000)
    assert set(destroyed_on) == {threading.main_thread().name}
    release.set()
    qtbot.waitUntil(lambda: bool(ended), timeout=10_000)
    assert gc.isenabled() and not qt_gc.collecting_on_gui_thread() and len(kept)


def test_collection_turned_off_by_the_application_stays_off(qtbot):
    ended = []
    gc.disable()
    try:
        job = QtJob(allocate, "allocate")
        job.ended.connect(lambda: ended.append(True))
        job.start()
        qtbot.waitUntil(lambda: bool(ended), timeout=30_000)
        assert not gc.isenabled() and not qt_gc.collecting_on_gui_thread()
    finally:
        gc.enable()


def test_the_viewers_worker_threads_leave_collection_to_the_gui_thread(qtbot, tmp_path):
    from hsiviewer.gui.threads.latest_worker import LatestWorker

    # the render and hover worker: a call that allocates enough to trigger a collection
    destroyed_on = []
    worker = LatestWorker("test-render")
    results = []
    worker.done.connect(lambda _id, result: results.append(result))
    gc.collect()
    cyclic_qobject(destroyed_on)
    worker.submit(lambda cancel: allocate())
    assert not gc.isenabled()  # off from the submit, before the worker runs a line
    qtbot.waitUntil(lambda: bool(results), timeout=30_000)
    gc.collect()
    assert destroyed_on == [threading.main_thread().name]
    qtbot.waitUntil(gc.isenabled, timeout=5_000)  # on again once the worker is idle
    worker.stop()


def test_the_pyramid_thread_leaves_collection_to_the_gui_thread(qtbot, tmp_path):
    from hsiviewer.gui.threads.render_worker import PyramidJob

    class AllocatingCache:
        def build(self, scene, cancel=None):
            return allocate()

    destroyed_on, built = [], []
    gc.collect()
    cyclic_qobject(destroyed_on)
    job = PyramidJob(AllocatingCache(), scene=None)
    job.done.connect(built.append)
    job.start()
    assert job.wait(30)
    qtbot.waitUntil(lambda: bool(built), timeout=10_000)
    gc.collect()
    assert destroyed_on == [threading.main_thread().name]
    qtbot.waitUntil(gc.isenabled, timeout=5_000)
