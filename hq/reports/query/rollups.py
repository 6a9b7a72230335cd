"""Reading the rollups: the windows in a scope and the summed metrics of a date range."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from dataclasses import dataclass

from hq.reports.figures.periods import cover
from hq.reports.tables.schema import ensure_schema
from hq.storage.scope import Scope

Metrics = dict[str, float]


@dataclass(frozen=True)
class WindowInfo:
    """A window with the names of its hall and branch and its branch's time zone."""

    window_id: str
    name: str
    hall_id: str
    hall: str
    branch_id: str
    branch: str
    tz: str


def windows(conn: sqlite3.Connection, scope: Scope) -> list[WindowInfo]:
    """Every window in ``scope``, by branch, hall and window id."""
    where, args = scope.window_filter("w.window_id")
    rows = conn.execute(
        "SELECT w.window_id, w.name, h.hall_id, h.name AS hall, b.branch_id, "
        "b.name AS branch, b.tz FROM org_windows w JOIN org_halls h ON h.hall_id = w.hall_id "
        f"JOIN org_branches b ON b.branch_id = h.branch_id WHERE {where} "
        "ORDER BY b.branch_id, h.hall_id, w.window_id", args).fetchall()
    return [WindowInfo(*r) for r in rows]


def staff_names(conn: sqlite3.Connection) -> dict[str, tuple[str, str | None]]:
    """staff_no -> (name, home branch id)."""
    return {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT staff_no, name, home_branch_id FROM org_staff")}


def read(conn: sqlite3.Connection, scope: Scope, first: dt.date,
         last: dt.date) -> dict[tuple[str, str], Metrics]:
    """(window_id, staff_no) -> summed metrics over branch-local days first..last."""
    ensure_schema(conn)
    from hq.reports.ingest.shifts import settle_dirty

    settle_dirty(conn)
    keys = cover(first, last)
    where, args = scope.window_filter("window_id")
    out: dict[tuple[str, str], Metrics] = defaultdict(dict)
    # Chunks keep the parameter count under SQLite's limit for long odd ranges.
    for i in range(0, len(keys), 400):
        chunk = keys[i:i + 400]
        marks = ", ".join("?" * len(chunk))
        for w, staff, metric, value in conn.execute(
                "SELECT window_id, staff_no, metric, SUM(value) FROM rpt_rollup "
                f"WHERE period IN ({marks}) AND {where} "
                "GROUP BY window_id, staff_no, metric", [*chunk, *args]):
            m = out[(w, staff)]
            m[metric] = m.get(metric, 0.0) + value
    return dict(out)


def merge(into: Metrics, more: Metrics) -> Metrics:
    """Add ``more`` into ``into`` and return it."""
    for k, v in more.items():
        into[k] = into.get(k, 0.0) + v
    return into


def local_range(start_utc: dt.datetime, end_utc: dt.datetime,
                tz: str) -> tuple[dt.date, dt.date]:
    """The branch-local days [start_utc, end_utc) touches, as (first, last) inclusive."""
    from hq.reports.figures.periods import local_day

    if end_utc <= start_utc:
        raise ValueError(f"period end {end_utc} must be after its start {start_utc}")
    return local_day(start_utc, tz), local_day(end_utc - dt.timedelta(microseconds=1), tz)
