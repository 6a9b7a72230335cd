"""Query tables built from ingested events, independent of the order events arrive in.

Every write is an upsert, so a ``transaction_ended`` or ``rating`` that arrives before its
``transaction_started`` (alerts jump the unit's queue, batches are retried) still lands.
Fields come from unit-supplied JSON, so each is type-checked; a wrong type becomes NULL
rather than a refused batch, because a refused batch would be re-sent forever.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from hq.alerts import ingest as alerts_ingest
from hq.live import store as live
from hq.org.units import state as unit_state
from hq.reports.ingest import states_queue as states_ingest
from hq.reports.ingest.events import apply as apply_reports
from sync.schema import EventEnvelope

from .models import utc_text

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    uuid TEXT PRIMARY KEY, unit_id TEXT NOT NULL, type TEXT NOT NULL,
    counter_id TEXT NOT NULL, utc TEXT NOT NULL, mono REAL NOT NULL, boot_id TEXT NOT NULL,
    clock_synced INTEGER NOT NULL, data TEXT NOT NULL, received_utc TEXT NOT NULL,
    window_id TEXT
);
CREATE INDEX IF NOT EXISTS events_unit_utc ON events (unit_id, utc);
CREATE TABLE IF NOT EXISTS units (unit_id TEXT PRIMARY KEY, branch_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    unit_id TEXT NOT NULL, txn_id TEXT NOT NULL, counter_id TEXT, staff_id TEXT,
    session_id TEXT, started_utc TEXT, ended_utc TEXT, duration_s REAL, end_reason TEXT,
    clock_synced INTEGER, rating INTEGER, rating_outcome TEXT, rating_suspect INTEGER,
    clip_id TEXT, window_id TEXT, PRIMARY KEY (unit_id, txn_id)
);
CREATE INDEX IF NOT EXISTS txn_window ON transactions (window_id, started_utc);
CREATE INDEX IF NOT EXISTS txn_started ON transactions (started_utc);
CREATE INDEX IF NOT EXISTS txn_staff ON transactions (staff_id, started_utc);
CREATE INDEX IF NOT EXISTS txn_counter ON transactions (counter_id, started_utc);
CREATE INDEX IF NOT EXISTS txn_id ON transactions (txn_id);
CREATE TABLE IF NOT EXISTS ratings (
    uuid TEXT PRIMARY KEY, unit_id TEXT NOT NULL, txn_id TEXT, outcome TEXT,
    rating INTEGER, suspect INTEGER, utc TEXT NOT NULL, mono REAL NOT NULL, window_id TEXT
);
CREATE INDEX IF NOT EXISTS ratings_txn ON ratings (unit_id, txn_id);
CREATE TABLE IF NOT EXISTS clips (
    unit_id TEXT NOT NULL, clip_id TEXT NOT NULL, state TEXT, sha256 TEXT, size INTEGER,
    duration_s REAL, utc TEXT, PRIMARY KEY (unit_id, clip_id)
);
"""

CLIP_EVENTS = {"clip_closed", "clip_salvaged", "clip_cut"}


def _str(d: dict[str, Any], key: str) -> str | None:
    v = d.get(key)
    return v if isinstance(v, str) else None


def _int(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _float(d: dict[str, Any], key: str) -> float | None:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def _flag(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    return int(v) if isinstance(v, bool) else None


def project(conn: sqlite3.Connection, env: EventEnvelope, window_id: str | None) -> None:
    """Apply one new event to the query tables; types without a table are ignored.

    ``window_id`` is the window the unit was bound to when HQ received the event: rows
    are filed there, and a role's scope filters on it.
    """
    live.apply(conn, env, window_id)
    d = env.data
    utc = utc_text(env.utc)
    unit_state.apply(conn, env, window_id)  # config outcomes; seen: once per batch
    alerts_ingest.apply(conn, env, window_id)
    if env.type == "rating":
        # A rating with no transaction (a prompt nobody was served under) is kept too.
        _rating(conn, env, _str(d, "txn_id"), utc, window_id)
    elif env.type in ("transaction_started", "transaction_ended"):
        txn_id = _str(d, "txn_id")
        if txn_id is None:
            log.warning("event %s (%s) has no txn_id; not projected", env.uuid, env.type)
        elif env.type == "transaction_started":
            _started(conn, env, txn_id, utc, window_id)
        else:
            _ended(conn, env, txn_id, utc, window_id)
    elif env.type in CLIP_EVENTS:
        clip_id = _str(d, "clip_id")
        if clip_id is None:
            log.warning("event %s (%s) has no clip_id; not projected", env.uuid, env.type)
        else:
            conn.execute(
                "INSERT INTO clips (unit_id, clip_id, state, sha256, size, duration_s, utc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (unit_id, clip_id) DO UPDATE SET "
                "state = excluded.state, sha256 = excluded.sha256, size = excluded.size, "
                "duration_s = excluded.duration_s, utc = excluded.utc",
                [env.unit_id, clip_id, env.type.removeprefix("clip_"), _str(d, "sha256"),
                 _int(d, "size"), _float(d, "duration_s"), utc])
    apply_reports(conn, env, window_id)
    states_ingest.apply(conn, env, window_id)


def _started(conn: sqlite3.Connection, env: EventEnvelope, txn_id: str, utc: str,
             window_id: str | None) -> None:
    d = env.data
    conn.execute(
        "INSERT INTO transactions (unit_id, txn_id, counter_id, staff_id, session_id, "
        "started_utc, clock_synced, clip_id, window_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (unit_id, txn_id) DO UPDATE SET counter_id = excluded.counter_id, "
        "staff_id = excluded.staff_id, session_id = excluded.session_id, "
        "started_utc = excluded.started_utc, clock_synced = excluded.clock_synced, "
        "clip_id = excluded.clip_id, window_id = excluded.window_id",
        [env.unit_id, txn_id, env.counter_id, _str(d, "staff_id"), _str(d, "session_id"),
         utc, int(env.clock_synced), _str(d, "clip_id"), window_id])


def _ended(conn: sqlite3.Connection, env: EventEnvelope, txn_id: str, utc: str,
           window_id: str | None) -> None:
    d = env.data
    conn.execute(
        "INSERT INTO transactions (unit_id, txn_id, counter_id, staff_id, session_id, "
        "ended_utc, duration_s, end_reason, window_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (unit_id, txn_id) DO UPDATE SET ended_utc = excluded.ended_utc, "
        "window_id = COALESCE(transactions.window_id, excluded.window_id), "
        "duration_s = excluded.duration_s, end_reason = excluded.end_reason, "
        "counter_id = COALESCE(transactions.counter_id, excluded.counter_id), "
        "staff_id = COALESCE(transactions.staff_id, excluded.staff_id), "
        "session_id = COALESCE(transactions.session_id, excluded.session_id)",
        [env.unit_id, txn_id, env.counter_id, _str(d, "staff_id"), _str(d, "session_id"),
         utc, _float(d, "duration_s"), _str(d, "reason"), window_id])


def _rating(conn: sqlite3.Connection, env: EventEnvelope, txn_id: str | None,
            utc: str, window_id: str | None) -> None:
    d = env.data
    conn.execute(
        "INSERT INTO ratings (uuid, unit_id, txn_id, outcome, rating, suspect, utc, mono, "
        "window_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [env.uuid, env.unit_id, txn_id, _str(d, "outcome"), _int(d, "rating"),
         _flag(d, "suspect"), utc, env.mono, window_id])
    if txn_id is None:
        return
    # A transaction's rating is its first "rated" outcome, else its first outcome; chosen
    # from all its ratings so the answer does not depend on arrival order. One upsert: a
    # transaction not seen yet is made with the unit's counter and window; one seen keeps
    # them and takes the rating.
    conn.execute(
        "INSERT INTO transactions (unit_id, txn_id, counter_id, window_id, rating, "
        "rating_outcome, rating_suspect) SELECT ?, ?, ?, ?, r.rating, r.outcome, r.suspect "
        "FROM (SELECT rating, outcome, suspect FROM ratings WHERE unit_id = ? AND txn_id = ?"
        " ORDER BY outcome = 'rated' DESC, utc, mono, uuid LIMIT 1) AS r WHERE true "
        "ON CONFLICT (unit_id, txn_id) DO UPDATE SET rating = excluded.rating, "
        "rating_outcome = excluded.rating_outcome, rating_suspect = excluded.rating_suspect",
        [env.unit_id, txn_id, env.counter_id, window_id, env.unit_id, txn_id])
