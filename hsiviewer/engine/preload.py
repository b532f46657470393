"""Load the learning engine once, in one background thread, so that the viewer starts without it.

torch, scikit-learn, the engine modules and the model plugins (which are torch code) take seconds to
import and hundreds of MB; showing a scene needs none of them. :func:`start_engine_load` imports all of
it in ONE thread, once per process, and returns a :class:`~concurrent.futures.Future` of an
:class:`Engine`: the plugin registry and the devices found. Work that uses torch on another thread
waits for that future first (:func:`wait_for_engine`, or wrap the call with :func:`after_engine`), so
torch is never imported, nor first used, by two threads at once.

This module imports neither torch nor scikit-learn; it is the only engine module that does not.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from hsiviewer.models.registry import Registry

THREAD_NAME = "hsiviewer-engine-load"


@dataclass(frozen=True)
class Engine:
    """What the background load found.

    Attributes
    ----------
    registry : Registry
        :func:`hsiviewer.models.default_registry`, with its plugin errors.
    devices : tuple of (label, device name)
        :func:`hsiviewer.engine.device.available_devices`.
    seconds : float
        How long the load took.
    """

    registry: Registry
    devices: tuple[tuple[str, str], ...]
    seconds: float


def load_engine() -> Engine:
    """Import the engine, warm it up and load the plugins, in the calling thread.

    This is what the background thread of :func:`start_engine_load` runs; call it directly only
    where no other thread may be importing torch (a script, a test).
    """
    start = time.perf_counter()
    with collector_paused():
        engine = _import_and_warm_up()
    return Engine(engine[0], engine[1], time.perf_counter() - start)


def _import_and_warm_up() -> tuple[Registry, tuple[tuple[str, str], ...]]:
    load_native_libraries()
    from hsiviewer.engine import bundle, inference, jobs, training  # noqa: F401 (torch, sklearn, the engine)
    from hsiviewer.engine.device import available_devices
    from hsiviewer.models.discovery import default_registry

    # The first optimiser imports torch._dynamo, seconds more: done here rather than in the first job.
    jobs.warm_up_imports()
    jobs.WARM_UP.set()  # this load is the warm-up: whoever waits for that one may go on
    registry = default_registry()
    return registry, tuple(available_devices())


#: torch's C++ libraries opened ahead of ``import torch`` (Linux), biggest first.
NATIVE_LIBRARIES = ("libtorch_cpu.so",)


def load_native_libraries() -> list[str]:
    """Open torch's big C++ library without holding the interpreter lock (Linux; elsewhere a no-op).

    ``import torch`` opens ``libtorch_cpu.so`` (hundreds of MB, thousands of static initialisers) through
    the import of ``torch._C``, which holds the interpreter lock throughout: 0.4 to 0.7 s in which the GUI
    thread cannot run. Opened first through a ctypes call of ``dlopen`` (ctypes releases the lock around
    foreign calls), the same work runs beside the GUI, and the import finds the library loaded. The flags
    are those the import itself uses for a dependency (``RTLD_NOW | RTLD_LOCAL``), so the process ends up
    in the same state. Any failure is ignored: ``import torch`` then opens the library as usual.

    Returns
    -------
    list of str
        The libraries opened here.
    """
    if not sys.platform.startswith("linux"):
        return []
    try:
        spec = importlib.util.find_spec("torch")  # finds the package without importing it
        if spec is None or spec.origin is None:
            return []
        dlopen = ctypes.CDLL(None).dlopen
        dlopen.restype, dlopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]
    except (ImportError, OSError, AttributeError, ValueError):
        return []
    opened = []
    folder = os.path.join(os.path.dirname(spec.origin), "lib")
    for name in NATIVE_LIBRARIES:
        path = os.path.join(folder, name)
        # the handle is kept open on purpose: torch uses the library for the life of the process
        if os.path.exists(path) and dlopen(path.encode(), os.RTLD_NOW | os.RTLD_LOCAL):
            opened.append(name)
    return opened


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the engine is imported, then freeze what exists.

    Importing torch, scipy and sympy creates about 600 000 objects that live as long as the process. Each
    full collection on the way walks all of them while holding the interpreter lock: 0.2 to 0.8 s in which
    the GUI thread cannot run (measured on the 2-core test machine), five or six times per load. Paused
    during the imports, and frozen afterwards (:func:`gc.freeze`: later collections skip them), they
    cost the GUI nothing. Frozen objects are still freed by reference counting when dropped (an old scene
    is); only a reference cycle among objects alive at the freeze would stay in memory.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


_LOCK = threading.Lock()
_FUTURE: Optional[Future] = None


def start_engine_load() -> Future:
    """Start :func:`load_engine` in a background thread, once per process; later calls return the same future.

    Returns
    -------
    concurrent.futures.Future
        Resolves to the :class:`Engine`, or holds the exception the load raised (torch missing, a
        broken installation): the viewer keeps working, only training and prediction are unavailable.
    """
    global _FUTURE
    with _LOCK:
        if _FUTURE is None:
            _FUTURE = Future()
            _FUTURE.set_running_or_notify_cancel()
            # Not a daemon: a process that ends during the load waits for it, rather than tearing down
            # libtorch while the thread is still running its static initialisers.
            threading.Thread(target=_run, args=(_FUTURE,), name=THREAD_NAME).start()
        return _FUTURE


def _run(future: Future) -> None:
    try:
        engine = load_engine()
    # Kept for whoever waits: an ImportError (no torch) must reach the GUI as a message, not end the thread.
    except BaseException as exc:  # noqa: BLE001
        future.set_exception(exc)
    else:
        future.set_result(engine)


def engine_future() -> Optional[Future]:
    """The future of the load once :func:`start_engine_load` was called, else None."""
    return _FUTURE


def engine_ready() -> bool:
    """True once the engine has loaded successfully."""
    future = _FUTURE
    return future is not None and future.done() and future.exception() is None


def wait_for_engine(timeout: Optional[float] = None) -> Engine:
    """Start the load if needed and block until it is done.

    Raises
    ------
    Exception
        Whatever the load raised (an ``ImportError`` when torch is not installed).
    concurrent.futures.TimeoutError
        When ``timeout`` seconds passed first.
    """
    return start_engine_load().result(timeout)


def after_engine(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` made to wait for the engine load before it runs (for calls made on worker threads)."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        wait_for_engine()
        return fn(*args, **kwargs)

    return run
