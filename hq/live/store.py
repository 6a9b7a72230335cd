"""The live state table in HQ's database, updated in each event's ingest transaction.

``live_windows`` holds one row per window: its :class:`~hq.live.state.WindowLive` as
JSON, when HQ last heard from its unit, and ``seq``, a number taken from one counter
row each time the row changes. The live feed asks for rows with ``seq`` above the last
one it sent, so any number of HQ worker processes see each other's changes through the
database alone.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from hq.storage.models import parse_utc, utc_text
from hq.storage.scope import Scope
from sync.schema import EventEnvelope

from .state import WindowLive, transition

SCHEMA = """
CREATE TABLE IF NOT EXISTS live_windows (
    window_id TEXT PRIMARY KEY, state TEXT NOT NULL, received_utc TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS live_windows_seq ON live_windows (seq);
CREATE TABLE IF NOT EXISTS live_seq (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER);
INSERT OR IGNORE INTO live_seq (one, seq) VALUES (1, 0);
"""

_FIELDS = tuple(f.name for f in fields(WindowLive))
_TIMES = frozenset(n for n in _FIELDS if n.endswith(("_utc", "_since", "_started")))


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the live tables if this database has none yet (readers call it too).

    Looked up first: the script's INSERT would otherwise make every page view wait for
    the write lock while ingest or the alert outbox holds it.
    """
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'live_seq'"
                    ).fetchone() is None:
        conn.executescript(SCHEMA)


def encode(live: WindowLive) -> str:
    """JSON text of ``live``; times as ISO 8601 (fast both ways: this runs per event)."""
    out: dict[str, Any] = {}
    for key in _FIELDS:
        value = getattr(live, key)
        if key == "at":
            out[key] = [[aspect, t.isoformat()] for aspect, t in value]
        elif isinstance(value, dt.datetime):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return json.dumps(out)


def decode(text: str) -> WindowLive:
    """Inverse of :func:`encode`."""
    raw = json.loads(text)
    kw: dict[str, Any] = {}
    for key in _FIELDS:
        if key not in raw:
            continue
        value = raw[key]
        if key == "at":
            value = tuple((a, dt.datetime.fromisoformat(t)) for a, t in value)
        elif key in _TIMES and value is not None:
            value = dt.datetime.fromisoformat(value)
        kw[key] = value
    return WindowLive(**kw)


def apply(conn: sqlite3.Connection, env: EventEnvelope, window_id: str | None) -> None:
    """Fold one newly stored event into its window's live row (the ingest hook).

    Runs inside the ingest transaction, so the row and the event commit together.
    Events of unbound units have no tile and are skipped.
    """
    if window_id is None:
        return
    try:
        row = conn.execute("SELECT state FROM live_windows WHERE window_id = ?",
                           [window_id]).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        # First event into this database: DDL is transactional in SQLite.
        for statement in SCHEMA.strip().split(";"):
            if statement.strip():
                conn.execute(statement)
        row = None
    before = decode(row[0]) if row is not None else WindowLive()
    utc = env.utc if env.utc.tzinfo else env.utc.replace(tzinfo=dt.UTC)
    after = transition(before, env.type, env.data, utc.astimezone(dt.UTC), env.unit_id)
    # Every event is a sign of life, so the row (and the tile's online state) moves on
    # even when the event changes nothing else.
    seq = conn.execute("UPDATE live_seq SET seq = seq + 1 WHERE one = 1 RETURNING seq"
                       ).fetchone()[0]
    conn.execute(
        "INSERT INTO live_windows (window_id, state, received_utc, seq) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (window_id) DO UPDATE SET state = excluded.state, "
        "received_utc = excluded.received_utc, seq = excluded.seq",
        [window_id, encode(after), utc_text(dt.datetime.now(dt.UTC)), seq])


def current_seq(conn: sqlite3.Connection) -> int:
    """The counter's value now: a feed starting here sends only later changes."""
    try:
        row = conn.execute("SELECT seq FROM live_seq WHERE one = 1").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        return 0  # no event has reached this HQ yet
    return int(row[0]) if row else 0


def windows_live(conn: sqlite3.Connection, window_ids: Iterable[str],
                 since_seq: int = -1) -> dict[str, tuple[WindowLive, dt.datetime, int]]:
    """``window_id -> (state, last heard, seq)`` for those of ``window_ids`` changed after
    ``since_seq`` (all of them with the default)."""
    ids = list(window_ids)
    out: dict[str, tuple[WindowLive, dt.datetime, int]] = {}
    for i in range(0, len(ids), 500):  # SQLite's parameter limit
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT window_id, state, received_utc, seq FROM live_windows "
            f"WHERE seq > ? AND window_id IN ({marks})", [since_seq, *chunk]).fetchall()
        for wid, state, received, seq in rows:
            out[wid] = (decode(state), parse_utc(received), int(seq))
    return out


def changed_windows(conn: sqlite3.Connection, scope: Scope, since_seq: int) -> list[str]:
    """Windows in ``scope`` whose live row changed after ``since_seq``."""
    cond, args = scope.window_filter("window_id")
    rows = conn.execute(f"SELECT window_id FROM live_windows WHERE seq > ? AND {cond}",
                        [since_seq, *args]).fetchall()
    return [str(r[0]) for r in rows]


def bump(conn: sqlite3.Connection, window_id: str) -> None:
    """Mark a window's tile changed without an event (e.g. its alert was acknowledged),
    so every open dashboard renders it again."""
    ensure_schema(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        seq = conn.execute("UPDATE live_seq SET seq = seq + 1 WHERE one = 1 RETURNING seq"
                           ).fetchone()[0]
        conn.execute("UPDATE live_windows SET seq = ? WHERE window_id = ?", [seq, window_id])
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
