"""Truth files of the item suite, and scoring item events against them (pure).

Format (docs/eval.md, "items")::

    {"suite": "items", "case": "left_cup", "video": "left_cup.mp4", "duration_s": 38.0,
     "note": "...", "tags": ["left"],
     "items_left": [{"at": 18.0, "box": [0.42, 0.86, 0.52, 0.97]}],
     "items_taken": [{"at": 34.0, "box": [0.42, 0.86, 0.52, 0.97]}]}

``at`` is when the item was left (the customer stepped away) or taken (it
vanished); ``box`` is where it lay, in frame fractions (x0, y0, x1, y1).
Scoring: a ``item_left`` / ``item_taken`` event finds a truth entry of its kind
when its time is within [at - EARLY_S, at + LATE_S] (the unit decides only after
the customer's exit hold and the item hold) and its box overlaps the entry's.
Each entry is found at most once. A case passes when every entry is found and
no event is left over (spurious). ``item_collected`` is not scored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vision.evalsuite.truth import TruthError, read_truth_json

Box = tuple[float, float, float, float]
KINDS = ("items_left", "items_taken")
EVENT_OF = {"items_left": "item_left", "items_taken": "item_taken"}
EARLY_S = 0.5
LATE_S = 25.0


@dataclass(frozen=True, slots=True)
class Mark:
    """One true item event: when and where."""

    at: float
    box: Box


@dataclass(frozen=True, slots=True)
class ItemsTruth:
    """What really happened on the counter in one video."""

    case: str
    video: str
    duration_s: float
    items_left: tuple[Mark, ...] = ()
    items_taken: tuple[Mark, ...] = ()
    note: str = ""
    tags: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"suite": "items", "case": self.case, "video": self.video,
                "duration_s": self.duration_s, "note": self.note, "tags": list(self.tags),
                **{k: [{"at": m.at, "box": list(m.box)} for m in getattr(self, k)]
                   for k in KINDS}}


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _marks(raw: Any, key: str, where: str, duration: float) -> tuple[Mark, ...]:
    if not isinstance(raw, list):
        raise TruthError(f"{where}: {key} must be a list of {{at, box}} objects")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != {"at", "box"}:
            raise TruthError(f"{where}: {key}[{i}] must be an object with keys at and box")
        at, box = item["at"], item["box"]
        if not _number(at) or not 0 <= at <= duration:
            raise TruthError(f"{where}: {key}[{i}].at must be seconds within the video")
        ok = isinstance(box, list) and len(box) == 4 and all(_number(v) for v in box)
        if not ok or not (0 <= box[0] < box[2] <= 1 and 0 <= box[1] < box[3] <= 1):
            raise TruthError(f"{where}: {key}[{i}].box must be [x0, y0, x1, y1] fractions "
                             "with x0 < x1 and y0 < y1")
        out.append(Mark(float(at), (float(box[0]), float(box[1]), float(box[2]),
                                    float(box[3]))))
    return tuple(out)


def parse_items_truth(data: Any, where: str) -> ItemsTruth:
    """An ItemsTruth from decoded JSON; TruthError names ``where`` and the bad key."""
    if not isinstance(data, dict):
        raise TruthError(f"{where}: a truth file holds one JSON object")
    known = {"suite", "case", "video", "duration_s", "note", "tags", *KINDS}
    extra = sorted(set(data) - known)
    if extra:
        raise TruthError(f"{where}: unknown key(s) {', '.join(extra)}")
    if data.get("suite") != "items":
        raise TruthError(f"{where}: suite must be \"items\"")
    for key in ("case", "video"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise TruthError(f"{where}: {key} must be a non-empty string")
    duration = data.get("duration_s")
    if not isinstance(duration, int | float) or isinstance(duration, bool) or duration <= 0:
        raise TruthError(f"{where}: duration_s must be a positive number of seconds")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise TruthError(f"{where}: tags must be a list of strings")
    note = data.get("note", "")
    if not isinstance(note, str):
        raise TruthError(f"{where}: note must be a string")
    d = float(duration)
    return ItemsTruth(data["case"], data["video"], d,
                      _marks(data.get("items_left", []), "items_left", where, d),
                      _marks(data.get("items_taken", []), "items_taken", where, d),
                      note, tuple(tags))


def load_items_truth(path: Path) -> ItemsTruth:
    """Read and check one truth file."""
    return parse_items_truth(read_truth_json(path), str(path))


def save_items_truth(truth: ItemsTruth, path: Path) -> None:
    path.write_text(json.dumps(truth.to_json(), indent=1) + "\n", encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Got:
    """One item event the unit emitted."""

    type: str
    t: float
    box: Box


@dataclass(frozen=True, slots=True)
class KindScore:
    truth: int
    found: int
    spurious: int

    @property
    def ok(self) -> bool:
        return self.found == self.truth and self.spurious == 0

    def text(self) -> str:
        extra = f", {self.spurious} spurious" if self.spurious else ""
        missed = self.truth - self.found
        return f"{self.found}/{self.truth} found" + (f", {missed} missed" if missed else "") + extra


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def score_kind(marks: tuple[Mark, ...], got: list[Got]) -> KindScore:
    """Greedy in time order: each event takes the earliest unfound entry it fits."""
    found: set[int] = set()
    spurious = 0
    for g in sorted(got, key=lambda g: g.t):
        hit = next((i for i, m in enumerate(marks) if i not in found
                    and m.at - EARLY_S <= g.t <= m.at + LATE_S and _overlaps(m.box, g.box)),
                   None)
        if hit is None:
            spurious += 1
        else:
            found.add(hit)
    return KindScore(len(marks), len(found), spurious)


def score_items(truth: ItemsTruth, got: list[Got]) -> dict[str, KindScore]:
    """Scores per kind (``items_left``, ``items_taken``)."""
    return {k: score_kind(getattr(truth, k), [g for g in got if g.type == EVENT_OF[k]])
            for k in KINDS}
