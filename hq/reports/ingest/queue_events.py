"""Queue events at HQ: threshold episodes -> report figures, called tickets -> transactions.

From the unit's queue link (firmware/queue_link, docs/queue-protocol.md):

- ``queue_alert_raised`` / ``queue_alert_cleared`` (by ``alert_id``) are filed in
  ``rpt_queue`` and add to the rollups, on the local day the episode was raised, for
  the unit's window: ``q_alert_n`` (episodes) and, once cleared, ``q_over_s`` = the
  seconds the count stayed above the threshold before the alert (``for_s``) plus the
  alert's own duration. The peak waiting count is a maximum, not a sum, so it is read
  from ``rpt_queue`` at report time (:func:`hq.reports.query.queue.peaks`).
- the ticket called at a window (``ticket`` in ``transaction_started``/``_ended``, or
  ``ticket_called`` naming the open transaction) is kept in ``rpt_tickets`` by
  transaction, whichever arrives first (read by
  :func:`hq.reports.query.queue.ticket_of`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from hq.reports.figures.periods import local_day
from hq.reports.ingest.entities import window_tz
from hq.reports.ingest.fields import number_of, text_of
from hq.reports.tables.rollup import Contribution, add, settle
from hq.reports.tables.schema import ensure_schema, ensure_tables
from hq.storage.models import parse_utc, utc_text
from sync.schema import EventEnvelope

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rpt_queue (unit_id TEXT NOT NULL, alert_id TEXT NOT NULL,"
    " window_id TEXT, service TEXT, raised_utc TEXT, cleared_utc TEXT, for_s REAL,"
    " duration_s REAL, peak INTEGER, PRIMARY KEY (unit_id, alert_id))",
    "CREATE INDEX IF NOT EXISTS rpt_queue_window ON rpt_queue (window_id, raised_utc)",
    "CREATE TABLE IF NOT EXISTS rpt_tickets (unit_id TEXT NOT NULL, txn_id TEXT NOT NULL,"
    " ticket TEXT NOT NULL, window_id TEXT, PRIMARY KEY (unit_id, txn_id))",
)
_READY: dict[int, sqlite3.Connection] = {}


def ensure(conn: sqlite3.Connection) -> None:
    """Create the tables if missing (safe inside an open transaction)."""
    ensure_tables(conn, _SCHEMA, _READY)


def apply(conn: sqlite3.Connection, env: EventEnvelope, window_id: str | None) -> None:
    """File one newly stored queue or transaction event (other types pass)."""
    if window_id is None:
        return
    if env.type in ("queue_alert_raised", "queue_alert_cleared"):
        ensure_schema(conn)
        ensure(conn)
        _episode(conn, env, window_id)
    elif env.type in ("transaction_started", "transaction_ended", "ticket_called"):
        ticket, txn_id = text_of(env.data, "ticket"), text_of(env.data, "txn_id")
        if ticket is not None and txn_id is not None:
            ensure(conn)
            conn.execute("INSERT INTO rpt_tickets (unit_id, txn_id, ticket, window_id) "
                         "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                         [env.unit_id, txn_id, ticket, window_id])


def _episode(conn: sqlite3.Connection, env: EventEnvelope, window_id: str) -> None:
    d, utc = env.data, utc_text(env.utc)
    alert_id = text_of(d, "alert_id")
    if alert_id is None:
        return
    if env.type == "queue_alert_raised":
        conn.execute(
            "INSERT INTO rpt_queue (unit_id, alert_id, window_id, service, raised_utc, for_s,"
            " peak) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (unit_id, alert_id) DO UPDATE"
            " SET raised_utc = excluded.raised_utc, for_s = excluded.for_s,"
            " peak = MAX(COALESCE(rpt_queue.peak, 0), COALESCE(excluded.peak, 0))",
            [env.unit_id, alert_id, window_id, text_of(d, "service"), utc, number_of(d, "for_s"),
             number_of(d, "waiting")])
    else:
        conn.execute(
            "INSERT INTO rpt_queue (unit_id, alert_id, window_id, service, cleared_utc,"
            " duration_s, peak) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (unit_id, alert_id)"
            " DO UPDATE SET cleared_utc = excluded.cleared_utc,"
            " duration_s = excluded.duration_s,"
            " peak = MAX(COALESCE(rpt_queue.peak, 0), COALESCE(excluded.peak, 0))",
            [env.unit_id, alert_id, window_id, text_of(d, "service"), utc,
             number_of(d, "duration_s"), number_of(d, "peak")])
    row = conn.execute("SELECT * FROM rpt_queue WHERE unit_id = ? AND alert_id = ?",
                       [env.unit_id, alert_id]).fetchone()
    settle(conn, f"queue:{env.unit_id}:{alert_id}",
           episode(row["raised_utc"], row["cleared_utc"], row["for_s"], row["duration_s"],
                   window_id, window_tz(conn, window_id)))


def episode(raised_utc: str | None, cleared_utc: str | None, for_s: float | None,
            duration_s: float | None, window_id: str, tz: str) -> Contribution:
    """What one threshold episode adds (pure): counted on the local day it was raised
    (or, if only its clear arrived, the day it began); minutes over once cleared."""
    c: Contribution = {}
    if raised_utc is not None:
        start = parse_utc(raised_utc)
    elif cleared_utc is not None and duration_s is not None:
        start = parse_utc(cleared_utc) - dt.timedelta(seconds=duration_s)
    else:
        return c
    day = local_day(start, tz)
    add(c, day, window_id, None, "q_alert_n")
    if cleared_utc is not None and duration_s is not None:
        add(c, day, window_id, None, "q_over_s", (for_s or 0.0) + duration_s)
    return c

