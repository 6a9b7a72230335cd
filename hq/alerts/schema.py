"""Alert tables in HQ's events.db, beside the events they come from.

Threads and their outbox rows are written by ingest in the event's own transaction, so
an alert is never stored without the work of delivering it, nor delivered twice.
"""

from __future__ import annotations

import logging
import sqlite3

log = logging.getLogger(__name__)

STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS alert_threads (
        thread_id INTEGER PRIMARY KEY AUTOINCREMENT,
        unit_id TEXT NOT NULL, kind TEXT NOT NULL, episode TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
        level INTEGER NOT NULL, opened_utc TEXT NOT NULL, level_utc TEXT NOT NULL,
        closed_utc TEXT, window_id TEXT, staff_id TEXT, clip_id TEXT, snapshot_id TEXT,
        detail TEXT NOT NULL DEFAULT '', acked_utc TEXT, acked_by TEXT,
        UNIQUE (unit_id, kind, episode))""",
    "CREATE INDEX IF NOT EXISTS alert_threads_open ON alert_threads (status, opened_utc)",
    "CREATE INDEX IF NOT EXISTS alert_threads_window ON alert_threads (window_id)",
    # Every level a thread reached, when and why (the unit raised it, HQ escalated it).
    """CREATE TABLE IF NOT EXISTS alert_levels (
        thread_id INTEGER NOT NULL REFERENCES alert_threads (thread_id),
        level INTEGER NOT NULL, utc TEXT NOT NULL, source TEXT NOT NULL,
        PRIMARY KEY (thread_id, level))""",
    # Outbox, first stage: "carry out level L's policy for this thread". Written at
    # ingest; the worker expands it into deliveries (recipients live in users.db).
    """CREATE TABLE IF NOT EXISTS alert_dispatch (
        thread_id INTEGER NOT NULL REFERENCES alert_threads (thread_id),
        level INTEGER NOT NULL, created_utc TEXT NOT NULL, expanded_utc TEXT,
        policy_version INTEGER, PRIMARY KEY (thread_id, level))""",
    "CREATE INDEX IF NOT EXISTS alert_dispatch_todo ON alert_dispatch (expanded_utc)",
    # Outbox, second stage: one row per (thread, level, channel, recipient), once.
    """CREATE TABLE IF NOT EXISTS alert_deliveries (
        delivery_id INTEGER PRIMARY KEY AUTOINCREMENT,
        idem_key TEXT NOT NULL UNIQUE,
        thread_id INTEGER NOT NULL REFERENCES alert_threads (thread_id),
        level INTEGER NOT NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL,
        url TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN
            ('pending', 'deferred', 'delivered', 'failed', 'cancelled', 'skipped')),
        attempts INTEGER NOT NULL DEFAULT 0, next_utc TEXT NOT NULL,
        created_utc TEXT NOT NULL, done_utc TEXT, last_error TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX IF NOT EXISTS alert_deliveries_due ON alert_deliveries (status, next_utc)",
    "CREATE INDEX IF NOT EXISTS alert_deliveries_thread ON alert_deliveries (thread_id)",
    """CREATE TABLE IF NOT EXISTS alert_attempts (
        delivery_id INTEGER NOT NULL REFERENCES alert_deliveries (delivery_id),
        n INTEGER NOT NULL, started_utc TEXT NOT NULL, ms REAL NOT NULL,
        ok INTEGER, detail TEXT NOT NULL, PRIMARY KEY (delivery_id, n))""",
    """CREATE TABLE IF NOT EXISTS alert_notes (
        note_id INTEGER PRIMARY KEY AUTOINCREMENT,
        thread_id INTEGER NOT NULL REFERENCES alert_threads (thread_id),
        utc TEXT NOT NULL, username TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('ack', 'comment', 'escalated')),
        text TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX IF NOT EXISTS alert_notes_thread ON alert_notes (thread_id)",
    """CREATE TABLE IF NOT EXISTS alert_policies (
        version INTEGER PRIMARY KEY AUTOINCREMENT, utc TEXT NOT NULL,
        username TEXT NOT NULL, doc TEXT NOT NULL)""",
)


_OLD_STATUSES = "'failed', 'cancelled'))"
_NEW_STATUSES = "'failed', 'cancelled', 'skipped'))"


def allow_skipped(conn: sqlite3.Connection) -> bool:
    """Let an older ``alert_deliveries`` hold status 'skipped' (True if it was changed).

    A delivery to a staff member with no contact for the channel is recorded as skipped.
    SQLite cannot ALTER a CHECK constraint; adding a value to its IN list only loosens it
    (every stored row still passes), which is the case SQLite's documentation allows the
    table's schema text to be edited in place for (ALTER TABLE, "other kinds of table
    schema changes"), with the schema version bumped so other connections re-read it.
    Run outside a transaction, once per open (the worker and the service). One small
    step on its own so that it can become a migration revision as it stands.
    """
    if not isinstance(conn, sqlite3.Connection):
        return False  # PostgreSQL: its schema comes from the alembic revisions
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                       "name = 'alert_deliveries'").fetchone()
    if row is None or _NEW_STATUSES in row[0] or _OLD_STATUSES not in row[0]:
        return False
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' "
                     "AND name = 'alert_deliveries'", [_OLD_STATUSES, _NEW_STATUSES])
        conn.execute(f"PRAGMA schema_version = {version + 1}")
        conn.execute("PRAGMA writable_schema = OFF")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    log.info("alert_deliveries upgraded in place: status 'skipped' allowed")
    return True


def ensure(conn: sqlite3.Connection) -> None:
    """Create the tables if missing; safe inside an open transaction (no executescript)."""
    for sql in STATEMENTS:
        conn.execute(sql)
