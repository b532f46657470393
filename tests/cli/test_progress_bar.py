"""The terminal progress bar: what a user sees in a terminal and in a log."""

from __future__ import annotations

import io
import re

from hsiviewer.cli.progress_bar import ProgressBar, format_duration, format_metrics
from hsiviewer.progress import ProgressEvent


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_format_duration():
    assert format_duration(None) == "--:--"
    assert format_duration(5) == "0:05"
    assert format_duration(125.4) == "2:05"
    assert format_duration(3723) == "1:02:03"


def test_format_metrics_skips_none():
    assert format_metrics({"loss": 0.5, "val_acc": None, "epoch": 3}) == "loss 0.5  epoch 3"


def test_live_bar_redraws_in_place_and_throttles():
    out, clock = io.StringIO(), FakeClock()
    bar = ProgressBar(stream=out, width=10, min_interval=1.0, live=True, clock=clock)
    bar(ProgressEvent("predict", 0, 4, eta_s=None))
    clock.now = 0.2
    bar(ProgressEvent("predict", 1, 4))  # too soon: not drawn
    clock.now = 1.5
    bar(ProgressEvent("predict", 2, 4, eta_s=3.0))
    clock.now = 1.6
    bar(ProgressEvent("predict", 4, 4, eta_s=0.0))  # the last one is always drawn
    bar.close()
    text = out.getvalue()
    assert text.count("\r") == 3
    assert "1/4" not in text
    assert "[#####.....] 2/4  50%  eta 0:03" in text
    assert "[##########] 4/4 100%" in text
    assert text.endswith("\n")


def test_epoch_summaries_are_permanent_lines_above_the_bar():
    out = io.StringIO()
    bar = ProgressBar(stream=out, live=True, min_interval=0.0)
    bar(ProgressEvent("batch", 5, 10, metrics={"epoch": 1, "batch": 5, "loss": 1.25}))
    bar(
        ProgressEvent(
            "epoch", 1, 2, metrics={"epoch": 1, "loss": 0.75, "train_acc": 0.5, "val_acc": None, "seconds": 2.5}
        )
    )
    bar.close()
    lines = re.split("[\r\n]", out.getvalue())
    assert "epoch 1/2  loss 0.75  train_acc 0.5  seconds 2.5" in lines
    # the summary replaced the live bar: the bar was wiped before the line was written
    assert out.getvalue().index("epoch 1/2") > out.getvalue().index("loss 1.25")
    assert "val_acc" not in out.getvalue()


def test_log_mode_writes_only_stage_start_and_end():
    out = io.StringIO()
    bar = ProgressBar(stream=out, min_interval=0.0)  # a StringIO is no terminal
    for done in range(0, 11):
        bar(ProgressEvent("predict", done, 10, message=f"tile {done}"))
    bar.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == 2
    assert lines[0].startswith("predict") and "0/10" in lines[0]
    assert "10/10 100%" in lines[1] and lines[1].endswith("tile 10")
