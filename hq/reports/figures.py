"""The figures a bank manages its halls by, per staff member, window, hall, branch, org.

:func:`figures_of` turns summed rollup metrics into one :class:`Figures` (pure);
:func:`report` reads a scope over a range of branch-local days at one level;
:func:`compare` adds the previous period and the same period of earlier years.
Definitions (also in docs/scoring.md): satisfaction = rated transactions with a rating
>= 4 over rated transactions, both without suspect presses; unrated share = transactions
without a rating over transactions; attendance = shifts present over shifts scheduled
minus those on leave or away on business; handling quantiles per :mod:`hq.reports.hist`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Literal

from hq.storage.scope import Scope

from .hist import quantile
from .honesty import ReportMeta, meta
from .periods import shift_period
from .query import Metrics, WindowInfo, merge, read, staff_names, windows

Level = Literal["staff", "window", "hall", "branch", "org"]
LEVELS: tuple[Level, ...] = ("staff", "window", "hall", "branch", "org")
EXCUSES = ("closed", "leave", "business", "unexcused")


@dataclass(frozen=True)
class Figures:
    """One row of a report: a staff member or an org node over one period."""

    key: str
    label: str
    branch: str
    transactions: int
    handling_mean_s: float | None
    handling_median_s: float | None
    handling_p90_s: float | None
    ratings: dict[int, int]
    rated: int
    satisfaction_pct: float | None
    unrated: int
    unrated_pct: float | None
    suspect: int
    off_seat_count: int
    off_seat_s: float
    off_seat_by_level: dict[int, tuple[int, float]]
    off_seat_by_excuse: dict[str, tuple[int, float]]
    shifts: int
    present: int
    late: int
    left_early: int
    absent: int
    on_leave: int
    business: int
    attendance_pct: float | None
    session_s: float
    scheduled_s: float
    closed_s: float
    # Time in each window state (docs/window-states.md), from the units' window_state events.
    state_open_s: float = 0.0
    state_closed_s: float = 0.0
    state_away_s: float = 0.0
    # Queue threshold episodes (hq/reports/queue_events.py) and seconds over the threshold.
    queue_alerts: int = 0
    queue_over_s: float = 0.0

    @property
    def off_seat_min(self) -> float:
        """Off-seat minutes, one decimal."""
        return round(self.off_seat_s / 60, 1)


def _i(m: Metrics, k: str) -> int:
    return round(m.get(k, 0.0))


def _pct(num: float, den: float) -> float | None:
    return round(100.0 * num / den, 1) if den > 0 else None


def figures_of(key: str, label: str, branch: str, m: Metrics) -> Figures:
    """Figures from summed metrics (see :mod:`hq.reports.entities` for their names)."""
    hist = {int(k[1:]): v for k, v in m.items() if k[0] == "h" and k[1:].isdigit()}
    dur_n = m.get("dur_n", 0.0)
    txn = _i(m, "txn")
    levels = sorted({int(k.removeprefix("os_n_l")) for k, v in m.items()
                     if k.startswith("os_n_l") and round(v) != 0})
    shifts, present = _i(m, "shift_n"), _i(m, "present_n")
    leave, business = _i(m, "leave_n"), _i(m, "business_n")
    return Figures(
        key=key, label=label, branch=branch, transactions=txn,
        handling_mean_s=round(m.get("dur_sum", 0.0) / dur_n, 1) if dur_n > 0 else None,
        handling_median_s=quantile(hist, 0.5), handling_p90_s=quantile(hist, 0.9),
        ratings={r: _i(m, f"r{r}") for r in range(1, 6)}, rated=_i(m, "rated"),
        satisfaction_pct=_pct(m.get("satisfied", 0.0), m.get("rated_ok", 0.0)),
        unrated=_i(m, "unrated"), unrated_pct=_pct(m.get("unrated", 0.0), txn),
        suspect=_i(m, "suspect"), off_seat_count=_i(m, "os_n"),
        off_seat_s=round(m.get("os_s", 0.0), 3),
        off_seat_by_level={lv: (_i(m, f"os_n_l{lv}"), round(m.get(f"os_s_l{lv}", 0.0), 3))
                           for lv in levels},
        off_seat_by_excuse={e: (_i(m, f"os_n_{e}"), round(m.get(f"os_s_{e}", 0.0), 3))
                            for e in EXCUSES},
        shifts=shifts, present=present, late=_i(m, "late_n"), left_early=_i(m, "early_n"),
        absent=max(0, shifts - present - leave - business), on_leave=leave,
        business=business, attendance_pct=_pct(present, shifts - leave - business),
        session_s=round(m.get("session_s", 0.0), 3),
        scheduled_s=round(m.get("sched_s", 0.0), 3), closed_s=round(m.get("closed_s", 0.0), 3),
        state_open_s=round(m.get("ws_open_s", 0.0), 3),
        state_closed_s=round(m.get("ws_closed_s", 0.0), 3),
        state_away_s=round(m.get("ws_away_s", 0.0), 3),
        queue_alerts=_i(m, "q_alert_n"), queue_over_s=round(m.get("q_over_s", 0.0), 3))


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
    from .periods import DAY

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
