"""Queue events at HQ: queue_length alert threads, branch queue figures, called tickets.

The org is tests/helpers/hq/reports_fixture.py's (U1 at W1, U2 at W2, both in branch B1, UTC+8).
U1's queue link raises q1 at d1 10:00 (12 waiting > 10 for 300 s) and clears it at 10:20
(peak 15, 1200 s raised): 5 + 20 = 25 minutes over the threshold. U2 raises q7 at 11:00
(9 waiting over 8) that never clears: one more alert, no minutes yet, peak 9 < 15.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from hq.alerts.queue_signals import queue_signal
from hq.reports.exports.tables import build
from hq.reports.ingest.queue_events import episode
from hq.reports.query.queue import ticket_of
from hq.storage.events import SqliteEventStore
from hq.storage.scope import Scope
from hq.storage.sqlite import connect
from sync.schema import EventEnvelope
from tests.helpers.hq import reports_fixture as fx
from tests.servers.postgres_fixtures import Backend

B1 = Scope("branch", "B1")
NOW = dt.datetime(2026, 4, 2, tzinfo=dt.UTC)


def raised(unit: str, alert_id: str, hhmm: str, waiting: int, threshold: int) -> EventEnvelope:
    return fx.ev(unit, "queue_alert_raised", fx.local(fx.D1, hhmm), alert="queue",
                 alert_id=alert_id, service="A", waiting=waiting, threshold=threshold,
                 for_s=300.0, high_since=1.0)


def cleared(unit: str, alert_id: str, hhmm: str, peak: int, duration_s: float) -> EventEnvelope:
    return fx.ev(unit, "queue_alert_cleared", fx.local(fx.D1, hhmm), alert="queue",
                 alert_id=alert_id, service="A", waiting=3, threshold=10,
                 clear_at_or_below=7, peak=peak, duration_s=duration_s)


@pytest.fixture
def db(tmp_path: Path, backend: Backend) -> Path:
    path = backend.migrated(tmp_path) / "events.db"
    store = SqliteEventStore(path)
    fx.build_org(path)
    # The clear arrives before its raise (retried batches): the figures must not care.
    store.ingest("U1", [cleared("U1", "q1", "10:20", 15, 1200.0)])
    store.ingest("U1", [raised("U1", "q1", "10:00", 12, 10)])
    store.ingest("U2", [raised("U2", "q7", "11:00", 9, 8)])
    store.ingest("U1", [
        fx.ev("U1", "ticket_called", fx.local(fx.D1, "10:01"), ticket="A017", counter="c-U1",
              txn_id=None, joined="next", replaces=None),
        fx.ev("U1", "transaction_started", fx.local(fx.D1, "10:02"), txn_id="T9",
              staff_id="S1", session_id="s", clip_id="T9", ticket="A017"),
        fx.ev("U1", "transaction_started", fx.local(fx.D1, "10:09"), txn_id="T10",
              staff_id="S1", session_id="s", clip_id="T10", ticket=None),
        fx.ev("U1", "ticket_called", fx.local(fx.D1, "10:09:05"), ticket="A020",
              counter="c-U1", txn_id="T10", joined="open")])
    return path


def _conn(path: Path) -> sqlite3.Connection:
    return connect(path)


def test_threads_open_and_close_per_episode(db: Path) -> None:
    conn = _conn(db)
    try:
        rows = conn.execute("SELECT unit_id, kind, episode, status, level, detail FROM "
                            "alert_threads ORDER BY unit_id").fetchall()
        dispatched = conn.execute("SELECT COUNT(*) FROM alert_dispatch").fetchone()[0]
    finally:
        conn.close()
    assert [tuple(r)[:5] for r in rows] == [("U1", "queue_length", "q1", "closed", 1),
                                             ("U2", "queue_length", "q7", "open", 1)]
    assert "9 waiting (more than 8)" in rows[1][5]
    # q1's clear came first: a closed thread whose late raise tells nobody; q7 is told.
    assert dispatched == 1


def test_branch_report_queue_figures(db: Path) -> None:
    conn = _conn(db)
    try:
        table = build(conn, "branch", B1, fx.D1, fx.D1, NOW)
    finally:
        conn.close()
    keys = [c.key for c in table.columns]
    row = next(r for r in table.rows if r[0] == "B1")
    assert [row[keys.index(k)] for k in ("queue_alerts", "queue_over_min",
                                         "queue_peak_waiting")] == [2, 25.0, 15]


def test_called_tickets_are_attached_to_their_transactions(db: Path) -> None:
    conn = _conn(db)
    try:
        assert ticket_of(conn, "U1", "T9") == "A017"  # called before it started
        assert ticket_of(conn, "U1", "T10") == "A020"  # called while it was open
        assert ticket_of(conn, "U1", "T1") is None
    finally:
        conn.close()


@pytest.mark.parametrize(("event", "want"), [
    (raised("U1", "q1", "10:00", 12, 10), ("raise", "q1", 1)),
    (cleared("U1", "q1", "10:20", 15, 1200.0), ("clear", "q1", 1)),
    (fx.ev("U1", "queue_alert_raised", fx.local(fx.D1, "10:00"), service="A"), None),  # no id
    (fx.ev("U1", "ticket_called", fx.local(fx.D1, "10:00"), ticket="A1"), None),
])
def test_queue_signal(event: EventEnvelope, want: tuple[str, str, int] | None) -> None:
    sig = queue_signal(event)
    assert (None if sig is None else (sig.action, sig.episode, sig.level)) == want
    assert sig is None or sig.kind == "queue_length"


@pytest.mark.parametrize(("raised_utc", "cleared_utc", "duration", "want"), [
    ("2026-03-02T02:00:00.000000Z", "2026-03-02T02:20:00.000000Z", 1200.0,
     {"q_alert_n": 1.0, "q_over_s": 1500.0}),
    ("2026-03-02T02:00:00.000000Z", None, None, {"q_alert_n": 1.0}),  # still raised
    (None, "2026-03-02T02:20:00.000000Z", 1200.0, {"q_alert_n": 1.0, "q_over_s": 1500.0}),
    (None, None, None, {}),
])
def test_episode_contribution(raised_utc: str | None, cleared_utc: str | None,
                              duration: float | None, want: dict[str, float]) -> None:
    got = episode(raised_utc, cleared_utc, 300.0, duration, "W1", "Asia/Shanghai")
    assert {k[3]: v for k, v in got.items()} == want
    assert all(k[0] == "2026-03-02" for k in got)
