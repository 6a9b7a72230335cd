"""The window-state segments table (``rpt_wstates``) and the one query attendance needs.

A row is a unit's ``window_state`` event: the state in force from its ``utc`` until the
unit's next row. Filed by :mod:`hq.reports.ingest.window_states`; kept apart from it so
that the attendance rule in :mod:`hq.reports.ingest.entities` reads it from the tables.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from hq.reports.tables.schema import ensure_tables
from hq.storage.models import utc_text

STATES = ("open", "closed", "away")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rpt_wstates (unit_id TEXT NOT NULL, utc TEXT NOT NULL,"
    " uuid TEXT NOT NULL, state TEXT NOT NULL, staff_no TEXT, window_id TEXT,"
    " PRIMARY KEY (unit_id, utc, uuid))",
    "CREATE INDEX IF NOT EXISTS rpt_wstates_staff ON rpt_wstates (staff_no, utc)",
)
_READY: dict[int, sqlite3.Connection] = {}


def ensure(conn: sqlite3.Connection) -> None:
    """Create the table if missing (safe inside an open transaction)."""
    ensure_tables(conn, _SCHEMA, _READY)


def segment_end(conn: sqlite3.Connection, unit_id: str, utc: str, uuid: str) -> str | None:
    """When the segment starting at (utc, uuid) ends: the unit's next row, if it came."""
    row = conn.execute("SELECT utc FROM rpt_wstates WHERE unit_id = ? AND (utc > ? OR "
                       "(utc = ? AND uuid > ?)) ORDER BY utc, uuid LIMIT 1",
                       [unit_id, utc, utc, uuid]).fetchone()
    return str(row[0]) if row is not None else None


def away_seconds(conn: sqlite3.Connection, staff_no: str, start: dt.datetime,
                 end: dt.datetime) -> float:
    """Seconds of [start, end) that windows reported away on business for ``staff_no``."""
    ensure(conn)
    total = 0.0
    rows = conn.execute("SELECT unit_id, utc, uuid FROM rpt_wstates WHERE staff_no = ? "
                        "AND state = 'away' AND utc < ?",
                        [staff_no, utc_text(end)]).fetchall()
    for unit_id, utc, uuid in rows:
        nxt = segment_end(conn, unit_id, utc, uuid)
        if nxt is None:
            continue  # still away: counted once it ends
        lo = max(start, dt.datetime.fromisoformat(utc))
        hi = min(end, dt.datetime.fromisoformat(nxt))
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total
