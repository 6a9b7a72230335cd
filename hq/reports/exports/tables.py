"""The five exportable reports as plain tables: what CSV, XLSX, PDF and pages render.

:func:`build` returns a :class:`Table` for ``staff``, ``window``, ``branch``,
``attendance`` or ``events``: typed columns (keys named in :mod:`hq.reports.exports.labels`),
rows of plain values, the report's :class:`~hq.reports.query.honesty.ReportMeta`, and the
charts the PDF and pages draw. Each row of the first four carries ``data_incomplete``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from typing import Literal

from hq.reports.entries.inputs import inputs_for
from hq.reports.entries.rules import current_rules
from hq.reports.figures.metrics import Figures
from hq.reports.figures.scoring import Inputs, score
from hq.reports.query.honesty import ReportMeta
from hq.reports.query.levels import Report, compare, report
from hq.reports.query.queue import peaks
from hq.reports.query.usage import event_counts_days, window_usage_days
from hq.storage.scope import Scope

KINDS = ("staff", "window", "branch", "attendance", "events")
Kind = Literal["text", "int", "float", "date"]


@dataclass(frozen=True)
class Column:
    """A column key (see labels) and the type its cells hold."""

    key: str
    kind: Kind


@dataclass(frozen=True)
class Chart:
    """A bar chart: a title key, bar labels and values."""

    title: str
    labels: list[str]
    values: list[float]


@dataclass(frozen=True)
class Table:
    """One report ready to render."""

    kind: str
    columns: list[Column]
    rows: list[list[object]]
    meta: ReportMeta
    charts: list[Chart] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)


# Time in each window state (docs/window-states.md), in hours.
STATE_COLUMNS = [Column("state_open_h", "float"), Column("state_closed_h", "float"),
                 Column("state_away_h", "float")]


def _state_hours(f: Figures) -> list[object]:
    return [round(f.state_open_s / 3600, 2), round(f.state_closed_s / 3600, 2),
            round(f.state_away_s / 3600, 2)]


STAFF_COLUMNS = [
    Column("staff_no", "text"), Column("name", "text"), Column("branch", "text"),
    Column("transactions", "int"), Column("handling_mean_s", "float"),
    Column("ratings", "int"), Column("satisfaction_pct", "float"),
    Column("off_seat_count", "int"), Column("off_seat_min", "float"),
    Column("attendance_pct", "float"), Column("score", "float"), Column("grade", "text"),
    Column("handling_median_s", "float"), Column("handling_p90_s", "float"),
    Column("unrated_pct", "float"), Column("suspect", "int"),
    Column("unexcused_off_seat_min", "float"), Column("missing_inputs", "text"),
    Column("rules_version", "int"), *STATE_COLUMNS, Column("data_incomplete", "int")]


def _unexcused_min(f: Figures) -> float:
    return round(f.off_seat_by_excuse.get("unexcused", (0, 0.0))[1] / 60, 1)


def _staff(conn: sqlite3.Connection, scope: Scope, first: dt.date, last: dt.date,
           now: dt.datetime | None) -> Table:
    rep = report(conn, scope, "staff", first, last, now)
    version, rules = current_rules(conn)
    given = inputs_for(conn, first, last)
    rows: list[list[object]] = []
    for f in rep.rows:
        s = score(f, given.get(f.key, Inputs()), rules, version)
        rows.append([f.key, f.label, f.branch, f.transactions, f.handling_mean_s, f.rated,
                     f.satisfaction_pct, f.off_seat_count, f.off_seat_min, f.attendance_pct,
                     s.score, s.grade, f.handling_median_s, f.handling_p90_s, f.unrated_pct,
                     f.suspect, _unexcused_min(f), " ".join(s.missing), version,
                     *_state_hours(f), int(rep.incomplete(f.key))])
    charts = [Chart("chart_transactions", [f.label for f in rep.rows],
                    [float(f.transactions) for f in rep.rows]),
              Chart("chart_satisfaction", [f.label for f in rep.rows],
                    [f.satisfaction_pct or 0.0 for f in rep.rows])]
    return Table("staff", STAFF_COLUMNS, rows, rep.meta, charts,
                 {"rules_version": str(version)})


def _window(conn: sqlite3.Connection, scope: Scope, first: dt.date, last: dt.date,
            now: dt.datetime | None) -> Table:
    rep = report(conn, scope, "window", first, last, now)
    use = {u.window_id: u for u in window_usage_days(conn, scope, lambda tz: (first, last),
                                                     now).windows}
    cols = [Column("window_id", "text"), Column("name", "text"), Column("hall", "text"),
            Column("branch", "text"), Column("transactions", "int"),
            Column("handling_mean_s", "float"), Column("handling_median_s", "float"),
            Column("handling_p90_s", "float"), Column("ratings", "int"),
            Column("satisfaction_pct", "float"), Column("unrated_pct", "float"),
            Column("suspect", "int"), Column("off_seat_count", "int"),
            Column("off_seat_min", "float"), Column("unexcused_off_seat_min", "float"),
            Column("scheduled_h", "float"), Column("staffed_h", "float"),
            Column("closed_h", "float"), Column("business_h", "float"),
            Column("customers_per_staffed_hour", "float"), *STATE_COLUMNS,
            Column("data_incomplete", "int")]
    by_key = {f.key: f for f in rep.rows}
    rows: list[list[object]] = []
    for w_id, u in use.items():
        f = by_key.get(w_id)
        if f is None:
            from hq.reports.figures.metrics import figures_of

            f = figures_of(w_id, u.name, u.branch, {})
        rows.append([w_id, u.name, u.hall, u.branch, f.transactions, f.handling_mean_s,
                     f.handling_median_s, f.handling_p90_s, f.rated, f.satisfaction_pct,
                     f.unrated_pct, f.suspect, f.off_seat_count, f.off_seat_min,
                     _unexcused_min(f), round(u.scheduled_s / 3600, 2),
                     round(u.staffed_s / 3600, 2), round(u.closed_s / 3600, 2),
                     round(u.business_s / 3600, 2), u.customers_per_staffed_hour,
                     *_state_hours(f), int(rep.meta.period_open or any(g.window_id == w_id
                                                     for g in rep.meta.gaps))])
    charts = [Chart("chart_transactions", [str(r[1]) for r in rows],
                    [float(r[4]) for r in rows])]  # type: ignore[arg-type]
    return Table("window", cols, rows, rep.meta, charts)


def _pct_of(r: Report, key: str) -> float | None:
    return next((f.satisfaction_pct for f in r.rows if f.key == key), None)


def _txn_of(r: Report, key: str) -> int | None:
    return next((f.transactions for f in r.rows if f.key == key), None)


def _branch(conn: sqlite3.Connection, scope: Scope, first: dt.date, last: dt.date,
            now: dt.datetime | None) -> Table:
    cmp = compare(conn, scope, "branch", first, last, years=1, now=now)
    rep, prev, ly = cmp.current, cmp.previous, cmp.earlier[0]
    cols = [Column("branch_id", "text"), Column("name", "text"), Column("windows", "int"),
            Column("transactions", "int"), Column("transactions_prev", "int"),
            Column("transactions_ly", "int"), Column("handling_mean_s", "float"),
            Column("handling_median_s", "float"), Column("handling_p90_s", "float"),
            Column("ratings", "int"), Column("satisfaction_pct", "float"),
            Column("satisfaction_pct_prev", "float"), Column("satisfaction_pct_ly", "float"),
            Column("unrated_pct", "float"), Column("suspect", "int"),
            Column("off_seat_count", "int"), Column("off_seat_min", "float"),
            Column("unexcused_off_seat_min", "float"), Column("attendance_pct", "float"),
            *STATE_COLUMNS, Column("queue_alerts", "int"), Column("queue_over_min", "float"),
            Column("queue_peak_waiting", "int"), Column("data_incomplete", "int")]
    peak = peaks(conn, scope, first, last)
    rows: list[list[object]] = [
        [f.key, f.label, len(rep.windows_of.get(f.key, ())), f.transactions,
         _txn_of(prev, f.key), _txn_of(ly, f.key), f.handling_mean_s, f.handling_median_s,
         f.handling_p90_s, f.rated, f.satisfaction_pct, _pct_of(prev, f.key),
         _pct_of(ly, f.key), f.unrated_pct, f.suspect, f.off_seat_count, f.off_seat_min,
         _unexcused_min(f), f.attendance_pct, *_state_hours(f), f.queue_alerts,
         round(f.queue_over_s / 60, 1), peak.get(f.key), int(rep.incomplete(f.key))]
        for f in rep.rows]
    charts = [Chart("chart_transactions", [f.label for f in rep.rows],
                    [float(f.transactions) for f in rep.rows])]
    return Table("branch", cols, rows, rep.meta, charts)


def _attendance(conn: sqlite3.Connection, scope: Scope, first: dt.date, last: dt.date,
                now: dt.datetime | None) -> Table:
    rep = report(conn, scope, "staff", first, last, now)
    cols = [Column("staff_no", "text"), Column("name", "text"), Column("branch", "text"),
            Column("shifts", "int"), Column("present", "int"), Column("late", "int"),
            Column("left_early", "int"), Column("absent", "int"), Column("on_leave", "int"),
            Column("business", "int"), Column("attendance_pct", "float"),
            Column("scheduled_h", "float"), Column("session_h", "float"),
            Column("data_incomplete", "int")]
    rows: list[list[object]] = [
        [f.key, f.label, f.branch, f.shifts, f.present, f.late, f.left_early, f.absent,
         f.on_leave, f.business, f.attendance_pct, round(f.scheduled_s / 3600, 2),
         round(f.session_s / 3600, 2), int(rep.incomplete(f.key))] for f in rep.rows]
    charts = [Chart("chart_attendance", [f.label for f in rep.rows],
                    [f.attendance_pct or 0.0 for f in rep.rows])]
    return Table("attendance", cols, rows, rep.meta, charts)


def _events(conn: sqlite3.Connection, scope: Scope, first: dt.date, last: dt.date,
            now: dt.datetime | None) -> Table:
    ev = event_counts_days(conn, scope, lambda tz: (first, last), now)
    rows: list[list[object]] = []
    for level, n in ev.off_seat_by_level.items():
        rows.append(["off_seat_level", f"L{level}", n])
    for kind, levels in sorted(ev.alerts.items()):
        for level, n in sorted(levels.items()):
            rows.append(["alert", f"{kind} L{level}", n])
    for key, n in ev.ratings_by_key.items():
        rows.append(["rating_key", str(key), n])
    rows.append(["unrated", "", ev.unrated])
    rows.append(["suspect", "", ev.suspect])
    cols = [Column("category", "text"), Column("item", "text"), Column("count", "int")]
    charts = [Chart("chart_events", [f"{r[0]} {r[1]}".strip() for r in rows],
                    [float(r[2]) for r in rows])]  # type: ignore[arg-type]
    return Table("events", cols, rows, ev.meta, charts)


def build(conn: sqlite3.Connection, kind: str, scope: Scope, first: dt.date, last: dt.date,
          now: dt.datetime | None = None) -> Table:
    """The ``kind`` report over branch-local days first..last in ``scope``."""
    makers = {"staff": _staff, "window": _window, "branch": _branch,
              "attendance": _attendance, "events": _events}
    if kind not in makers:
        raise ValueError(f"report kind {kind!r} must be one of {', '.join(KINDS)}")
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    return makers[kind](conn, scope, first, last, now)
