"""Reports from rollups: a year must cost about what a month does.

Seeds a fleet through HQ's ingest (``hq.reports.demo.seed``, the same code as
``counterunit hq seed-demo``), one calendar year ending on ``--end``, then times the
staff report (figures of every staff member in the organisation, with its
incompleteness flags) for each month and for the whole year, alternating, and prints,
last, one line::

    reports: year/month ratio R, month p95 T ms (W windows, D days)

R is the median year time over the median month time; exit status 1 when R > 2.

    python -m bench.bench_reports [--branches 4 --halls 5 --windows 10] [--days 365]
        [--txn-per-day 3] [--rounds 5] [--data DIR (reuse a seeded folder)]

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hq.reports.demo.seed import SeedSpec, seed
from hq.reports.query import levels
from hq.storage.scope import Scope
from hq.storage.sqlite import connect


def _time(fn: object, *args: object) -> float:
    t0 = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return (time.perf_counter() - t0) * 1000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--branches", type=int, default=4)
    p.add_argument("--halls", type=int, default=5)
    p.add_argument("--windows", type=int, default=10)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--txn-per-day", type=float, default=3.0)
    p.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 12, 31))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--data", type=Path, help="a folder seeded before (skips seeding)")
    args = p.parse_args(argv)
    tmp = None
    data = args.data
    if data is None or not (data / "events.db").exists():
        if data is None:
            tmp = tempfile.TemporaryDirectory(prefix="bench-reports-")
            data = Path(tmp.name)
        t0 = time.perf_counter()
        counts = seed(data, SeedSpec(branches=args.branches, halls=args.halls,
                                     windows=args.windows, days=args.days,
                                     txn_per_day=args.txn_per_day, end=args.end,
                                     prompts=False))
        took = time.perf_counter() - t0
        print(f"seeded {counts['events']} events, {counts['shifts']} shifts in {took:.0f} s "
              f"({counts['events'] / took:.0f} events/s through ingest)", flush=True)
    conn = connect(data / "events.db")
    windows = int(conn.execute("SELECT COUNT(*) FROM org_windows").fetchone()[0])
    lo, hi = conn.execute("SELECT MIN(period), MAX(period) FROM rpt_rollup "
                          "WHERE period LIKE 'D%'").fetchone()
    days = (dt.date.fromisoformat(hi[1:]) - dt.date.fromisoformat(lo[1:])).days + 1
    year = args.end.year
    months = [(dt.date(year, m, 1), (dt.date(year + m // 12, m % 12 + 1, 1)
                                     - dt.timedelta(days=1))) for m in range(1, 13)]
    scope = Scope.everything()
    levels.report(conn, scope, "staff", *months[0])  # warm the page cache once
    month_ms: list[float] = []
    year_ms: list[float] = []
    for _ in range(args.rounds):
        for first, last in months:
            month_ms.append(_time(levels.report, conn, scope, "staff", first, last))
            year_ms.append(_time(levels.report, conn, scope, "staff",
                                 dt.date(year, 1, 1), dt.date(year, 12, 31)))
    odd = _time(levels.report, conn, scope, "staff", dt.date(year, 2, 15),
                dt.date(year, 12, 31))
    rows = len(levels.report(conn, scope, "staff", dt.date(year, 1, 1),
                              dt.date(year, 12, 31)).rows)
    conn.close()
    ratio = statistics.median(year_ms) / statistics.median(month_ms)
    p95 = statistics.quantiles(month_ms, n=20)[18]
    print(f"staff rows {rows}; month median {statistics.median(month_ms):.1f} ms, year median "
          f"{statistics.median(year_ms):.1f} ms; 15 Feb-31 Dec (days + months) {odd:.1f} ms")
    print(f"reports: year/month ratio {ratio:.2f}, month p95 {p95:.0f} ms "
          f"({windows} windows, {days} days)", flush=True)
    if tmp is not None:
        tmp.cleanup()
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
