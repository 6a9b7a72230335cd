"""Boot, run a random while, cut, roll back, check; N times over one data folder.

Each boot's programs run under the shim, forked from a warm interpreter
(tests/powercut/warm.py) unless ``warm=False``; the cut lands at a uniformly random
moment from ``min_run_s`` after the start (so some land during start-up and salvage)
to ``max_run_s``. After the last cut one clean boot settles the clips the cuts left
open, and the store is checked once more after that.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tests.powercut.checks import ClipWatch, Tally, check_after_cut, origins, read_store
from tests.powercut.rig import UNIT_ID, Rig, SyncTarget
from vision.compose.scenes import Appearance, SceneSpec, compose


def make_video(path: Path, seconds: int = 40) -> Path:
    """Staff seated, then away from 30 s; a customer for 2 s every 3.5 s: events every
    second or so, clips that open and close, and off-seat alerts late in a long boot."""
    apps = [Appearance("astronaut", "seat", 0, 30, enter_s=0.0)]
    t = 1.0
    while t < seconds - 2:
        apps.append(Appearance("messi", "customer", t, t + 2.0, enter_s=0.2, leave_s=0.2))
        t += 3.5
    compose(SceneSpec(seconds, fps=10, size=(640, 360), appearances=tuple(apps)), path)
    return path


@dataclass
class Figures:
    """What the disk saw, summed over boots (from the journals)."""

    seconds: float = 0.0  # run time of the boots, start to cut
    bytes_written: int = 0
    writes: int = 0
    fsyncs: int = 0
    dirsyncs: int = 0
    clip_bytes: int = 0
    clip_fsyncs: int = 0
    undone: int = 0
    early_exits: int = 0
    events_committed: int = 0
    wall_s: float = 0.0
    cut_s: float = 0.0  # kill, wait and roll back, summed over cuts
    check_s: float = 0.0  # HQ's events, the store and the clips checked, summed
    logs: list[Path] = field(default_factory=list)


def hq_event_uuids(hq_db: Path, unit_id: str = UNIT_ID) -> set[str]:
    """Events HQ stored for the unit: the unit must still have every one after a cut."""
    conn = sqlite3.connect(f"file:{hq_db}?mode=ro", uri=True, timeout=10)
    try:
        return {r[0] for r in conn.execute("SELECT uuid FROM events WHERE unit_id = ?",
                                           [unit_id])}
    finally:
        conn.close()


def run_cuts(work: Path, video: Path, shim: Path, cuts: int, *, seed: int = 1,
             min_run_s: float = 0.0, max_run_s: float = 8.0, prefix_share: float = 0.3,
             synchronous: Literal["FULL", "NORMAL"] = "FULL",
             sync: SyncTarget | None = None, hq_events: Callable[[], set[str]] | None = None,
             settle: bool = True, deadline: float | None = None, warm: bool = True,
             progress: Callable[[int, Tally], None] | None = None) -> tuple[Tally, Figures]:
    """Run ``cuts`` boot-and-cut rounds in ``work``; returns the tally and the figures.

    A cut lands uniformly in [``min_run_s``, ``max_run_s``] after the boot starts; a
    share ``prefix_share`` of the cuts keep a random prefix of the unsynced writes
    (journal.rollback's ``keep="prefix"``), the others none. ``hq_events``: what HQ has
    acknowledged, which counts as committed too. ``deadline`` (monotonic): start no
    cut after it (the tally says how many ran).
    """
    rng = random.Random(seed)
    rig = Rig(work, video, shim, synchronous=synchronous, sync=sync, warm=warm)
    tally, figures, watch = Tally(), Figures(), ClipWatch()
    t0 = time.monotonic()
    try:
        for i in range(cuts):
            if deadline is not None and time.monotonic() > deadline:
                break
            b = rig.boot()
            rig.watch(b, b.started + rng.uniform(min_run_s, max_run_s))
            keep: Literal["none", "prefix"] = ("prefix" if rng.random() < prefix_share
                                               else "none")
            stats = rig.cut(b, rng, keep)
            t_checks = time.monotonic()
            assert b.cut_at is not None
            figures.cut_s += t_checks - b.cut_at
            if hq_events is not None:
                rig.committed |= hq_events()
            figures.seconds += b.cut_at - b.started
            figures.bytes_written += stats.bytes_written
            figures.writes += stats.writes
            figures.fsyncs += stats.fsyncs
            figures.dirsyncs += stats.dirsyncs
            figures.clip_bytes += stats.clip_bytes
            figures.clip_fsyncs += stats.clip_fsyncs
            figures.undone += stats.undone
            figures.early_exits += len(b.exited_early)
            if b.exited_early:
                tally.crashes += 1
                tally.fail(f"cut {i + 1}: a program exited before the cut; see {b.log_path}")
            figures.logs.append(b.log_path)
            watch.origin.update(origins(b.log_path.read_bytes()))
            tally.cuts += 1
            check_after_cut(read_store(rig.db), rig.committed, rig.data, watch, tally,
                            b.cut_at, f"cut {i + 1} ({keep}, {b.cut_at - b.started:.2f} s)")
            rig.forget(b)
            figures.check_s += time.monotonic() - t_checks
            if progress is not None:
                progress(i + 1, tally)
        if settle:
            code, log = rig.shutdown()
            if hq_events is not None:
                rig.committed |= hq_events()
            if code != 0:
                tally.fail(f"clean boot after the cuts exited {code}: {log[-2000:]!r}")
            check_after_cut(read_store(rig.db), rig.committed, rig.data, watch, tally,
                            time.monotonic(), "after the clean boot")
    finally:
        rig.close()
    figures.events_committed = len(rig.committed)
    figures.wall_s = time.monotonic() - t0
    return tally, figures
