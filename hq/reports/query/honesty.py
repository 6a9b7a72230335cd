"""What a report must say about itself: filters, zones, when, and what may be missing.

A window's figures may be incomplete when its unit has not been heard from since before
the period's end (allowing :data:`SYNC_TOLERANCE` for a unit syncing normally) or has
sent no event from :data:`SILENT_AFTER` before the period's end on, when no
unit is bound to it, or when events in the period came with an unsynchronised clock
(their times, so the day they are counted on, may be wrong). A period that is not over
yet is flagged too.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from hq.reports.figures.periods import range_utc
from hq.reports.query.rollups import WindowInfo
from hq.storage.models import utc_text
from hq.storage.scope import Scope

SYNC_TOLERANCE = dt.timedelta(minutes=15)
# A unit with no event at all for this long before the period's end is taken to have
# stopped sending (a healthy unit logs staff in every working day).
SILENT_AFTER = dt.timedelta(days=2)


@dataclass(frozen=True)
class Gap:
    """One reason a window's figures may be incomplete."""

    window_id: str
    reason: str  # "not_synced" | "no_unit" | "clock_unsynced"
    detail: str


@dataclass(frozen=True)
class ReportMeta:
    """The facts every report and export prints beside its figures."""

    kind: str
    scope: str
    first: dt.date
    last: dt.date
    zones: tuple[str, ...]
    computed_utc: dt.datetime
    filters: dict[str, str] = field(default_factory=dict)
    gaps: tuple[Gap, ...] = ()
    period_open: bool = False

    @property
    def incomplete(self) -> bool:
        """Whether any figure of the report may be missing data."""
        return bool(self.gaps) or self.period_open


def gaps(conn: sqlite3.Connection, wins: Sequence[WindowInfo], first: dt.date, last: dt.date,
         clock_unsynced: dict[str, float], now: dt.datetime) -> list[Gap]:
    """The incompleteness flags of ``wins`` over local days first..last."""
    units: dict[str, list[tuple[str, str | None, str | None]]] = {}
    # Helper "org"'s org_unit_seen, kept at ingest, when present; else the events' index.
    seen = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'org_unit_seen'").fetchone()
    sql = ("SELECT u.unit_id, u.window_id, s.last_received_utc, s.last_event_utc "
           "FROM org_unit_windows u LEFT JOIN org_unit_seen s ON s.unit_id = u.unit_id"
           if seen else
           "SELECT u.unit_id, u.window_id, "
           "(SELECT MAX(received_utc) FROM events e WHERE e.unit_id = u.unit_id), "
           "(SELECT MAX(utc) FROM events e WHERE e.unit_id = u.unit_id) "
           "FROM org_unit_windows u")
    for unit_id, window_id, last_rx, last_ev in conn.execute(sql):
        units.setdefault(window_id, []).append((unit_id, last_rx, last_ev))
    out: list[Gap] = []
    for w in wins:
        _, end = range_utc(first, last, w.tz)
        need = min(end, now - SYNC_TOLERANCE)
        bound = units.get(w.window_id, [])
        if not bound:
            out.append(Gap(w.window_id, "no_unit", "no unit is bound to this window"))
        for unit_id, last_rx, last_ev in bound:
            if last_rx is None or last_rx < utc_text(need):
                out.append(Gap(w.window_id, "not_synced",
                               f"unit {unit_id} last synced {last_rx or 'never'}"))
            elif last_ev is None or last_ev < utc_text(need - SILENT_AFTER):
                out.append(Gap(w.window_id, "not_synced",
                               f"unit {unit_id} sent nothing after {last_ev}"))
        n = int(clock_unsynced.get(w.window_id, 0))
        if n:
            out.append(Gap(w.window_id, "clock_unsynced",
                           f"{n} event(s) with an unsynchronised clock"))
    return out


def meta(conn: sqlite3.Connection, kind: str, scope: Scope, wins: Sequence[WindowInfo],
         first: dt.date, last: dt.date, clock_unsynced: dict[str, float],
         now: dt.datetime | None = None, filters: dict[str, str] | None = None) -> ReportMeta:
    """A report's :class:`ReportMeta` (``now`` defaults to the current time)."""
    now = now or dt.datetime.now(dt.UTC)
    zones = tuple(sorted({w.tz for w in wins})) or ("UTC",)
    open_ = any(range_utc(first, last, w.tz)[1] > now for w in wins)
    return ReportMeta(kind, scope.text(), first, last, zones, now, dict(filters or {}),
                      tuple(gaps(conn, wins, first, last, clock_unsynced, now)), open_)
