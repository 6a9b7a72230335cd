"""Window usage (seed functions 19 and 20) and event counts (function 22) for pages.

Both read the rollups, so a year costs about what a month does. Periods are whole
branch-local days: ``start_utc``/``end_utc`` (end exclusive) select the local days they
fall on in each window's branch zone.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from hq.reports.query.honesty import ReportMeta, meta
from hq.reports.query.rollups import Metrics, WindowInfo, local_range, merge, read, windows
from hq.storage.scope import Scope


@dataclass(frozen=True)
class WindowUsage:
    """One window over the period; times in seconds.

    ``staffed_s`` is logged-in time minus the off-seat time of the people logged in;
    ``unexcused_off_seat_s`` excludes leave, business and a closed window.
    """

    window_id: str
    name: str
    hall: str
    branch: str
    scheduled_s: float
    staffed_s: float
    closed_s: float
    business_s: float
    unexcused_off_seat_s: float
    customers: int
    customers_per_staffed_hour: float | None


@dataclass(frozen=True)
class UsageTotals:
    """How many windows fell in each usage category at least once in the period."""

    windows: int
    scheduled: int
    staffed: int
    closed: int
    business: int
    unexcused_off_seat: int
    customers: int


@dataclass(frozen=True)
class WindowUsageReport:
    """Per-window usage, its totals, and the report's facts."""

    windows: list[WindowUsage]
    totals: UsageTotals
    meta: ReportMeta


@dataclass(frozen=True)
class EventCounts:
    """Counts of events in scope over the period.

    ``off_seat_by_level``: episodes by the highest alert level reached (0 = none);
    ``alerts``: alert kind -> level -> raised count; ``ratings_by_key``: rating 1..5 ->
    presses counted as ratings; ``unrated``: prompts that ended without a rating
    (timeout, invalid keys, superseded, shutdown); ``suspect``: presses with no
    customer seen (rated or ignored).
    """

    off_seat_by_level: dict[int, int]
    alerts: dict[str, dict[int, int]]
    ratings_by_key: dict[int, int]
    unrated: int
    suspect: int
    meta: ReportMeta


Days = Callable[[str], tuple[dt.date, dt.date]]


def _utc_days(start_utc: dt.datetime, end_utc: dt.datetime) -> Days:
    return lambda tz: local_range(start_utc, end_utc, tz)


def _per_window(conn: sqlite3.Connection, scope: Scope, days_of: Days) -> tuple[
        list[WindowInfo], dict[str, Metrics], dict[str, Metrics], tuple[dt.date, dt.date]]:
    """Windows in scope, their metrics (all staff; staffed rows only) and the local days."""
    wins = windows(conn, scope)
    by_tz: dict[str, list[WindowInfo]] = defaultdict(list)
    for w in wins:
        by_tz[w.tz].append(w)
    total: dict[str, Metrics] = {w.window_id: {} for w in wins}
    staffed: dict[str, Metrics] = {w.window_id: {} for w in wins}
    days = days_of(wins[0].tz if wins else "UTC")
    for tz, group in by_tz.items():
        first, last = days_of(tz)
        ids = {w.window_id for w in group}
        for (w_id, staff), m in read(conn, scope, first, last).items():
            if w_id in ids:
                merge(total[w_id], m)
                if staff:
                    merge(staffed[w_id], m)
    return wins, total, staffed, days


def window_usage(conn: sqlite3.Connection, scope: Scope, start_utc: dt.datetime,
                 end_utc: dt.datetime, now: dt.datetime | None = None) -> WindowUsageReport:
    """Seed functions 20 and 19 for every window in ``scope``."""
    return window_usage_days(conn, scope, _utc_days(start_utc, end_utc), now)


def window_usage_days(conn: sqlite3.Connection, scope: Scope, days_of: Days,
                      now: dt.datetime | None = None) -> WindowUsageReport:
    """:func:`window_usage` over the local days ``days_of(tz)`` of each branch zone."""
    wins, total, staffed, (first, last) = _per_window(conn, scope, days_of)
    rows: list[WindowUsage] = []
    for w in wins:
        m = total[w.window_id]
        on_seat = max(0.0, m.get("session_s", 0.0) - staffed[w.window_id].get("os_s", 0.0))
        txn = round(m.get("txn", 0.0))
        rows.append(WindowUsage(
            w.window_id, w.name, w.hall, w.branch, round(m.get("sched_s", 0.0), 3),
            round(on_seat, 3), round(m.get("closed_s", 0.0), 3),
            round(m.get("business_s", 0.0), 3), round(m.get("os_s_unexcused", 0.0), 3),
            txn, round(txn / (on_seat / 3600), 2) if on_seat > 0 else None))
    totals = UsageTotals(
        len(rows), sum(r.scheduled_s > 0 for r in rows), sum(r.staffed_s > 0 for r in rows),
        sum(r.closed_s > 0 for r in rows), sum(r.business_s > 0 for r in rows),
        sum(r.unexcused_off_seat_s > 0 for r in rows), sum(r.customers for r in rows))
    clock = {w: m.get("clock_unsynced", 0.0) for w, m in total.items()}
    return WindowUsageReport(rows, totals, meta(conn, "window_usage", scope, wins, first, last,
                                                clock, now))


def event_counts(conn: sqlite3.Connection, scope: Scope, start_utc: dt.datetime,
                 end_utc: dt.datetime, now: dt.datetime | None = None) -> EventCounts:
    """Seed function 22 over every window in ``scope``."""
    return event_counts_days(conn, scope, _utc_days(start_utc, end_utc), now)


def event_counts_days(conn: sqlite3.Connection, scope: Scope, days_of: Days,
                      now: dt.datetime | None = None) -> EventCounts:
    """:func:`event_counts` over the local days ``days_of(tz)`` of each branch zone."""
    wins, total, _, (first, last) = _per_window(conn, scope, days_of)
    m: Metrics = {}
    for one in total.values():
        merge(m, one)
    levels = {int(k.removeprefix("os_n_l")): round(v) for k, v in m.items()
              if k.startswith("os_n_l") and round(v) != 0}
    alerts: dict[str, dict[int, int]] = defaultdict(dict)
    for k, v in m.items():
        if k.startswith("e_alert_") and "_l" in k.removeprefix("e_alert_"):
            kind, _, level = k.removeprefix("e_alert_").rpartition("_l")
            if level.isdigit() and round(v) != 0:
                alerts[kind][int(level)] = round(v)
    ratings = {r: round(m.get(f"e_r{r}", 0.0)) for r in range(1, 6)}
    clock = {w: one.get("clock_unsynced", 0.0) for w, one in total.items()}
    return EventCounts(dict(sorted(levels.items())), dict(alerts), ratings,
                       round(m.get("e_unrated", 0.0)), round(m.get("e_suspect", 0.0)),
                       meta(conn, "events", scope, wins, first, last, clock, now))
