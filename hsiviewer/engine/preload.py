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

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, Callable, Optional

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

    registry: "Registry"
    devices: tuple[tuple[str, str], ...]
    seconds: float


def load_engine() -> Engine:
    """Import the engine, warm it up and load the plugins, in the calling thread.

    This is what the background thread of :func:`start_engine_load` runs; call it directly only
    where no other thread may be importing torch (a script, a test).
    """
    start = time.perf_counter()
    from hsiviewer.engine import bundle, inference, jobs, training  # noqa: F401 (torch, sklearn, the engine)
    from hsiviewer.engine.device import available_devices
    from hsiviewer.models.discovery import default_registry

    # The first optimiser imports torch._dynamo, seconds more: done here rather than in the first job.
    jobs.warm_up_imports()
    jobs.WARM_UP.set()  # this load is the warm-up: whoever waits for that one may go on
    registry = default_registry()
    devices = tuple(available_devices())
    return Engine(registry, devices, time.perf_counter() - start)


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
    except BaseException as exc:  # kept for whoever waits: an ImportError must reach the GUI as a message
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
