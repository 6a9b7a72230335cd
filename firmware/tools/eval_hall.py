"""``counterunit eval hall``: the hall role replayed over each video, counts scored against truth.

Cases: the hand-counted vtest.avi (tests/data/hall) and composed ones, k = 0, 2,
4, 6 people over vtest's empty plaza (vision/hall/compose.py), written into
``--dir`` (default: a new temporary folder) unless there already; any other
hall truth file in ``--dir`` is scored too. ``--no-compose``: only ``--dir``. Each
video is decoded with PyAV and every frame the counter wants goes through the
same ``HallMonitor`` a hall unit runs (media time as the clock); its count at
each truth sample is scored. Last line: ``eval hall: P/N cases pass``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from firmware.hall.config import HallConfig
from firmware.hall.monitor import HallEvent, HallMonitor
from vision.hall.score import CountScore, score_counts
from vision.hall.truth import HallTruth, TruthError, load_hall_truth, video_path

TRUTH_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "hall"


@dataclass(frozen=True, slots=True)
class HallResult:
    """One case: its score, the events the monitor raised, and what the count cost."""

    truth: HallTruth
    score: CountScore
    counts: dict[float, int]
    events: tuple[HallEvent, ...]
    media_s: float
    wall_s: float
    count_ms: float


def replay_counts(video: Path, cfg: HallConfig) -> tuple[dict[float, int], list[HallEvent],
                                                         float, float]:
    """Counts (time -> people in all areas) and events over ``video``; media seconds and
    the mean milliseconds the monitor spent per frame it used."""
    import av

    monitor = HallMonitor(cfg, id_prefix="eval")
    counts: dict[float, int] = {}
    events: list[HallEvent] = []
    spent, used, last_t = 0.0, 0, 0.0
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        first: float | None = None
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            first = frame.time if first is None else first
            t = round(frame.time - first, 6)  # media time from the first frame
            last_t = t
            if not monitor.wants(t):
                continue
            image = frame.to_ndarray(format="rgb24")
            start = time.perf_counter()
            events += monitor.observe(image, t)
            spent += time.perf_counter() - start
            used += 1
            if monitor.last is not None and monitor.last.t == t:
                counts[round(t, 3)] = monitor.last.total
    return counts, events, last_t, 1000 * spent / max(used, 1)


def run_case(truth: HallTruth, folder: Path, cfg: HallConfig) -> HallResult:
    video = video_path(truth, folder)
    if not video.is_file():
        raise TruthError(f"{folder / truth.case}.json: video {truth.video} not found")
    start = time.perf_counter()
    counts, events, media, cost = replay_counts(video, cfg)
    wall = time.perf_counter() - start
    return HallResult(truth, score_counts(truth, counts), counts, tuple(events), media, wall,
                      cost)


def row(r: HallResult) -> str:
    worst = sorted(r.score.errors, key=lambda e: -abs(e[1]))[:3]
    far = " ".join(f"t={t:g}:{e:+d}" for t, e in worst if e) or "-"
    return (f"{'ok  ' if r.score.ok else 'FAIL'} {r.truth.case:<16} {r.score.text()} | "
            f"worst {far}")


def prepare(folder: Path, names: list[str] | None) -> None:
    """Compose the selected composed cases into ``folder`` unless video and truth exist."""
    import json

    from vision.hall.compose import COUNTS, case_name, compose_case

    for k in COUNTS:
        name = case_name(k)
        if names and name not in names:
            continue
        if not ((folder / f"{name}.mp4").is_file() and (folder / f"{name}.json").is_file()):
            truth = compose_case(k, folder)
            (folder / f"{name}.json").write_text(json.dumps(truth.to_json(), indent=1) + "\n")


def evaluate(folders: list[Path], names: list[str] | None, cfg: HallConfig) -> list[HallResult]:
    """Score every hall truth file in ``folders`` (or only ``names``); one line per case."""
    truths = [(load_hall_truth(p), f) for f in folders for p in sorted(f.glob("*.json"))]
    unknown = sorted(set(names or []) - {t.case for t, _ in truths})
    if unknown:
        raise TruthError(f"unknown case(s): {', '.join(unknown)}")
    results = []
    for truth, folder in truths:
        if names and truth.case not in names:
            continue
        result = run_case(truth, folder, cfg)
        print(row(result), flush=True)
        results.append(result)
    return results


def summary(results: list[HallResult]) -> str:
    media = sum(r.media_s for r in results)
    wall = sum(r.wall_s for r in results)
    samples = sum(len(r.score.errors) for r in results)
    abs_err = sum(abs(e) for r in results for _, e in r.score.errors)
    cost = max((r.count_ms for r in results), default=0.0)
    passed = sum(r.score.ok for r in results)
    return (f"counts: MAE {abs_err / max(samples, 1):.2f} over {samples} samples\n"
            f"replay: {media:.0f} s of video in {wall:.1f} s; hall monitor {cost:.1f} ms "
            f"per frame it takes\n"
            f"eval hall: {passed}/{len(results)} cases pass")


def cmd_eval_hall(args: argparse.Namespace) -> int:
    """Exit 0 when every case passes, 1 when one fails, 2 for bad input."""
    from firmware.config.unit import ConfigError, load_config

    try:
        unit = load_config(args.config) if args.config else None
    except ConfigError as exc:
        print(f"eval hall: {exc}", file=sys.stderr)
        return 2
    cfg = unit.hall if unit is not None and unit.hall is not None else HallConfig.model_validate({})
    folder: Path = args.dir or Path(tempfile.mkdtemp(prefix="counterunit-eval-hall-"))
    folder.mkdir(parents=True, exist_ok=True)
    names = args.case or None
    try:
        if args.no_compose:
            folders = [folder]
        else:
            prepare(folder, names)
            folders = [TRUTH_DIR, folder]
        results = evaluate(folders, names, cfg)
    except TruthError as exc:
        print(f"eval hall: {exc}", file=sys.stderr)
        return 2
    print(summary(results))
    print(f"eval videos and truth in {folder}", file=sys.stderr)
    return 0 if results and all(r.score.ok for r in results) else 1
