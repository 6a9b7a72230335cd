"""The ingest hook: keep the rollups current with every new event, exactly once.

``hq.storage.projection.project`` calls :func:`apply` inside the ingest transaction,
after the transaction/rating tables are updated, and only for events not stored before
(ingest deduplicates by uuid). Events that describe an entity over time (a transaction,
an off-seat episode, a session, a closure) update that entity's row and then re-settle
its whole contribution (:func:`hq.reports.tables.rollup.settle`), so a late or out-of-order
event corrects the figures instead of adding to them. Point events (alerts, rating
presses) are added once. Events of units not bound to a window are not rolled up.

Shifts and leave are authored at HQ, not sent by units:
:mod:`hq.reports.ingest.shifts` re-settles them at the next ingest and before every
report.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from hq.reports.figures.periods import local_day
from hq.reports.ingest import entities
from hq.reports.ingest.fields import number_of, text_of
from hq.reports.ingest.shifts import refresh_shifts, settle_dirty
from hq.reports.tables.rollup import Contribution, add, apply_delta, settle
from hq.reports.tables.schema import ensure_schema
from hq.storage.models import parse_utc, utc_text
from sync.schema import EventEnvelope


def apply(conn: sqlite3.Connection, env: EventEnvelope, window_id: str | None) -> None:
    """Roll one newly stored event into the reports' tables (inside ingest's transaction)."""
    if window_id is None:
        return
    ensure_schema(conn)
    settle_dirty(conn)
    d = env.data
    kind = env.type
    _synced(conn, env, window_id)
    if kind in ("transaction_started", "transaction_ended") or (
            kind == "rating" and text_of(d, "txn_id")):
        txn_id = text_of(d, "txn_id")
        if txn_id:
            settle(conn, f"txn:{env.unit_id}:{txn_id}",
                   entities.transaction(conn, env.unit_id, txn_id))
    if kind in ("rating", "key_ignored", "alert_raised"):
        _point(conn, env, window_id)
    elif kind in ("absence_started", "absence_ended"):
        _absence(conn, env, window_id, utc_text(env.utc))
    elif kind in ("login", "logout"):
        _session(conn, env, window_id, utc_text(env.utc))
    elif kind in ("counter_opened", "counter_closed"):
        _mark(conn, env, window_id, utc_text(env.utc))


def _synced(conn: sqlite3.Connection, env: EventEnvelope, window_id: str) -> None:
    """Count events whose unit clock was not synchronised (their day may be wrong)."""
    if not env.clock_synced:
        c: Contribution = {}
        add(c, local_day(env.utc, entities.window_tz(conn, window_id)), window_id, None,
            "clock_unsynced")
        apply_delta(conn, c)


def _point(conn: sqlite3.Connection, env: EventEnvelope, window_id: str) -> None:
    d, c = env.data, Contribution()
    day = local_day(env.utc, entities.window_tz(conn, window_id))
    staff = text_of(d, "staff_id")
    if env.type == "rating":
        rating = d.get("rating")
        if d.get("outcome") == "rated" and isinstance(rating, int):
            add(c, day, window_id, staff, f"e_r{rating}")
        else:
            add(c, day, window_id, staff, "e_unrated")
    if env.type in ("rating", "key_ignored") and d.get("suspect") is True:
        add(c, day, window_id, staff, "e_suspect")
    if env.type == "alert_raised":
        alert = text_of(d, "alert") or "other"
        level = d.get("level") if isinstance(d.get("level"), int) else 0
        add(c, day, window_id, staff, f"e_alert_{alert}")
        add(c, day, window_id, staff, f"e_alert_{alert}_l{level}")
    apply_delta(conn, c)


def _absence(conn: sqlite3.Connection, env: EventEnvelope, window_id: str, utc: str) -> None:
    d = env.data
    absence_id = text_of(d, "absence_id")
    if absence_id is None:
        return
    if env.type == "absence_started":
        counter_open = d.get("counter_open")
        conn.execute(
            "INSERT INTO rpt_absences (unit_id, absence_id, staff_no, window_id, start_utc, "
            "counter_open, clip_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
            "(unit_id, absence_id) DO UPDATE SET start_utc = excluded.start_utc, "
            "counter_open = excluded.counter_open, clip_id = excluded.clip_id, "
            "staff_no = COALESCE(rpt_absences.staff_no, excluded.staff_no)",
            [env.unit_id, absence_id, text_of(d, "staff_id"), window_id, utc,
             int(counter_open) if isinstance(counter_open, bool) else None,
             text_of(d, "clip_id")])
    else:
        duration = number_of(d, "duration_s") or 0.0
        start = utc_text(env.utc - dt.timedelta(seconds=duration))
        level = d.get("max_level") if isinstance(d.get("max_level"), int) else 0
        conn.execute(
            "INSERT INTO rpt_absences (unit_id, absence_id, staff_no, window_id, start_utc, "
            "end_utc, duration_s, max_level) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
            "(unit_id, absence_id) DO UPDATE SET end_utc = excluded.end_utc, "
            "duration_s = excluded.duration_s, max_level = excluded.max_level, "
            "start_utc = COALESCE(rpt_absences.start_utc, excluded.start_utc), "
            "staff_no = COALESCE(rpt_absences.staff_no, excluded.staff_no)",
            [env.unit_id, absence_id, text_of(d, "staff_id"), window_id, start, utc,
             duration, level])
    settle(conn, f"abs:{env.unit_id}:{absence_id}",
           entities.absence(conn, env.unit_id, absence_id))


def _session(conn: sqlite3.Connection, env: EventEnvelope, window_id: str, utc: str) -> None:
    d = env.data
    session_id, staff = text_of(d, "session_id"), text_of(d, "staff_id")
    if session_id is None:
        return
    old = conn.execute("SELECT login_utc, logout_utc FROM rpt_sessions WHERE unit_id = ? "
                       "AND session_id = ?", [env.unit_id, session_id]).fetchone()
    if env.type == "login":
        conn.execute(
            "INSERT INTO rpt_sessions (unit_id, session_id, staff_no, window_id, login_utc) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (unit_id, session_id) DO UPDATE SET "
            "login_utc = excluded.login_utc, staff_no = excluded.staff_no",
            [env.unit_id, session_id, staff, window_id, utc])
    else:
        duration = number_of(d, "duration_s")
        login = utc_text(env.utc - dt.timedelta(seconds=duration)) if duration else None
        conn.execute(
            "INSERT INTO rpt_sessions (unit_id, session_id, staff_no, window_id, login_utc, "
            "logout_utc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (unit_id, session_id) DO "
            "UPDATE SET logout_utc = excluded.logout_utc, "
            "login_utc = COALESCE(rpt_sessions.login_utc, excluded.login_utc), "
            "staff_no = COALESCE(rpt_sessions.staff_no, excluded.staff_no)",
            [env.unit_id, session_id, staff, window_id, login or utc, utc])
    settle(conn, f"sess:{env.unit_id}:{session_id}",
           entities.session(conn, env.unit_id, session_id))
    if staff:
        times = [t for t in (*(old or ()), utc) if t]
        lo = min(times)
        hi = max(times)
        refresh_shifts(conn, staff, parse_utc(lo), parse_utc(hi) + dt.timedelta(seconds=1))


def _mark(conn: sqlite3.Connection, env: EventEnvelope, window_id: str, utc: str) -> None:
    is_open = int(env.type == "counter_opened")
    conn.execute("INSERT INTO rpt_marks (unit_id, utc, open, window_id) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT DO NOTHING", [env.unit_id, utc, is_open, window_id])
    # This mark may end the closure before it, and (if a close) starts its own.
    prev = conn.execute("SELECT utc FROM rpt_marks WHERE unit_id = ? AND utc < ? AND open = 0 "
                        "ORDER BY utc DESC LIMIT 1", [env.unit_id, utc]).fetchone()
    for closed in ([prev[0]] if prev else []) + ([utc] if not is_open else []):
        settle(conn, f"close:{env.unit_id}:{closed}",
               entities.closure(conn, env.unit_id, closed))

