"""The truth of one hall video: how many people are in view at sampled times.

Format (docs/eval.md, suite ``hall``)::

    {"suite": "hall", "case": "vtest", "video": "/usr/share/.../vtest.avi",
     "duration_s": 79.5, "max_mae": 1.0, "rule": "...", "note": "...",
     "counts": [{"t": 0.0, "count": 3}, {"t": 1.0, "count": 4, "note": "..."}]}

``video`` is relative to the truth file's folder, or absolute for a file a
package installs. ``counts`` are sorted by ``t`` (seconds, within
``duration_s``); a case passes when the mean absolute count error over the
scored samples is at most ``max_mae``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vision.evalsuite.truth import TruthError, read_truth_json

__all__ = ["HallTruth", "Sample", "TruthError", "load_hall_truth", "parse_hall_truth"]


@dataclass(frozen=True, slots=True)
class Sample:
    """People in view at ``t`` seconds."""

    t: float
    count: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class HallTruth:
    """One hall video's hand (or composer) counted truth."""

    case: str
    video: str
    duration_s: float
    samples: tuple[Sample, ...]
    max_mae: float = 1.0
    note: str = ""
    rule: str = ""
    tags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": "hall", "case": self.case, "video": self.video,
            "duration_s": self.duration_s, "max_mae": self.max_mae, "note": self.note,
            "rule": self.rule, "tags": list(self.tags),
            "counts": [{"t": s.t, "count": s.count, **({"note": s.note} if s.note else {})}
                       for s in self.samples],
        }


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _samples(raw: Any, where: str, duration: float) -> tuple[Sample, ...]:
    if not isinstance(raw, list) or not raw:
        raise TruthError(f"{where}: counts must be a non-empty list of {{t, count}}")
    out: list[Sample] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) - {"t", "count", "note"}:
            raise TruthError(f"{where}: counts[{i}] must be {{t, count[, note]}}")
        t, count, note = item.get("t"), item.get("count"), item.get("note", "")
        if not isinstance(t, int | float) or isinstance(t, bool) or not 0.0 <= t <= duration:
            raise TruthError(f"{where}: counts[{i}].t must be seconds within duration_s")
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 500:
            raise TruthError(f"{where}: counts[{i}].count must be a whole number 0..500")
        if not isinstance(note, str):
            raise TruthError(f"{where}: counts[{i}].note must be a string")
        if out and float(t) <= out[-1].t:
            raise TruthError(f"{where}: counts[{i}].t must be after the one before")
        out.append(Sample(float(t), count, note))
    return tuple(out)


def parse_hall_truth(data: Any, where: str) -> HallTruth:
    """A HallTruth from decoded JSON; TruthError names ``where``, the key and the rule."""
    if not isinstance(data, dict):
        raise TruthError(f"{where}: a truth file holds one JSON object")
    known = {"suite", "case", "video", "duration_s", "max_mae", "note", "rule", "tags", "counts"}
    extra = sorted(set(data) - known)
    if extra:
        raise TruthError(f"{where}: unknown key(s) {', '.join(extra)}")
    if data.get("suite") != "hall":
        raise TruthError(f"{where}: suite must be \"hall\"")
    for key in ("case", "video", "duration_s", "counts"):
        if key not in data:
            raise TruthError(f"{where}: {key} is required")
    for key in ("case", "video"):
        if not isinstance(data[key], str) or not data[key]:
            raise TruthError(f"{where}: {key} must be a non-empty string")
    duration = data["duration_s"]
    if not _number(duration) or duration <= 0:
        raise TruthError(f"{where}: duration_s must be a positive number of seconds")
    max_mae = data.get("max_mae", 1.0)
    if not _number(max_mae) or not 0 <= max_mae <= 100:
        raise TruthError(f"{where}: max_mae must be a number 0..100")
    for key in ("note", "rule"):
        if not isinstance(data.get(key, ""), str):
            raise TruthError(f"{where}: {key} must be a string")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise TruthError(f"{where}: tags must be a list of strings")
    return HallTruth(data["case"], data["video"], float(duration),
                     _samples(data["counts"], where, float(duration)), float(max_mae),
                     data.get("note", ""), data.get("rule", ""), tuple(tags))


def load_hall_truth(path: Path) -> HallTruth:
    """Read and check one hall truth file."""
    return parse_hall_truth(read_truth_json(path), str(path))


def video_path(truth: HallTruth, folder: Path) -> Path:
    """The truth's video: absolute as written, else beside the truth file."""
    p = Path(truth.video)
    return p if p.is_absolute() else folder / p
