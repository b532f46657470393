"""Progress reports and cancel tokens for long work, with no GUI attached.

Core functions that run for long take ``progress`` (a callable receiving a
:class:`ProgressEvent`) and ``cancel`` (a :class:`CancelToken`). The GUI turns
events into signals and sets the token from its Cancel button; the CLI prints a
bar and sets the token on Ctrl-C.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

from hsiviewer.errors import Cancelled


class CancelToken:
    """A thread-safe flag that asks running work to stop at its next check point."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._abort = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop (training still evaluates the model it keeps)."""
        self._event.set()

    def abort(self) -> None:
        """Ask the work to stop and drop its result: also skips the evaluation after training."""
        self._abort.set()
        self._event.set()

    @property
    def aborted(self) -> bool:
        """True once :meth:`abort` was called."""
        return self._abort.is_set()

    def abort_view(self) -> CancelToken:
        """A token that reads as cancelled only once this one is aborted (for the work after a cancel)."""
        view = CancelToken()
        view._event = self._abort
        view._abort = self._abort
        return view

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`~hsiviewer.errors.Cancelled` if cancel was asked for."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


@dataclass
class ProgressEvent:
    """One progress point.

    Attributes
    ----------
    stage : str
        What is running, e.g. ``"train"``, ``"epoch"``, ``"predict"``.
    done, total : int
        Units finished and units in all (batches, tiles, epochs).
    message : str
        A short human-readable line.
    eta_s : float or None
        Estimated seconds left for the stage.
    metrics : dict
        Figures known at this point (loss, accuracies, epoch, ...).
    """

    stage: str
    done: int
    total: int
    message: str = ""
    eta_s: Optional[float] = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        """Share of the stage finished, in [0, 1]."""
        return 0.0 if self.total <= 0 else min(1.0, self.done / self.total)


ProgressCallback = Callable[[ProgressEvent], None]


class EtaClock:
    """Estimates the time left from the rate seen so far."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.start = time.perf_counter()

    def eta(self, done: int) -> Optional[float]:
        """Seconds left after ``done`` of ``total`` units, or None before the first unit."""
        if done <= 0:
            return None
        elapsed = time.perf_counter() - self.start
        return elapsed / done * max(0, self.total - done)


def check(cancel: Optional[CancelToken]) -> None:
    """Raise :class:`Cancelled` when ``cancel`` is set; do nothing for None."""
    if cancel is not None:
        cancel.raise_if_cancelled()


def report(progress: Optional[ProgressCallback], event: ProgressEvent) -> None:
    """Send ``event`` to ``progress`` when one is given."""
    if progress is not None:
        progress(event)
