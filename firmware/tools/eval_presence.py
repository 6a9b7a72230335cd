"""``counterunit eval presence``: the whole unit replayed over each case, scored against truth.

A folder holds one video and one truth file (``NAME.json``, docs/eval.md) per
case. The built-in composed cases (vision/evalsuite/cases.py) are written
there first unless already present; any other truth file in the folder (a
hand-annotated real clip, say) is scored too, and so are the suite's own real
clips (tests/data/presence/, vision/evalsuite/real.py) with the zones their
truth names. Each video runs through the real
unit exactly as ``counterunit replay`` does; transactions and absences come
from its events.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware.config.unit import UnitConfig, load_config
from firmware.system.clock import MediaClock
from firmware.tools.replay import replay_config
from firmware.tools.script import ScriptedBadgeReader, ScriptedKeypad
from firmware.wiring.runner import Overrides, open_unit
from sync.schema import EventEnvelope
from vision.evalsuite.cases import Case, cases
from vision.evalsuite.real import real_cases, real_names
from vision.evalsuite.score import Score, score
from vision.evalsuite.truth import Interval, Truth, TruthError, load_truth, save_truth


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case's decided intervals and their scores."""

    truth: Truth
    transactions: tuple[Interval, ...]
    absences: tuple[Interval, ...]
    txn_score: Score
    absence_score: Score
    media_s: float
    wall_s: float

    @property
    def ok(self) -> bool:
        return self.txn_score.ok and self.absence_score.ok


def pairs(events: list[EventEnvelope], start: str, end: str, key: str,
          duration: float) -> tuple[Interval, ...]:
    """(start, end) per id from start/end events; one never ended ends at ``duration``."""
    ends = {e.data[key]: e.mono for e in events if e.type == end}
    return tuple((e.mono, ends.get(e.data[key], duration)) for e in events if e.type == start)


def replay_events(video: Path, out: Path, base: UnitConfig | None,
                  zones: Truth | None = None) -> list[EventEnvelope]:
    """Every event the unit emits over ``video`` (media time), as ``counterunit replay``;
    with the zones ``zones`` (a truth) names, if any."""
    boxes = list(zones.zones) if zones else None
    cfg = replay_config(video, out, base=base, zones=boxes or None)
    clock = MediaClock()
    events: list[EventEnvelope] = []
    overrides = Overrides(ScriptedKeypad([], clock), ScriptedBadgeReader([], clock),
                          replace_serial=True)
    unit = open_unit(cfg, media_time=True, media_clock=clock, overrides=overrides,
                     on_event=events.append)
    try:
        unit.run()
    finally:
        unit.store.close()
    return events


def run_case(video: Path, truth: Truth, out: Path, base: UnitConfig | None) -> CaseResult:
    start = time.perf_counter()
    events = replay_events(video, out, base, truth)
    wall = time.perf_counter() - start
    d = truth.duration_s
    txns = pairs(events, "transaction_started", "transaction_ended", "txn_id", d)
    absences = pairs(events, "absence_started", "absence_ended", "absence_id", d)
    return CaseResult(truth, txns, absences, score(truth.transactions, txns),
                      score(truth.absences, absences), d, wall)


def prepare(folder: Path, selected: list[Case]) -> None:
    """Compose each selected case's video and truth into ``folder`` unless both exist."""
    from vision.compose.scenes import compose

    for c in selected:
        video, truth = folder / f"{c.name}.mp4", folder / f"{c.name}.json"
        if not (video.is_file() and truth.is_file()):
            compose(c.spec, video, preset="ultrafast")
            save_truth(c.truth(), truth)


def fmt(ivs: tuple[Interval, ...]) -> str:
    return " ".join(f"{a:.1f}-{b:.1f}" for a, b in ivs) or "-"


def row(r: CaseResult) -> str:
    t = r.truth
    return (f"{'ok  ' if r.ok else 'FAIL'} {t.case:<22} txn {r.txn_score.text():<34} "
            f"abs {r.absence_score.text():<20} | truth {fmt(t.transactions)} got "
            f"{fmt(r.transactions)}; absences truth {fmt(t.absences)} got {fmt(r.absences)}")


def evaluate(folder: Path, names: list[str] | None, base: UnitConfig | None,
             compose_missing: bool = True, real: bool | None = None) -> list[CaseResult]:
    """Prepare and score the suite in ``folder``; prints one line per case as it goes.

    ``real`` (default: as ``compose_missing``) adds the real clips of
    tests/data/presence/ after the folder's cases.
    """
    builtin = cases()
    known = {c.name for c in builtin} | set(real_names())
    unknown = sorted(set(names or []) - known - {p.stem for p in folder.glob("*.json")})
    if unknown:
        raise TruthError(f"unknown case(s): {', '.join(unknown)}")
    selected = [c for c in builtin if not names or c.name in names]
    if compose_missing:
        prepare(folder, selected)
    todo: list[tuple[Path, Truth]] = []
    for path in sorted(folder.glob("*.json")):
        truth = load_truth(path)
        video = folder / truth.video
        if not video.is_file():
            raise TruthError(f"{path}: video {truth.video} not found in {folder}")
        todo.append((video, truth))
    if compose_missing if real is None else real:
        seen = {t.case for _, t in todo}
        todo += [(v, t) for v, t in real_cases() if t.case not in seen]
    results = []
    for video, truth in todo:
        if names and truth.case not in names:
            continue
        with tempfile.TemporaryDirectory(prefix="counterunit-eval-") as out:
            result = run_case(video, truth, Path(out), base)
        print(row(result), flush=True)
        results.append(result)
    return results


def summary(results: list[CaseResult]) -> str:
    passed = sum(r.ok for r in results)
    totals: dict[str, int] = {}
    for r in results:
        for kind, s in (("txn", r.txn_score), ("abs", r.absence_score)):
            for key in ("exact", "late", "fragmented", "merged", "spurious", "missed"):
                totals[f"{kind}_{key}"] = totals.get(f"{kind}_{key}", 0) + getattr(s, key)
    media = sum(r.media_s for r in results)
    wall = sum(r.wall_s for r in results)
    speed = media / wall if wall else 0.0
    txn = ", ".join(f"{k[4:]} {v}" for k, v in totals.items() if k.startswith("txn_"))
    ab = ", ".join(f"{k[4:]} {v}" for k, v in totals.items() if k.startswith("abs_"))
    return (f"transactions: {txn}\nabsences: {ab}\n"
            f"replay: {media:.0f} s of video in {wall:.0f} s ({speed:.1f}x real time)\n"
            f"eval presence: {passed}/{len(results)} cases pass")


def cmd_eval(args: argparse.Namespace) -> int:
    """Exit 0 when every case passes, 1 when one fails, 2 for bad input."""
    base: Any = load_config(args.config) if args.config else None
    folder: Path = args.dir or Path(tempfile.mkdtemp(prefix="counterunit-eval-presence-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        results = evaluate(folder, args.case or None, base, compose_missing=not args.no_compose)
    except TruthError as exc:
        print(f"eval presence: {exc}", file=sys.stderr)
        return 2
    print(summary(results))
    print(f"eval videos and truth in {folder}", file=sys.stderr)
    return 0 if results and all(r.ok for r in results) else 1
