"""The reports' tables in HQ's database (events.db), created on first use.

``rpt_rollup`` holds every figure as (period, window, staff, metric) -> value, for
branch-local days, months and years. ``rpt_contrib`` remembers what each
entity (a transaction, an off-seat episode, a staff session, a closure, a scheduled
shift) last added, so when a late event changes the entity its old contribution is
taken back and the new one added: every event counts exactly once, whatever the order.
The ``rpt_sessions``/``rpt_absences``/``rpt_marks`` tables assemble those entities from
their events; ``rpt_score_*`` hold scoring rules and managers' inputs. Triggers on
``org_shifts``/``org_leave`` queue every change in ``rpt_dirty``, which
:func:`hq.reports.ingest.shifts.settle_dirty` works off, so the org pages need not call
us.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

_TABLE = {"shift": "org_shifts", "leave": "org_leave"}

STATEMENTS = (
    "CREATE TABLE IF NOT EXISTS rpt_rollup (period TEXT NOT NULL, window_id TEXT NOT NULL,"
    " staff_no TEXT NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL,"
    " PRIMARY KEY (period, window_id, staff_no, metric)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS rpt_contrib (entity TEXT PRIMARY KEY, data TEXT NOT NULL)"
    " WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS rpt_sessions (unit_id TEXT NOT NULL, session_id TEXT NOT NULL,"
    " staff_no TEXT, window_id TEXT, login_utc TEXT, logout_utc TEXT,"
    " PRIMARY KEY (unit_id, session_id))",
    "CREATE INDEX IF NOT EXISTS rpt_sessions_staff ON rpt_sessions (staff_no, login_utc)",
    "CREATE TABLE IF NOT EXISTS rpt_absences (unit_id TEXT NOT NULL, absence_id TEXT NOT NULL,"
    " staff_no TEXT, window_id TEXT, start_utc TEXT, end_utc TEXT, duration_s REAL,"
    " max_level INTEGER, counter_open INTEGER, clip_id TEXT,"
    " PRIMARY KEY (unit_id, absence_id))",
    "CREATE INDEX IF NOT EXISTS rpt_absences_window ON rpt_absences (window_id, start_utc)",
    "CREATE INDEX IF NOT EXISTS rpt_absences_staff ON rpt_absences (staff_no, start_utc)",
    "CREATE TABLE IF NOT EXISTS rpt_marks (unit_id TEXT NOT NULL, utc TEXT NOT NULL,"
    " open INTEGER NOT NULL, window_id TEXT, PRIMARY KEY (unit_id, utc, open))",
    "CREATE TABLE IF NOT EXISTS rpt_score_rules (version INTEGER PRIMARY KEY,"
    " rules TEXT NOT NULL, author TEXT NOT NULL, created_utc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rpt_score_inputs (staff_no TEXT NOT NULL, month TEXT NOT NULL,"
    " knowledge REAL, teamwork REAL, mystery REAL, author TEXT NOT NULL,"
    " updated_utc TEXT NOT NULL, PRIMARY KEY (staff_no, month))",
    # Org edits (shifts, leave) queue what they change, whoever makes them (the org pages,
    # imports, seed-demo); the queue is settled at the next ingest or report.
    "CREATE TABLE IF NOT EXISTS rpt_dirty (kind TEXT NOT NULL, id TEXT NOT NULL,"
    " staff_no TEXT, start_utc TEXT, end_utc TEXT, PRIMARY KEY (kind, id, start_utc))",
    *(f"CREATE TRIGGER IF NOT EXISTS rpt_{t}_{op.lower()} AFTER {op} ON {_TABLE[t]} BEGIN "
      f"INSERT OR IGNORE INTO rpt_dirty VALUES ('{t}', {row}.{t}_id, {row}.staff_no, "
      f"{row}.start_utc, {row}.end_utc); END"
      for t in ("shift", "leave") for op, row in (("INSERT", "NEW"), ("DELETE", "OLD"))),
    *(f"CREATE TRIGGER IF NOT EXISTS rpt_{t}_update AFTER UPDATE ON {_TABLE[t]} BEGIN "
      f"INSERT OR IGNORE INTO rpt_dirty VALUES ('{t}', OLD.{t}_id, OLD.staff_no, "
      f"OLD.start_utc, OLD.end_utc); INSERT OR IGNORE INTO rpt_dirty VALUES ('{t}', "
      f"NEW.{t}_id, NEW.staff_no, NEW.start_utc, NEW.end_utc); END"
      for t in ("shift", "leave")),
    # Shifts and leave authored before these triggers existed.
    "INSERT OR IGNORE INTO rpt_dirty SELECT 'shift', shift_id, staff_no, start_utc, end_utc "
    "FROM org_shifts",
    "INSERT OR IGNORE INTO rpt_dirty SELECT 'leave', leave_id, staff_no, start_utc, end_utc "
    "FROM org_leave",
    # When HQ last heard from each unit, found by index at report time (not kept at ingest).
    "CREATE INDEX IF NOT EXISTS rpt_events_unit_received ON events (unit_id, received_utc)",
)

# Connections known to have the schema. Held strongly (sqlite3 connections take no weak
# references) so an id is never reused while listed; cleared when it grows.
_READY: dict[int, sqlite3.Connection] = {}


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the reports' tables if missing (safe inside an open transaction)."""
    if _READY.get(id(conn)) is conn:
        return
    if len(_READY) > 64:
        _READY.clear()
    # The last object STATEMENTS create marks a complete schema.
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' "
                       "AND name = 'rpt_events_unit_received'").fetchone()
    if row is None:
        for statement in STATEMENTS:
            conn.execute(statement)
    _READY[id(conn)] = conn


def ensure_tables(conn: sqlite3.Connection, statements: Sequence[str],
                  ready: dict[int, sqlite3.Connection]) -> None:
    """Run ``statements`` (CREATE ... IF NOT EXISTS) once per connection, ``ready``
    remembering which; safe inside an open transaction."""
    if ready.get(id(conn)) is conn:
        return
    if len(ready) > 64:
        ready.clear()
    for statement in statements:
        conn.execute(statement)
    ready[id(conn)] = conn
