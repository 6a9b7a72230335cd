"""Database facts for ``counterunit status`` on real unit databases written by the Store."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.status import db as status_db
from firmware.status.db import DB_NAME, read_db, summarize
from firmware.store import EventContext, Store
from firmware.system.clock import UnitClock
from sync.outbox import Outbox

MIDNIGHT = dt.datetime(2026, 11, 22, 0, 0, tzinfo=dt.UTC)
BASE = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)  # unit time 0
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    clock = UnitClock.media(lambda: 0.0, BASE)
    s = Store(tmp_path / DB_NAME, EventContext("unit-1", "counter-1", "boot-a", clock))
    yield s
    s.close()


def finished_clip(store: Store, tmp_path: Path, clip_id: str, payload: bytes) -> Path:
    path = tmp_path / f"{clip_id}.mp4"
    store.clip_opened(clip_id, "transaction", path, 1.0)
    path.write_bytes(payload)
    store.clip_finished(clip_id, state="closed", path=path, t=2.0, duration_s=1.0,
                        size=len(payload), sha256=hashlib.sha256(payload).hexdigest())
    return path


def a_day(store: Store) -> None:
    store.record("login", 1, {"staff_id": "s-7", "session_id": "s1", "name": "Wang Fang"})
    for n, rating in enumerate((4, 2)):
        txn = f"t{n}"
        store.record("transaction_started", 10 + n * 100, {"txn_id": txn, "staff_id": "s-7",
                                                          "session_id": "s1"})
        store.record("transaction_ended", 50 + n * 100, {"txn_id": txn, "duration_s": 40.0})
        store.record("rating", 55 + n * 100, {"txn_id": txn, "outcome": "rated",
                                              "rating": rating})
    store.record("transaction_started", 300, {"txn_id": "t9", "staff_id": "s-7"})
    store.record("rating", 310, {"txn_id": "t8", "outcome": "timeout"})
    store.record("alert_raised", 400, {"alert": "off_seat", "level": 1, "absence_id": "a1"})


def test_a_day_in_numbers(store: Store, tmp_path: Path) -> None:
    a_day(store)
    facts = read_db(tmp_path, MIDNIGHT)
    assert facts.problems == () and facts.schema_version == facts.schema_current
    t = facts.today
    assert t is not None
    assert (t.transactions, t.transactions_open) == (3, 1)
    assert (t.rated, t.rating_avg, t.not_rated) == (2, 3.0, 1)
    assert (t.alerts, t.alerts_open) == (1, 1)
    # "Today" starts at local midnight: nothing before 13:00 counts from then.
    later = read_db(tmp_path, dt.datetime(2026, 11, 22, 13, 0, tzinfo=dt.UTC)).today
    assert later is not None and (later.transactions, later.rated, later.alerts) == (0, 0, 0)


def test_last_events_newest_first_with_summaries(store: Store, tmp_path: Path) -> None:
    a_day(store)
    facts = read_db(tmp_path, MIDNIGHT, n_events=3)
    assert facts.events is not None
    assert [e.type for e in facts.events] == ["alert_raised", "rating", "transaction_started"]
    assert facts.events[0].utc == BASE + dt.timedelta(seconds=400)
    assert "alert=off_seat" in facts.events[0].summary and "level=1" in facts.events[0].summary


@pytest.mark.parametrize(("data", "want"), [
    ({"name": "Wang Fang", "staff_id": "s-7", "session_id": "x"}, "name=Wang Fang staff_id=s-7"),
    ({"txn_id": "t1", "duration_s": 15.63, "reason": "customer_left"},
     "duration_s=15.6 s reason=customer_left txn_id=t1"),
    ({"clip_id": "c1", "size": 3 * 1024 * 1024, "sha256": "ab"}, "size=3.0 MiB clip_id=c1"),
    ({"suspect": False, "rating": None}, ""),
])
def test_summary_picks_the_telling_fields(data: dict[str, object], want: str) -> None:
    assert summarize(data) == want


def test_summary_is_cut_to_a_line() -> None:
    text = summarize({"reason": "x" * 300})
    assert len(text) == status_db._SUMMARY_MAX and text.endswith("…")


def test_backlog_matches_the_sync_outbox_and_clips_on_disk(store: Store,
                                                           tmp_path: Path) -> None:
    store.record("login", 1, {"staff_id": "s-7", "session_id": "s1"})
    store.record("alert_raised", 2, {"alert": "off_seat", "level": 1})
    finished_clip(store, tmp_path, "c1", b"x" * 100)
    finished_clip(store, tmp_path, "c2", b"y" * 40)
    store.clip_opened("c3", "transaction", tmp_path / "c3.mp4", 5.0)
    (tmp_path / "c3.mp4").write_bytes(b"z" * 7)
    outbox = Outbox(store.path)
    try:
        outbox.ack_clip("c1", NOW)
        want = outbox.backlog()
    finally:
        outbox.close()
    facts = read_db(tmp_path, MIDNIGHT)
    assert facts.backlog == want
    assert (want.events, want.alerts, want.clips, want.clip_bytes) == (4, 1, 1, 40)
    c = facts.clips
    assert c is not None
    assert (c.count, c.bytes, c.recording) == (3, 147, 1)
    assert (c.unsynced, c.unsynced_bytes) == (1, 40)  # c2; c1 acked, c3 still recording


def test_missing_database_is_said_not_created(tmp_path: Path) -> None:
    facts = read_db(tmp_path, MIDNIGHT)
    assert not facts.exists and facts.backlog is None and facts.events is None
    assert not (tmp_path / DB_NAME).exists()


def test_not_migrated_database(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / DB_NAME).close()
    facts = read_db(tmp_path, MIDNIGHT)
    assert facts.schema_version == 0
    assert any("not migrated" in p for p in facts.problems)
    assert facts.backlog is None


def test_garbage_file_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    facts = read_db(tmp_path, MIDNIGHT)
    assert facts.exists and facts.backlog is None
    assert len(facts.problems) == 1 and "not a database" in facts.problems[0]


def test_locked_database_costs_each_section_a_line(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # WAL readers are never blocked; a rollback-journal writer holding EXCLUSIVE is the
    # way a reader still meets a lock (e.g. a database restored from a backup tool).
    path = tmp_path / DB_NAME
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=DELETE")
    writer.execute("PRAGMA user_version=2")
    writer.execute("CREATE TABLE events (type, utc, data)")
    writer.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(status_db, "BUSY_TIMEOUT_S", 0.05)
    try:
        facts = read_db(tmp_path, MIDNIGHT)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert facts.exists and facts.backlog is None and facts.today is None
    assert facts.problems and all("locked" in p for p in facts.problems)


def test_reads_while_the_daemon_writes(store: Store, tmp_path: Path) -> None:
    """The daemon's connection stays open in WAL mode, mid-transaction even."""
    a_day(store)
    store.conn.execute("BEGIN IMMEDIATE")
    try:
        store.conn.execute("INSERT INTO events (uuid, type, utc, data) VALUES "
                           "('u', 'uncommitted', '2026-11-22T11:00:00.000+00:00', '{}')")
        facts = read_db(tmp_path, MIDNIGHT)
    finally:
        store.conn.execute("ROLLBACK")
    assert facts.problems == ()
    assert facts.events is not None and facts.events[0].type == "alert_raised"
