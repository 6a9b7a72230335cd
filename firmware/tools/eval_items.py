"""``counterunit eval items``: the whole unit replayed over each item case, scored.

As ``eval presence`` (firmware/tools/eval_presence.py): a folder of one video and one
truth file per case (vision/items/truth.py, docs/eval.md); the built-in composed
cases (vision/items/cases.py) are written first unless present. Each video runs
through the real unit with the counter zone of the composed scenes; its
``item_left`` / ``item_taken`` events are scored.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from firmware.config.unit import UnitConfig, load_config
from firmware.tools.eval_presence import replay_events
from firmware.tools.replay import replay_config
from vision.evalsuite.truth import TruthError
from vision.items.cases import COUNTER_BOX, ItemCase, item_cases
from vision.items.truth import (
    Got,
    ItemsTruth,
    KindScore,
    load_items_truth,
    save_items_truth,
    score_items,
)


def base_config(video: Path, out: Path, base: UnitConfig | None) -> UnitConfig:
    """``base`` (or defaults) with the scenes' counter zone unless ``base`` has one."""
    if base is not None and "counter" in base.zones:
        return base
    return replay_config(video, out, base=base, zones=[("counter", COUNTER_BOX)])


def run_case(video: Path, truth: ItemsTruth, out: Path,
             base: UnitConfig | None) -> tuple[dict[str, KindScore], list[Got]]:
    events = replay_events(video, out, base_config(video, out, base))
    got = [Got(e.type, e.mono, tuple(e.data["box"]))
           for e in events if e.type in ("item_left", "item_taken")]
    return score_items(truth, got), got


def prepare(folder: Path, selected: list[ItemCase]) -> None:
    from vision.items.scenes import compose_items

    for c in selected:
        video, truth = folder / f"{c.name}.mp4", folder / f"{c.name}.json"
        if not (video.is_file() and truth.is_file()):
            compose_items(c.scene, video)
            save_items_truth(c.truth(), truth)


def row(truth: ItemsTruth, scores: dict[str, KindScore], got: list[Got]) -> str:
    ok = all(s.ok for s in scores.values())
    events = " ".join(f"{g.type}@{g.t:.1f}" for g in got) or "-"
    return (f"{'ok  ' if ok else 'FAIL'} {truth.case:<18} left {scores['items_left'].text():<22} "
            f"taken {scores['items_taken'].text():<22} | got {events}")


def cmd_eval_items(args: argparse.Namespace) -> int:
    """Exit 0 when every case passes, 1 when one fails, 2 for bad input."""
    base = load_config(args.config) if args.config else None
    folder: Path = args.dir or Path(tempfile.mkdtemp(prefix="counterunit-eval-items-"))
    folder.mkdir(parents=True, exist_ok=True)
    names = args.case or None
    builtin = item_cases()
    try:
        unknown = sorted(set(names or []) - {c.name for c in builtin}
                         - {p.stem for p in folder.glob("*.json")})
        if unknown:
            raise TruthError(f"unknown case(s): {', '.join(unknown)}")
        if not args.no_compose:
            prepare(folder, [c for c in builtin if not names or c.name in names])
        passed = total = 0
        for path in sorted(folder.glob("*.json")):
            truth = load_items_truth(path)
            if names and truth.case not in names:
                continue
            video = folder / truth.video
            if not video.is_file():
                raise TruthError(f"{path}: video {truth.video} not found in {folder}")
            with tempfile.TemporaryDirectory(prefix="counterunit-eval-") as out:
                scores, got = run_case(video, truth, Path(out), base)
            print(row(truth, scores, got), flush=True)
            total += 1
            passed += all(s.ok for s in scores.values())
    except TruthError as exc:
        print(f"eval items: {exc}", file=sys.stderr)
        return 2
    print(f"eval items: {passed}/{total} cases pass")
    print(f"eval videos and truth in {folder}", file=sys.stderr)
    return 0 if total and passed == total else 1
