"""``manifest.json``: what a batch prediction did with each scene, so that a re-run skips what is done.

One record per scene (keyed by its absolute path): status (``done``, ``skipped``, ``failed`` or
``cancelled``), the reason when it failed, seconds, pixels per second, the Dask workers that
predicted its blocks, the SHA-256 of the model file and the output paths. The file is rewritten
atomically after every scene, so an interrupted run leaves a manifest that is true.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Optional

from hsiviewer.errors import HsiError
from hsiviewer.io.atomic import write_text_atomic

MANIFEST_NAME = "manifest.json"
FORMAT_TAG = "hsiviewer-batch-manifest"


@dataclass
class SceneRecord:
    """What happened to one scene."""

    path: str
    output: str
    confidence: Optional[str]
    model_sha256: str
    status: str = "running"
    reason: Optional[str] = None
    seconds: Optional[float] = None
    pixels: Optional[int] = None
    pixels_per_s: Optional[float] = None
    workers: list = field(default_factory=list)
    finished_at: Optional[str] = None

    def failed(self, reason: str) -> SceneRecord:
        self.status, self.reason, self.finished_at = "failed", reason, _now()
        return self

    def cancelled(self) -> SceneRecord:
        self.status, self.reason, self.finished_at = "cancelled", "cancelled before the scene was finished", _now()
        return self

    def finished(self, seconds: float, workers: list) -> SceneRecord:
        self.status, self.reason, self.finished_at = "done", None, _now()
        self.seconds = round(seconds, 3)
        self.pixels_per_s = round(self.pixels / seconds, 1) if self.pixels and seconds > 0 else None
        self.workers = list(workers)
        return self

    def skipped(self) -> SceneRecord:
        """This record, as reported by a run that found the scene already done."""
        return replace(self, status="skipped")


def is_done(record: Optional[SceneRecord], sha: str, output: Path, confidence: Optional[Path]) -> bool:
    """True when the scene was done with this model and its files are still there."""
    return (
        record is not None
        and record.status in ("done", "skipped")
        and record.model_sha256 == sha
        and output.is_file()
        and (confidence is None or confidence.is_file())
    )


class Manifest:
    """The records of a batch output folder."""

    def __init__(self, path: Path, model: str, sha: str, records: dict[str, SceneRecord]) -> None:
        self.path, self.model, self.sha, self.records = path, model, sha, records

    @classmethod
    def load(cls, out_dir: Path, model_path: Path, sha: str) -> Manifest:
        """The manifest of ``out_dir`` (empty when there is none yet)."""
        path = Path(out_dir) / MANIFEST_NAME
        records: dict[str, SceneRecord] = {}
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                records = {key: SceneRecord(**value) for key, value in data.get("scenes", {}).items()}
            except (ValueError, TypeError, AttributeError) as exc:
                raise HsiError(f"is not a batch manifest ({exc}); move it away or pick another folder", path) from exc
        return cls(path, str(model_path), sha, records)

    def get(self, scene: str) -> Optional[SceneRecord]:
        return self.records.get(scene)

    def put(self, record: SceneRecord) -> None:
        self.records[record.path] = record

    def to_dict(self) -> dict:
        return {
            "format": FORMAT_TAG,
            "model": self.model,
            "model_sha256": self.sha,
            "updated": _now(),
            "scenes": {key: asdict(r) for key, r in self.records.items()},
        }

    def save(self) -> None:
        """Write ``manifest.json`` atomically."""
        write_text_atomic(self.path, json.dumps(self.to_dict(), indent=2) + "\n")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
