"""The truth of one video: its transactions and absences, one JSON file per video.

Format (docs/eval.md)::

    {"suite": "presence", "case": "back_to_back_3s", "video": "back_to_back_3s.mp4",
     "duration_s": 36.0, "note": "...",
     "transactions": [[4.0, 16.0], [19.0, 31.0]],
     "absences": [[15.0, 45.0]]}

Times are seconds from the start of the video. ``transactions`` are customer
visits (one per customer; a companion standing beside them is the same visit),
``absences`` the times the seat was empty after it was first occupied; an
absence still open at the end of the video ends at ``duration_s``.

A real clip whose camera does not look at a counter names its own zones
(``"zones": {"customer": [x0, y0, x1, y1], "seat": [...]}``, frame fractions):
the replay uses them instead of the unit's default boxes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Interval = tuple[float, float]
Box = tuple[float, float, float, float]
SUITES = ("presence",)
ZONE_NAMES = ("seat", "customer")


class TruthError(ValueError):
    """A truth file is malformed; the message names the file, the key and the rule."""


@dataclass(frozen=True, slots=True)
class Truth:
    """What really happened in one video."""

    case: str
    video: str
    duration_s: float
    transactions: tuple[Interval, ...] = ()
    absences: tuple[Interval, ...] = ()
    suite: str = "presence"
    note: str = ""
    tags: tuple[str, ...] = field(default=())
    zones: tuple[tuple[str, Box], ...] = ()  # (name, box) the replay uses; () = the unit's

    def to_json(self) -> dict[str, Any]:
        zones = {"zones": {n: list(b) for n, b in self.zones}} if self.zones else {}
        return {
            "suite": self.suite, "case": self.case, "video": self.video,
            "duration_s": self.duration_s, "note": self.note, "tags": list(self.tags),
            "transactions": [list(i) for i in self.transactions],
            "absences": [list(i) for i in self.absences], **zones,
        }


def _intervals(raw: Any, key: str, where: str, duration: float) -> tuple[Interval, ...]:
    if not isinstance(raw, list):
        raise TruthError(f"{where}: {key} must be a list of [start, end] pairs")
    out: list[Interval] = []
    for i, item in enumerate(raw):
        ok = (isinstance(item, list) and len(item) == 2
              and all(isinstance(v, int | float) and not isinstance(v, bool) for v in item))
        if not ok:
            raise TruthError(f"{where}: {key}[{i}] must be [start, end] in seconds")
        start, end = float(item[0]), float(item[1])
        if not 0.0 <= start < end <= duration + 1e-6:
            raise TruthError(f"{where}: {key}[{i}] needs 0 <= start < end <= duration_s")
        if out and start < out[-1][1]:
            raise TruthError(f"{where}: {key}[{i}] overlaps or precedes the one before")
        out.append((start, end))
    return tuple(out)


def _zones(raw: Any, where: str) -> tuple[tuple[str, Box], ...]:
    if not isinstance(raw, dict):
        raise TruthError(f"{where}: zones must be an object of name: [x0, y0, x1, y1]")
    out: list[tuple[str, Box]] = []
    for name, box in raw.items():
        if name not in ZONE_NAMES:
            raise TruthError(f"{where}: zones.{name}: a zone is one of {', '.join(ZONE_NAMES)}")
        ok = (isinstance(box, list) and len(box) == 4
              and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box))
        if not ok:
            raise TruthError(f"{where}: zones.{name} must be [x0, y0, x1, y1] frame fractions")
        x0, y0, x1, y1 = (float(v) for v in box)
        if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
            raise TruthError(f"{where}: zones.{name} needs 0 <= x0 < x1 <= 1, 0 <= y0 < y1 <= 1")
        out.append((name, (x0, y0, x1, y1)))
    return tuple(out)


def parse_truth(data: Any, where: str) -> Truth:
    """A Truth from decoded JSON; TruthError names ``where`` and the bad key."""
    if not isinstance(data, dict):
        raise TruthError(f"{where}: a truth file holds one JSON object")
    known = {"suite", "case", "video", "duration_s", "note", "tags", "transactions", "absences",
             "zones"}
    extra = sorted(set(data) - known)
    if extra:
        raise TruthError(f"{where}: unknown key(s) {', '.join(extra)}")
    for key in ("case", "video", "duration_s"):
        if key not in data:
            raise TruthError(f"{where}: {key} is required")
    suite = data.get("suite", "presence")
    if suite not in SUITES:
        raise TruthError(f"{where}: suite must be one of {', '.join(SUITES)}")
    for key in ("case", "video"):
        if not isinstance(data[key], str) or not data[key]:
            raise TruthError(f"{where}: {key} must be a non-empty string")
    duration = data["duration_s"]
    if not isinstance(duration, int | float) or isinstance(duration, bool) or duration <= 0:
        raise TruthError(f"{where}: duration_s must be a positive number of seconds")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise TruthError(f"{where}: tags must be a list of strings")
    note = data.get("note", "")
    if not isinstance(note, str):
        raise TruthError(f"{where}: note must be a string")
    return Truth(
        data["case"], data["video"], float(duration),
        _intervals(data.get("transactions", []), "transactions", where, float(duration)),
        _intervals(data.get("absences", []), "absences", where, float(duration)),
        suite, note, tuple(tags), _zones(data.get("zones", {}), where),
    )


def read_truth_json(path: Path) -> Any:
    """A truth file's JSON, every suite's; TruthError naming the file if unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TruthError(f"{path}: cannot read JSON ({exc})") from exc


def load_truth(path: Path) -> Truth:
    """Read and check one truth file."""
    return parse_truth(read_truth_json(path), str(path))


def save_truth(truth: Truth, path: Path) -> None:
    path.write_text(json.dumps(truth.to_json(), indent=1) + "\n", encoding="utf-8")
