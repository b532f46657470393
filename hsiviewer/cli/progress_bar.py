"""A text progress bar for the terminal, fed by :class:`~hsiviewer.progress.ProgressEvent`.

On a terminal the bar is redrawn in place (``\\r``), at most every ``min_interval`` seconds;
in a log file or pipe it writes whole lines instead, so logs stay readable. Stages named in
``log_stages`` (by default ``"epoch"``) are summaries worth keeping: each such event is
printed on a line of its own above the live bar.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import Optional, TextIO

from hsiviewer.progress import ProgressEvent


def format_duration(seconds: Optional[float]) -> str:
    """``"m:ss"`` or ``"h:mm:ss"`` for a number of seconds; ``"--:--"`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "--:--"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_metrics(metrics: dict) -> str:
    """``"loss 0.4123  train_acc 0.912"``: the figures of an event, None values left out."""
    parts = []
    for key, value in metrics.items():
        if value is None:
            continue
        if isinstance(value, float):
            parts.append(f"{key} {value:.4g}")
        else:
            parts.append(f"{key} {value}")
    return "  ".join(parts)


class ProgressBar:
    """A callable progress sink that draws a one-line bar on a text stream.

    Parameters
    ----------
    stream : text stream, optional
        Where to draw (standard error by default, so standard output stays clean for results).
    width : int
        Characters in the bar itself.
    min_interval : float
        Least seconds between two redraws of the live bar (the first and last event of a stage
        are always drawn).
    log_stages : iterable of str
        Stages whose every event is printed as a permanent line (epoch summaries).
    live : bool, optional
        Redraw in place; defaults to whether ``stream`` is a terminal.
    clock : callable, optional
        Returns the time in seconds (for tests).

    Examples
    --------
    >>> bar = ProgressBar()
    >>> model = train_model(scene, config, progress=bar)  # doctest: +SKIP
    >>> bar.close()  # doctest: +SKIP
    """

    def __init__(
        self,
        stream: Optional[TextIO] = None,
        width: int = 28,
        min_interval: float = 0.1,
        log_stages: Iterable[str] = ("epoch",),
        live: Optional[bool] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = max(4, int(width))
        self.min_interval = float(min_interval)
        self.log_stages = frozenset(log_stages)
        self.live = _is_terminal(self.stream) if live is None else bool(live)
        self.clock = clock
        self._last_draw = float("-inf")
        self._last_stage: Optional[str] = None
        self._shown = 0  # characters of the live line now on screen

    def __call__(self, event: ProgressEvent) -> None:
        """Show ``event``: a permanent line for summary stages, else an update of the bar."""
        if event.stage in self.log_stages:
            self._write_line(self.summary(event))
            return
        now = self.clock()
        first = event.stage != self._last_stage
        last = event.total > 0 and event.done >= event.total
        self._last_stage = event.stage
        if not (first or last or now - self._last_draw >= self.min_interval):
            return
        self._last_draw = now
        line = self.render(event)
        if self.live:
            self._draw_live(line)
        elif first or last:
            # In a log, only the start and the end of a stage: no stream of half-bars.
            self._write_line(line)

    def close(self) -> None:
        """End the live line so that later output starts on a fresh line."""
        if self._shown:
            self.stream.write("\n")
            self._shown = 0
        self.stream.flush()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- text --------------------------------------------------------------------------
    def render(self, event: ProgressEvent) -> str:
        """The bar line for ``event``: stage, bar, count, percent, time left, message."""
        filled = int(round(event.fraction * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        text = (
            f"{event.stage:<8} [{bar}] {event.done}/{event.total} {event.fraction * 100:3.0f}%"
            f"  eta {format_duration(event.eta_s)}"
        )
        tail = event.message or format_metrics(event.metrics)
        return f"{text}  {tail}" if tail else text

    @staticmethod
    def summary(event: ProgressEvent) -> str:
        """A permanent line for a summary event, e.g. ``"epoch 3/20  loss 0.4123  train_acc 0.912"``."""
        metrics = {k: v for k, v in event.metrics.items() if k != event.stage}
        head = f"{event.stage} {event.done}/{event.total}" if event.total > 0 else event.stage
        body = event.message or format_metrics(metrics)
        return f"{head}  {body}" if body else head

    # --- drawing -----------------------------------------------------------------------
    def _draw_live(self, line: str) -> None:
        # Pad with spaces so a shorter line fully covers the previous one.
        padding = " " * max(0, self._shown - len(line))
        self.stream.write("\r" + line + padding)
        self.stream.flush()
        self._shown = len(line)

    def _write_line(self, line: str) -> None:
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self._shown = 0
        self.stream.write(line + "\n")
        self.stream.flush()
        # The live bar is redrawn under the new line at the next update.
        self._last_draw = float("-inf")


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed stream
        return False
