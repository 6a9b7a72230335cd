"""Tables of the organisation tree, in HQ's database (the same SQLite file as events).

They live beside the event tables so that every query joins them in one statement and
ingest files an event under its window in the same transaction that stores it.
Times are UTC text as :func:`hq.storage.models.utc_text` writes it; each branch names
its IANA time zone, in which its days, shifts and reports are read.
"""

from __future__ import annotations

import sqlite3

ORG_SCHEMA = """
CREATE TABLE IF NOT EXISTS org_branches (
    branch_id TEXT PRIMARY KEY, name TEXT NOT NULL, tz TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS org_halls (
    hall_id TEXT PRIMARY KEY,
    branch_id TEXT NOT NULL REFERENCES org_branches (branch_id),
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS org_halls_branch ON org_halls (branch_id);
CREATE TABLE IF NOT EXISTS org_windows (
    window_id TEXT PRIMARY KEY,
    hall_id TEXT NOT NULL REFERENCES org_halls (hall_id),
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS org_windows_hall ON org_windows (hall_id);
CREATE TABLE IF NOT EXISTS org_unit_windows (
    unit_id TEXT PRIMARY KEY,
    window_id TEXT NOT NULL REFERENCES org_windows (window_id),
    bound_utc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS org_unit_windows_window ON org_unit_windows (window_id);
CREATE TABLE IF NOT EXISTS org_staff (
    staff_no TEXT PRIMARY KEY, name TEXT NOT NULL,
    home_branch_id TEXT REFERENCES org_branches (branch_id),
    badge_uid TEXT, photo_id TEXT, active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS org_shifts (
    shift_id TEXT PRIMARY KEY,
    window_id TEXT NOT NULL REFERENCES org_windows (window_id),
    staff_no TEXT NOT NULL REFERENCES org_staff (staff_no),
    start_utc TEXT NOT NULL, end_utc TEXT NOT NULL,
    CHECK (end_utc > start_utc)
);
CREATE INDEX IF NOT EXISTS org_shifts_window ON org_shifts (window_id, start_utc);
CREATE INDEX IF NOT EXISTS org_shifts_staff ON org_shifts (staff_no, start_utc);
CREATE TABLE IF NOT EXISTS org_leave (
    leave_id TEXT PRIMARY KEY,
    staff_no TEXT NOT NULL REFERENCES org_staff (staff_no),
    kind TEXT NOT NULL CHECK (kind IN ('leave', 'business')),
    start_utc TEXT NOT NULL, end_utc TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    CHECK (end_utc > start_utc)
);
CREATE INDEX IF NOT EXISTS org_leave_staff ON org_leave (staff_no, start_utc);
"""


def window_of_unit(conn: sqlite3.Connection, unit_id: str) -> str | None:
    """The window a unit is bound to now, or None for a unit not (yet) bound."""
    row = conn.execute("SELECT window_id FROM org_unit_windows WHERE unit_id = ?",
                       [unit_id]).fetchone()
    return None if row is None else str(row[0])
