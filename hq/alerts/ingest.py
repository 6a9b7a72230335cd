"""Threads updated at ingest: the one hook ``hq.storage.projection`` calls per event.

Runs inside the ingest transaction, so the thread, its level history and its outbox row
commit (or roll back) with the event itself. HQ's own checks call :func:`record` too.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import replace
from typing import Any

from hq.alerts import schema
from hq.alerts.queue_signals import queue_signal
from hq.alerts.signals import Signal, signal_of
from hq.alerts.threads import Outcome, ThreadState, advance
from hq.storage.models import parse_utc, utc_text
from sync.schema import EventEnvelope


def apply(conn: sqlite3.Connection, env: EventEnvelope, window_id: str | None) -> None:
    """Update the alert thread an event belongs to, if it belongs to one."""
    sig = signal_of(env) or queue_signal(env)  # queue_length threads (queue_signals.py)
    if sig is not None:
        record(conn, sig, window_id, source="unit")


def state_of(row: sqlite3.Row | dict[str, Any]) -> ThreadState:
    """A stored thread as the state machine sees it."""
    return ThreadState(
        status=row["status"], level=row["level"], opened_utc=parse_utc(row["opened_utc"]),
        level_utc=parse_utc(row["level_utc"]),
        closed_utc=parse_utc(row["closed_utc"]) if row["closed_utc"] else None,
        staff_id=row["staff_id"], clip_id=row["clip_id"], snapshot_id=row["snapshot_id"],
        detail=row["detail"], acked=row["acked_utc"] is not None)


def _absence_clip(conn: sqlite3.Connection, unit_id: str, absence_id: str) -> str | None:
    # The absence's clip is named when it starts; its alert may arrive first (alerts jump
    # the unit's queue), in which case the absence_started hook fills it in later.
    row = conn.execute(
        "SELECT data FROM events WHERE unit_id = ? AND type = 'absence_started' "
        "AND json_extract(data, '$.absence_id') = ? LIMIT 1", [unit_id, absence_id]).fetchone()
    if row is None:
        return None
    clip = json.loads(row[0]).get("clip_id")
    return clip if isinstance(clip, str) else None


def record(conn: sqlite3.Connection, sig: Signal, window_id: str | None, *,
           source: str) -> int | None:
    """Apply ``sig`` to its thread; returns the thread id (None if there is no thread)."""
    schema.ensure(conn)
    if sig.recurring:
        row = conn.execute("SELECT * FROM alert_threads WHERE unit_id = ? AND kind = ? "
                           "AND status = 'open' ORDER BY thread_id DESC LIMIT 1",
                           [sig.unit_id, sig.kind]).fetchone()
        if row is None:
            if sig.action != "raise":
                return None
            sig = replace(sig, episode=f"{sig.episode}@{utc_text(sig.utc)}")
    else:
        row = conn.execute("SELECT * FROM alert_threads WHERE unit_id = ? AND kind = ? "
                           "AND episode = ?", [sig.unit_id, sig.kind, sig.episode]).fetchone()
    out = advance(state_of(row) if row is not None else None, sig)
    if out.state is None:
        return None
    new = out.state
    if row is None:
        clip = new.clip_id
        if clip is None and sig.kind == "off_seat":
            clip = _absence_clip(conn, sig.unit_id, sig.episode)
        cur = conn.execute(
            "INSERT INTO alert_threads (unit_id, kind, episode, status, level, opened_utc, "
            "level_utc, closed_utc, window_id, staff_id, clip_id, snapshot_id, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sig.unit_id, sig.kind, sig.episode, new.status, new.level,
             utc_text(new.opened_utc), utc_text(new.level_utc),
             utc_text(new.closed_utc) if new.closed_utc else None, window_id, new.staff_id,
             clip, new.snapshot_id, new.detail])
        thread_id = int(cur.lastrowid or 0)
    else:
        thread_id = int(row["thread_id"])
        if out.changed:
            save(conn, thread_id, new)
    _follow_up(conn, thread_id, out, sig.utc, source)
    return thread_id


def save(conn: sqlite3.Connection, thread_id: int, new: ThreadState) -> None:
    """Write a thread's changed state."""
    conn.execute(
        "UPDATE alert_threads SET status = ?, level = ?, level_utc = ?, closed_utc = ?, "
        "staff_id = ?, clip_id = ?, snapshot_id = ?, detail = ? WHERE thread_id = ?",
        [new.status, new.level, utc_text(new.level_utc),
         utc_text(new.closed_utc) if new.closed_utc else None, new.staff_id, new.clip_id,
         new.snapshot_id, new.detail, thread_id])


def _follow_up(conn: sqlite3.Connection, thread_id: int, out: Outcome, utc: dt.datetime,
               source: str) -> None:
    for level in out.levels:
        conn.execute("INSERT OR IGNORE INTO alert_levels (thread_id, level, utc, source) "
                     "VALUES (?, ?, ?, ?)", [thread_id, level, utc_text(utc), source])
    for level in out.notify:
        conn.execute("INSERT OR IGNORE INTO alert_dispatch (thread_id, level, created_utc) "
                     "VALUES (?, ?, ?)", [thread_id, level, utc_text(utc)])
    if out.state is not None and out.state.status == "closed":
        # Held for quiet hours and now moot: the episode is over before anyone was told.
        conn.execute("UPDATE alert_deliveries SET status = 'cancelled', "
                     "last_error = 'recovered before quiet hours ended' "
                     "WHERE thread_id = ? AND status = 'deferred'", [thread_id])
