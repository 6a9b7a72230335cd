"""Reading the queue figures that are not sums: the peak waiting count, a transaction's ticket.

The tables are filed at ingest by :mod:`hq.reports.ingest.queue_events`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from hq.reports.figures.periods import range_utc
from hq.storage.models import parse_utc
from hq.storage.scope import Scope


def _exists(conn: sqlite3.Connection, table: str) -> bool:
    # Readers (pages, exports) never create tables: a database without queue events yet
    # simply has no figures.
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        [table]).fetchone() is not None


def peaks(conn: sqlite3.Connection, scope: Scope, first: dt.date,
          last: dt.date) -> dict[str, int]:
    """The highest waiting count of any episode raised first..last (branch-local days),
    by branch id, for windows in ``scope``."""
    if not _exists(conn, "rpt_queue"):
        return {}
    where, args = scope.window_filter("q.window_id")
    rows = conn.execute(
        "SELECT b.branch_id, b.tz, q.raised_utc, q.cleared_utc, q.duration_s, q.peak "
        "FROM rpt_queue q JOIN org_windows w ON w.window_id = q.window_id "
        "JOIN org_halls h ON h.hall_id = w.hall_id "
        f"JOIN org_branches b ON b.branch_id = h.branch_id WHERE {where}", args).fetchall()
    out: dict[str, int] = {}
    for branch, tz, raised, cleared, duration, peak in rows:
        if peak is None:
            continue
        start = parse_utc(raised) if raised else (
            parse_utc(cleared) - dt.timedelta(seconds=duration or 0.0) if cleared else None)
        lo, hi = range_utc(first, last, tz)
        if start is not None and lo <= start < hi:
            out[branch] = max(out.get(branch, 0), int(peak))
    return out


def ticket_of(conn: sqlite3.Connection, unit_id: str, txn_id: str) -> str | None:
    """The queue ticket called for a transaction, if the unit knew one."""
    if not _exists(conn, "rpt_tickets"):
        return None
    row = conn.execute("SELECT ticket FROM rpt_tickets WHERE unit_id = ? AND txn_id = ?",
                       [unit_id, txn_id]).fetchone()
    return str(row[0]) if row is not None else None
