"""Power cuts for real, many of them: the daemon and sync under the shim, cut at random.

Every write not fsynced at the cut is lost (tests/powercut/, docs/powercut.md). After
each cut the store and the clips are checked as the next boot finds them; the next
boot then salvages what was open. The last line sums it up and the exit status is
non-zero if anything was missed:

    python -m bench.bench_powercut [--cuts 1000] [--seed 1] [--minutes M] [--no-sync] [--cold]
    powercut: N cuts, 0 events lost, 0 integrity errors, C clips playable, S salvaged within 1 s

Also the disk's cost of durability per minute of running: bytes written and fsyncs,
for clips and for the store, and where a cut's time goes. ``make soak`` runs the
thousand cuts.

Each boot's programs are forked from one warm interpreter (tests/powercut/warm.py), so
a boot skips the second or more of imports a cold ``python -m firmware.cli`` spends
before it touches the data folder; the cut lands 0-8 s into the boot, which covers the
daemon's first ~8 s as the cold 0.2-9 s did on an idle machine (more under load, where
the imports took longer). ``--cold --min-run-s 0.2 --max-run-s 9`` is the bench as
it was.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.helpers.hq.server import running_hq
from tests.powercut.build import build_shim
from tests.powercut.checks import Tally
from tests.powercut.harness import Figures, hq_event_uuids, make_video, run_cuts
from tests.powercut.rig import UNIT_ID, SyncTarget


def summary(t: Tally) -> str:
    return (f"powercut: {t.cuts} cuts, {t.lost_events} events lost, {t.integrity_errors} "
            f"integrity errors, {t.clips_playable} clips playable, {t.salvaged_within} "
            f"salvaged within 1 s")


def details(t: Tally, f: Figures) -> list[str]:
    minutes = f.seconds / 60 or 1.0
    n = max(t.cuts, 1)
    other = f.wall_s - f.seconds - f.cut_s - f.check_s
    return [
        f"  wall {f.wall_s:.0f} s, {f.wall_s / max(t.cuts, 1):.2f} s per cut; the programs ran "
        f"{f.seconds:.0f} s in all, {f.events_committed} events committed",
        f"  per cut: {f.seconds / n:.2f} s running, {f.cut_s / n:.2f} s to cut and roll "
        f"back, {f.check_s / n:.2f} s checking, {other / n:.2f} s else",
        f"  clips: {t.clips_playable} playable, {t.clips_unplayable} not; open at a cut: "
        f"{t.salvaged_within} within 1 s, {t.salvaged_late} later, {t.empty_at_cut} empty; "
        f"worst loss {t.worst_salvage_loss_s:.2f} s",
        f"  torn events {t.torn_events}, boots with a crash {t.crashes}, writes undone "
        f"{f.undone}",
        f"  per minute of running: {f.bytes_written / minutes / 1e6:.2f} MB written "
        f"({f.clip_bytes / minutes / 1e6:.2f} MB clips), {f.fsyncs / minutes:.0f} fsyncs "
        f"({f.clip_fsyncs / minutes:.0f} clips), {f.dirsyncs / minutes:.0f} folder fsyncs",
    ]


@contextlib.contextmanager
def sync_target(root: Path, data: Path, enabled: bool) -> Iterator[tuple[
        SyncTarget | None, Path | None]]:
    if not enabled:
        yield None, None
        return
    with running_hq(root / "hq") as hq:
        ident = hq.enrolled_unit(UNIT_ID)
        shutil.copytree(ident.directory, data / "identity")
        yield SyncTarget(hq.url, data / "identity"), hq.root / "data" / "events.db"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cuts", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-run-s", type=float, default=0.0,
                    help="a cut lands at least this long after a boot starts")
    ap.add_argument("--max-run-s", type=float, default=8.0,
                    help="a cut lands up to this long after a boot starts")
    ap.add_argument("--cold", action="store_true",
                    help="start each program as a new interpreter, not forked from a warm "
                         "one (each then spends its first second or more importing; the "
                         "bench before the warm interpreter: --cold --min-run-s 0.2 "
                         "--max-run-s 9)")
    ap.add_argument("--minutes", type=float,
                    help="start no cut after this long (the summary counts the cuts run)")
    ap.add_argument("--no-sync", action="store_true", help="the daemon alone, no HQ")
    ap.add_argument("--work", type=Path, help="keep the data here (default: a temp folder)")
    ap.add_argument("--every", type=int, default=25, help="print the tally every N cuts")
    args = ap.parse_args(argv)
    logging.getLogger("hq").setLevel(logging.ERROR)  # HQ has no config for the unit: fine

    with contextlib.ExitStack() as stack:
        work = args.work or Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="bench-powercut-")))
        work.mkdir(parents=True, exist_ok=True)
        shim = build_shim(work / "build")
        video = make_video(work / "visits.mp4")
        rig_dir = work / "rig"
        (rig_dir / "data").mkdir(parents=True, exist_ok=True)
        target, hq_db = stack.enter_context(
            sync_target(work, rig_dir / "data", not args.no_sync))
        t0 = time.monotonic()

        def progress(n: int, t: Tally) -> None:
            if n % args.every == 0:
                rate = (time.monotonic() - t0) / n
                print(f"{summary(t)} ({rate:.2f} s per cut; {len(t.failures)} failures)",
                      flush=True)

        tally, figures = run_cuts(
            rig_dir, video, shim, args.cuts, seed=args.seed, min_run_s=args.min_run_s,
            max_run_s=args.max_run_s, warm=not args.cold,
            sync=target, hq_events=(lambda: hq_event_uuids(hq_db)) if hq_db else None,
            deadline=t0 + args.minutes * 60 if args.minutes else None, progress=progress)
    for line in tally.failures:
        print("  MISS", line)
    for line in details(tally, figures):
        print(line)
    print(summary(tally))
    return 0 if tally.ok else 1


if __name__ == "__main__":
    sys.exit(main())
