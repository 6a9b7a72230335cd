"""HQ's own alert threads: units gone quiet, and conditions of HQ itself.

A bound unit whose newest event is older than ``silent_after_min`` opens a ``silent``
thread (one per silence, keyed by when it was last heard); it closes when the unit's
events show it was heard again. ``now`` is passed in, so tests drive the clock.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from hq.alerts import policy_store
from hq.alerts.ingest import record
from hq.alerts.signals import Signal
from hq.storage.models import parse_utc

HQ_UNIT = "hq"  # the unit id HQ's own conditions are filed under


def silent_units(conn: sqlite3.Connection, now: dt.datetime) -> tuple[int, int]:
    """Open threads for units quiet too long, close those heard again: (opened, closed)."""
    after = dt.timedelta(minutes=policy_store.current(conn).doc.silent_after_min)
    rows = conn.execute(
        "SELECT u.unit_id, u.window_id, "
        "(SELECT MAX(e.utc) FROM events e WHERE e.unit_id = u.unit_id) AS last "
        "FROM org_unit_windows u").fetchall()
    opened = closed = 0
    for r in rows:
        last_text = r["last"]
        if last_text is None:  # never heard from: not installed yet, not gone quiet
            continue
        last = parse_utc(last_text)
        for t in conn.execute("SELECT episode FROM alert_threads WHERE unit_id = ? AND "
                              "kind = 'silent' AND status = 'open' AND episode < ?",
                              [r["unit_id"], last_text]).fetchall():
            record(conn, Signal(r["unit_id"], "silent", t["episode"], "clear", last),
                   r["window_id"], source="hq")
            closed += 1
        if now - last < after:
            continue
        known = conn.execute("SELECT 1 FROM alert_threads WHERE unit_id = ? AND "
                             "kind = 'silent' AND episode = ?",
                             [r["unit_id"], last_text]).fetchone()
        if known is None:
            record(conn, Signal(r["unit_id"], "silent", last_text, "raise", now,
                                detail=f"no event since {last_text}"),
                   r["window_id"], source="hq")
            opened += 1
    return opened, closed


def hq_condition(conn: sqlite3.Connection, kind: str, detail: str, now: dt.datetime, *,
                 cleared: bool = False, level: int = 1) -> int | None:
    """Raise (or clear) a condition of HQ itself, e.g. ``hq_disk``; returns the thread id."""
    sig = Signal(HQ_UNIT, kind, kind, "clear" if cleared else "raise", now, level,
                 detail=detail, recurring=True)
    return record(conn, sig, None, source="hq")
