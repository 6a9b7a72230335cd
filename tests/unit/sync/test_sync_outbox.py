"""Outbox reader on a real unit database written by the daemon's Store."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.store import Store
from sync.outbox import Backlog, Outbox, OutboxError
from sync.retention import plan_retention

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def outbox(store: Store) -> Iterator[Outbox]:
    ob = Outbox(store.path)
    yield ob
    ob.close()


def login(store: Store, t: float, pad: int = 0) -> str:
    return store.record("login", t, {"staff_id": "s1", "session_id": f"x-{t}",
                                     "name": "A" * pad}).uuid


def alert(store: Store, t: float) -> str:
    return store.record("alert_raised", t, {"alert": "off_seat", "level": 1}).uuid


def finished_clip(store: Store, tmp_path: Path, clip_id: str, payload: bytes,
                  state: str = "closed") -> Path:
    path = tmp_path / f"{clip_id}.mp4"
    store.clip_opened(clip_id, "transaction", path, 1.0)
    path.write_bytes(payload)
    store.clip_finished(clip_id, state=state, path=path, t=2.0, duration_s=1.0,
                        size=len(payload), sha256=hashlib.sha256(payload).hexdigest())
    return path


def test_batch_is_alerts_first_then_by_entry_and_round_trips(store: Store,
                                                             outbox: Outbox) -> None:
    e1, e2 = login(store, 1), login(store, 2)
    a1 = alert(store, 3)
    batch = outbox.next_event_batch(10, 1 << 20)
    assert [e.uuid for e in batch] == [a1, e1, e2]
    first = batch[1]
    assert (first.unit_id, first.counter_id, first.boot_id, first.mono) == (
        "unit-1", "counter-1", "boot-a", 1.0)
    assert first.data["session_id"] == "x-1" and first.clock_synced is False
    assert first.utc == dt.datetime(2026, 11, 22, 9, 0, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(("max_events", "max_bytes_of", "want"), [
    (2, 10, 2),        # count binds
    (10, 2.5, 2),      # bytes bind: two fit, a third does not
    (10, 3.0, 3),      # bytes exactly fit three
    (10, 0.1, 1),      # a lone oversize event still goes, so it cannot block the queue
    (1, 10, 1),
])
def test_batch_limits(store: Store, outbox: Outbox, max_events: int, max_bytes_of: float,
                      want: int) -> None:
    for t in range(5):
        login(store, t, pad=200)
    one = len(outbox.next_event_batch(1, 1 << 20)[0].model_dump_json().encode())
    batch = outbox.next_event_batch(max_events, int(one * max_bytes_of))
    assert len(batch) == want


def test_ack_is_one_idempotent_step(store: Store, outbox: Outbox) -> None:
    uuids = [login(store, t) for t in range(4)]
    assert outbox.ack_events([*uuids[:2], "no-such-uuid"], NOW) == 2
    assert outbox.ack_events(uuids[:2], NOW) == 0
    assert [e.uuid for e in outbox.next_event_batch(10, 1 << 20)] == uuids[2:]
    acked = {r["ref"]: r["acked_utc"] for r in store.rows("outbox")}
    assert acked[uuids[0]] == "2026-11-22T12:00:00.000+00:00" and acked[uuids[3]] is None


def test_naive_ack_time_is_refused(store: Store, outbox: Outbox) -> None:
    uuid = login(store, 1)
    with pytest.raises(OutboxError, match="time zone"):
        outbox.ack_events([uuid], dt.datetime(2026, 1, 1))
    assert outbox.backlog().events == 1


def test_note_attempt_counts_unacked_only(store: Store, outbox: Outbox) -> None:
    u1, u2 = login(store, 1), login(store, 2)
    outbox.ack_events([u2], NOW)
    outbox.note_attempt([u1, u2])
    outbox.note_attempt([u1])
    attempts = {r["ref"]: r["attempts"] for r in store.rows("outbox")}
    assert (attempts[u1], attempts[u2]) == (2, 0)


def test_corrupt_event_is_skipped_and_kept(store: Store, outbox: Outbox,
                                          caplog: pytest.LogCaptureFixture) -> None:
    bad, good = login(store, 1), login(store, 2)
    store.conn.execute("UPDATE events SET data = 'not json' WHERE uuid = ?", [bad])
    for _ in range(2):
        assert [e.uuid for e in outbox.next_event_batch(10, 1 << 20)] == [good]
    assert sum(bad in r.getMessage() for r in caplog.records) == 1  # logged once
    # Set aside (kept, never sent), not backlog; handed to the runner once for its alert.
    backlog = outbox.backlog()
    assert (backlog.events, backlog.refused) == (1, 1)
    assert [r.uuid for r in outbox.take_unsendable()] == [bad]
    assert outbox.take_unsendable() == []
    assert store.conn.execute("SELECT count(*) FROM events WHERE uuid = ?",
                              [bad]).fetchone()[0] == 1


def test_corrupt_events_cannot_starve_the_queue(store: Store, outbox: Outbox) -> None:
    bad = [login(store, t) for t in range(5)]
    good = [login(store, t) for t in range(5, 8)]
    store.conn.executemany("UPDATE events SET unit_id = '' WHERE uuid = ?", [[u] for u in bad])
    assert [e.uuid for e in outbox.next_event_batch(2, 1 << 20)] == good[:2]


def test_pending_and_missing_clips(store: Store, outbox: Outbox, tmp_path: Path) -> None:
    ok = finished_clip(store, tmp_path, "c-ok", b"x" * 100)
    finished_clip(store, tmp_path, "c-salv", b"y" * 50, state="salvaged")
    finished_clip(store, tmp_path, "c-gone", b"z" * 10).unlink()
    finished_clip(store, tmp_path, "c-grown", b"w" * 10).write_bytes(b"w" * 11)
    store.clip_opened("c-open", "transaction", tmp_path / "c-open.mp4", 5.0)
    pending = outbox.pending_clips()
    assert [(c.clip_id, c.state, c.size) for c in pending] == [
        ("c-ok", "closed", 100), ("c-salv", "salvaged", 50)]
    assert pending[0].path == ok and pending[0].sha256 == hashlib.sha256(b"x" * 100).hexdigest()
    missing = {m.clip_id: m.reason for m in outbox.missing_clips()}
    assert missing == {"c-gone": "file missing", "c-grown": "file is 11 bytes, recorded 10"}

    assert outbox.ack_clip("c-ok", NOW) is True
    assert outbox.ack_clip("c-ok", NOW) is False
    assert outbox.ack_clip("nope", NOW) is False
    assert [c.clip_id for c in outbox.pending_clips()] == ["c-salv"]


def test_backlog(store: Store, outbox: Outbox, tmp_path: Path) -> None:
    assert outbox.backlog() == Backlog(0, 0, 0, 0, None)
    u = login(store, 1)
    alert(store, 2)
    finished_clip(store, tmp_path, "c1", b"x" * 100)
    finished_clip(store, tmp_path, "c2", b"x" * 40)
    b = outbox.backlog()
    # clip_finished records a clip_closed event too: 2 + 2 events.
    assert (b.events, b.alerts, b.clips, b.clip_bytes) == (4, 1, 2, 140)
    assert b.oldest_utc is not None and b.oldest_utc.tzinfo is not None
    outbox.ack_events([u], NOW)
    outbox.ack_clip("c1", NOW)
    b = outbox.backlog()
    assert (b.events, b.alerts, b.clips, b.clip_bytes) == (3, 1, 1, 40)


def test_clip_files_feed_retention(store: Store, outbox: Outbox, tmp_path: Path) -> None:
    finished_clip(store, tmp_path, "synced", b"x" * 100)
    finished_clip(store, tmp_path, "unsynced", b"y" * 100)
    finished_clip(store, tmp_path, "deleted", b"z" * 100).unlink()
    open_path = tmp_path / "open.mp4"
    store.clip_opened("open", "transaction", open_path, 5.0)
    open_path.write_bytes(b"o" * 7)
    outbox.ack_clip("synced", NOW)
    infos = {info.clip_id: info for info, _ in outbox.clip_files()}
    assert set(infos) == {"synced", "unsynced", "open"}
    assert infos["synced"].acked_utc == NOW and infos["unsynced"].acked_utc is None
    assert infos["open"].is_open and infos["open"].size == 7
    plan = plan_retention(infos.values(), NOW, retention_days=30, total=10_000, free=1000)
    assert plan.delete == ["synced"]


@pytest.mark.parametrize(("make", "words"), [
    ("absent", "does not exist"), ("empty", "lacks"), ("garbage", "cannot be opened")])
def test_unusable_database_is_a_clear_error(tmp_path: Path, make: str, words: str) -> None:
    path = tmp_path / "unit #1?.db"  # URI metacharacters in the name must not matter
    if make == "empty":
        sqlite3.connect(path).close()
    elif make == "garbage":
        path.write_bytes(b"not a database" * 100)
    with pytest.raises(OutboxError, match=words):
        Outbox(path)
    assert path.exists() == (make != "absent")  # never creates a database


def test_busy_daemon_gives_a_domain_error(store: Store) -> None:
    ob = Outbox(store.path, busy_timeout_s=0.05)
    uuid = login(store, 1)
    store.conn.execute("BEGIN IMMEDIATE")  # the daemon holds its write lock
    try:
        assert [e.uuid for e in ob.next_event_batch(5, 1 << 20)] == [uuid]  # reads go on
        with pytest.raises(OutboxError, match="locked"):
            ob.ack_events([uuid], NOW)
    finally:
        store.conn.execute("ROLLBACK")
    assert ob.ack_events([uuid], NOW) == 1
    ob.close()


def test_bad_batch_limits_are_refused(outbox: Outbox) -> None:
    with pytest.raises(OutboxError, match="max_events"):
        outbox.next_event_batch(0, 100)


def test_concurrent_daemon_writes_never_hit_a_lock(store: Store, outbox: Outbox) -> None:
    """The daemon keeps recording while sync reads and acks from another thread."""
    n = 150
    errors: list[BaseException] = []
    done, acked = threading.Event(), threading.Event()

    def daemon() -> None:
        try:
            for t in range(n):
                alert(store, t) if t % 10 == 0 else login(store, t)
                if t == n // 2:
                    # Make sure sync is acking while the rest is written.
                    assert acked.wait(timeout=10), "sync never acked"
        except BaseException as e:
            errors.append(e)
        finally:
            done.set()

    def sync() -> None:
        try:
            deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
            while dt.datetime.now(dt.UTC) < deadline:
                finished = done.is_set()
                batch = outbox.next_event_batch(7, 1 << 20)
                outbox.note_attempt(e.uuid for e in batch)
                if outbox.ack_events([e.uuid for e in batch], NOW):
                    acked.set()
                outbox.backlog()
                if finished and not batch:
                    return
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=daemon), threading.Thread(target=sync)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not any(th.is_alive() for th in threads)
    assert errors == []
    rows = store.rows("outbox")
    assert len(rows) == n and all(r["acked_utc"] for r in rows)
    assert all(r["attempts"] == 1 for r in rows)  # each sent exactly once
