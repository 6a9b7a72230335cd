"""What a figure is made of: the rows behind a satisfaction rate, an off-seat total,
an attendance rate. Every query applies the caller's :class:`Scope`.

Ranges are branch-local days first..last, turned into UTC per branch zone, so a row
appears here exactly when it is counted in the figure (the day it started).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from hq.reports.figures.periods import range_utc
from hq.reports.ingest import entities
from hq.reports.query.rollups import windows
from hq.reports.tables.rollup import decode
from hq.storage.scope import Scope


@dataclass(frozen=True)
class RatedTransaction:
    """A transaction behind a satisfaction rate (``/transactions/<unit>/<txn>``)."""

    unit_id: str
    txn_id: str
    window_id: str
    staff_no: str | None
    started_utc: dt.datetime
    duration_s: float | None
    rating: int | None
    outcome: str | None
    suspect: bool
    tz: str


@dataclass(frozen=True)
class OffSeatEpisode:
    """An off-seat episode behind an off-seat total, with why it was excused (if so)."""

    unit_id: str
    absence_id: str
    window_id: str
    staff_no: str | None
    start_utc: dt.datetime
    duration_s: float
    level: int
    excuse: str  # closed | leave | business | unexcused
    clip_id: str | None
    tz: str


@dataclass(frozen=True)
class ShiftOutcome:
    """A scheduled shift and how it was attended."""

    shift_id: str
    window_id: str
    staff_no: str
    start_utc: dt.datetime
    end_utc: dt.datetime
    outcome: str  # present | absent | leave | business
    late: bool
    left_early: bool
    tz: str


def _ranges(conn: sqlite3.Connection, scope: Scope, first: dt.date, last: dt.date,
            window_id: str | None) -> dict[str, tuple[list[str], str, str]]:
    """tz -> (window ids in scope, UTC start text, UTC end text)."""
    from hq.reports.ingest.shifts import settle_dirty
    from hq.reports.tables.schema import ensure_schema
    from hq.storage.models import utc_text

    ensure_schema(conn)
    settle_dirty(conn)
    groups: dict[str, list[str]] = defaultdict(list)
    for w in windows(conn, scope):
        if window_id is None or w.window_id == window_id:
            groups[w.tz].append(w.window_id)
    out = {}
    for tz, ids in groups.items():
        a, b = range_utc(first, last, tz)
        out[tz] = (ids, utc_text(a), utc_text(b))
    return out


def _who(column: str, staff_no: str | None) -> tuple[str, list[Any]]:
    return (f" AND {column} = ?", [staff_no]) if staff_no else ("", [])


def rated(conn: sqlite3.Connection, scope: Scope, first: dt.date, last: dt.date, *,
          staff_no: str | None = None, window_id: str | None = None,
          limit: int = 500) -> list[RatedTransaction]:
    """Transactions counted in the period (rated or not), oldest first."""
    out: list[RatedTransaction] = []
    for tz, (ids, a, b) in _ranges(conn, scope, first, last, window_id).items():
        extra, args = _who("staff_id", staff_no)
        marks = ", ".join("?" * len(ids))
        for r in conn.execute(
                "SELECT unit_id, txn_id, window_id, staff_id, started_utc, duration_s, rating,"
                " rating_outcome, rating_suspect FROM transactions WHERE window_id IN "
                f"({marks}) AND started_utc >= ? AND started_utc < ?{extra} "
                "ORDER BY started_utc LIMIT ?", [*ids, a, b, *args, limit]):
            out.append(RatedTransaction(r[0], r[1], r[2], r[3], entities.parse_utc(r[4]),
                                        r[5], r[6], r[7], bool(r[8]), tz))
    return sorted(out, key=lambda t: t.started_utc)[:limit]


def _excuse(conn: sqlite3.Connection, counter_open: int | None, staff: str | None,
            start: str) -> str:
    if counter_open == 0:
        return "closed"
    return entities.leave_at(conn, staff, start) or "unexcused"


def off_seat(conn: sqlite3.Connection, scope: Scope, first: dt.date, last: dt.date, *,
             staff_no: str | None = None, window_id: str | None = None,
             limit: int = 500) -> list[OffSeatEpisode]:
    """Off-seat episodes that began in the period, oldest first."""
    out: list[OffSeatEpisode] = []
    for tz, (ids, a, b) in _ranges(conn, scope, first, last, window_id).items():
        extra, args = _who("staff_no", staff_no)
        marks = ", ".join("?" * len(ids))
        for r in conn.execute(
                "SELECT unit_id, absence_id, window_id, staff_no, start_utc, duration_s, "
                "max_level, counter_open, clip_id FROM rpt_absences WHERE window_id IN "
                f"({marks}) AND start_utc >= ? AND start_utc < ?{extra} "
                "ORDER BY start_utc LIMIT ?", [*ids, a, b, *args, limit]):
            out.append(OffSeatEpisode(r[0], r[1], r[2], r[3], entities.parse_utc(r[4]),
                                      float(r[5] or 0.0), int(r[6] or 0),
                                      _excuse(conn, r[7], r[3], r[4]), r[8], tz))
    return sorted(out, key=lambda e: e.start_utc)[:limit]


def shifts(conn: sqlite3.Connection, scope: Scope, first: dt.date, last: dt.date, *,
           staff_no: str | None = None, window_id: str | None = None,
           limit: int = 500) -> list[ShiftOutcome]:
    """Scheduled shifts that began in the period and their outcome, oldest first."""
    out: list[ShiftOutcome] = []
    for tz, (ids, a, b) in _ranges(conn, scope, first, last, window_id).items():
        extra, args = _who("s.staff_no", staff_no)
        marks = ", ".join("?" * len(ids))
        for r in conn.execute(
                "SELECT s.shift_id, s.window_id, s.staff_no, s.start_utc, s.end_utc, c.data "
                "FROM org_shifts s LEFT JOIN rpt_contrib c ON c.entity = 'shift:' || "
                f"s.shift_id WHERE s.window_id IN ({marks}) AND s.start_utc >= ? AND "
                f"s.start_utc < ?{extra} ORDER BY s.start_utc LIMIT ?",
                [*ids, a, b, *args, limit]):
            metrics = {k[3] for k in decode(r[5])} if r[5] else set()
            outcome = ("present" if "present_n" in metrics else "leave" if "leave_n" in metrics
                       else "business" if "business_n" in metrics else "absent")
            out.append(ShiftOutcome(r[0], r[1], r[2], entities.parse_utc(r[3]),
                                    entities.parse_utc(r[4]), outcome, "late_n" in metrics,
                                    "early_n" in metrics, tz))
    return sorted(out, key=lambda s: s.start_utc)[:limit]
