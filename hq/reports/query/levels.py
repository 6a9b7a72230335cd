"""Figures per staff member, window, hall, branch or organisation over a period.

:func:`report` reads a scope over a range of branch-local days at one level;
:func:`compare` adds the previous period and the same period of earlier years;
:func:`trend` the organisation's figures per day or month. The figures themselves come
from :func:`hq.reports.figures.metrics.figures_of`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Literal

from hq.reports.figures.metrics import Figures, figures_of
from hq.reports.figures.periods import DAY, shift_period
from hq.reports.query.honesty import ReportMeta, meta
from hq.reports.query.rollups import Metrics, WindowInfo, merge, read, staff_names, windows
from hq.storage.scope import Scope

Level = Literal["staff", "window", "hall", "branch", "org"]
LEVELS: tuple[Level, ...] = ("staff", "window", "hall", "branch", "org")


@dataclass(frozen=True)
class Report:
    """Rows of one level over one period, with the report's facts."""

    level: Level
    rows: list[Figures]
    meta: ReportMeta
    windows_of: dict[str, set[str]]

    def incomplete(self, key: str) -> bool:
        """Whether a window behind row ``key`` has a gap (or the period is not over)."""
        flagged = {g.window_id for g in self.meta.gaps}
        return self.meta.period_open or bool(self.windows_of.get(key, set()) & flagged)


def _group(level: Level, w: WindowInfo, staff: str) -> tuple[str, str, str] | None:
    if level == "staff":
        return (staff, staff, w.branch) if staff else None
    if level == "window":
        return w.window_id, w.name, w.branch
    if level == "hall":
        return w.hall_id, w.hall, w.branch
    if level == "branch":
        return w.branch_id, w.branch, w.branch
    return "org", "org", ""


def report(conn: sqlite3.Connection, scope: Scope, level: Level, first: dt.date,
           last: dt.date, now: dt.datetime | None = None,
           filters: dict[str, str] | None = None) -> Report:
    """Figures of every ``level`` node (or staff member) in ``scope`` over first..last."""
    if level not in LEVELS:
        raise ValueError(f"level {level!r} must be one of {', '.join(LEVELS)}")
    wins = {w.window_id: w for w in windows(conn, scope)}
    names = staff_names(conn) if level == "staff" else {}
    branch_names = {r[0]: r[1] for r in conn.execute(
        "SELECT branch_id, name FROM org_branches")}
    groups: dict[str, tuple[str, str, Metrics]] = {}
    windows_of: dict[str, set[str]] = {}
    clock: dict[str, float] = {}
    for (w_id, staff), m in read(conn, scope, first, last).items():
        w = wins.get(w_id)
        if w is None:
            continue
        clock[w_id] = clock.get(w_id, 0.0) + m.get("clock_unsynced", 0.0)
        g = _group(level, w, staff)
        if g is None:
            continue
        key, label, branch = g
        if level == "staff" and staff in names:
            label, home = names[staff]
            branch = branch_names.get(home or "", branch)
        if key not in groups:
            groups[key] = (label, branch, {})
        merge(groups[key][2], m)
        windows_of.setdefault(key, set()).add(w_id)
    rows = [figures_of(k, label, branch, m) for k, (label, branch, m) in sorted(groups.items())]
    return Report(level, rows, meta(conn, level, scope, list(wins.values()), first, last,
                                    clock, now, filters), windows_of)


@dataclass(frozen=True)
class Comparison:
    """A period, the one before it and the same period of earlier years."""

    current: Report
    previous: Report
    earlier: list[Report]


def compare(conn: sqlite3.Connection, scope: Scope, level: Level, first: dt.date,
            last: dt.date, years: int = 2, now: dt.datetime | None = None) -> Comparison:
    """:func:`report` for first..last, the previous period and ``years`` earlier years."""
    cur = report(conn, scope, level, first, last, now)
    prev = report(conn, scope, level, *shift_period(first, last, "previous"), now)
    earlier = [report(conn, scope, level, *shift_period(first, last, f"year-{n}"), now)
               for n in range(1, years + 1)]
    return Comparison(cur, prev, earlier)


def trend(conn: sqlite3.Connection, scope: Scope, first: dt.date, last: dt.date,
          now: dt.datetime | None = None) -> list[tuple[str, Figures]]:
    """The organisation-level figures of ``scope`` per day (up to 62 days) or per month."""
    steps: list[tuple[str, dt.date, dt.date]] = []
    if (last - first).days < 62:
        d = first
        while d <= last:
            steps.append((d.isoformat(), d, d))
            d += DAY
    else:
        d = first
        while d <= last:
            nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
            steps.append((f"{d.year}-{d.month:02d}", d, min(last, nxt - DAY)))
            d = nxt
    out: list[tuple[str, Figures]] = []
    for name, a, b in steps:
        m: Metrics = {}
        for one in read(conn, scope, a, b).values():
            merge(m, one)
        out.append((name, figures_of(name, name, "", m)))
    return out
