"""Store: events, outbox and projections commit together; migrations; recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.store import Store
from firmware.store.schema import MIGRATIONS


def test_event_carries_envelope_and_fills_outbox(store: Store) -> None:
    env = store.record("login", 12.5, {"staff_id": "s1", "session_id": "x-s1", "name": "Ann"})
    (row,) = store.rows("events")
    assert row["uuid"] == env.uuid and len(env.uuid) == 36
    assert (row["unit_id"], row["counter_id"], row["boot_id"]) == ("unit-1", "counter-1", "boot-a")
    assert row["mono"] == 12.5 and row["clock_synced"] == 0
    assert row["utc"].startswith("2026-11-22T09:00:12.500")
    (ob,) = store.rows("outbox")
    assert (ob["kind"], ob["ref"], ob["priority"]) == ("event", env.uuid, 1)
    assert store.rows("staff_sessions")[0]["staff_id"] == "s1"


def test_alerts_jump_the_queue(store: Store) -> None:
    store.record("absence_started", 1, {"absence_id": "a1"})
    store.record("alert_raised", 2, {"alert": "off_seat", "level": 1, "absence_id": "a1"})
    prio = {r["ref"]: r["priority"] for r in store.rows("outbox")}
    assert sorted(prio.values()) == [0, 1]


def test_transaction_projection_takes_first_rating(store: Store) -> None:
    store.record("transaction_started", 10, {"txn_id": "t1", "clip_id": "t1"})
    store.record("transaction_ended", 60, {"txn_id": "t1", "duration_s": 50.0,
                                           "reason": "customer_left"})
    store.record("rating", 66, {"txn_id": "t1", "outcome": "rated", "rating": 4})
    store.record("rating", 67, {"txn_id": "t1", "outcome": "rated", "rating": 1})
    (txn,) = store.rows("transactions")
    assert (txn["duration_s"], txn["rating"], txn["rating_outcome"]) == (50.0, 4, "rated")


def test_failed_projection_rolls_back_event_and_outbox(store: Store) -> None:
    with pytest.raises(KeyError):
        store.record("transaction_started", 1, {"no_txn_id": True})
    assert store.rows("events") == [] and store.rows("outbox") == []


def test_reopen_keeps_data_and_schema_version(tmp_path: Path, store: Store) -> None:
    store.record("login", 1, {"staff_id": "s1", "session_id": "x-s1"})
    store.close()
    again = Store(store.path, store.ctx)
    assert again.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert again.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert again.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert len(again.rows("events")) == 1
    again.close()


def test_clip_lifecycle_and_upload_entry(store: Store, tmp_path: Path) -> None:
    store.clip_opened("t1", "transaction", tmp_path / "t1.mp4", 7.0)
    assert [c["clip_id"] for c in store.open_clips()] == ["t1"]
    store.clip_finished("t1", state="closed", path=tmp_path / "t1.mp4", t=70.0,
                        duration_s=58.0, size=1234, sha256="ab" * 32)
    assert store.open_clips() == []
    kinds = sorted(r["kind"] for r in store.rows("outbox"))
    assert kinds == ["clip", "event"]


def test_cut_clip_has_no_upload_entry(store: Store) -> None:
    store.clip_opened("t1", "transaction", Path("/x/t1.mp4"), 7.0)
    store.clip_finished("t1", state="cut", path=None, t=9.0, duration_s=None, size=None,
                        sha256=None, note="no complete fragment")
    assert [r["kind"] for r in store.rows("outbox")] == ["event"]
    assert store.rows("clips")[0]["state"] == "cut"


def test_close_interrupted_ends_open_rows(store: Store) -> None:
    store.record("transaction_started", 10, {"txn_id": "t1"})
    store.record("absence_started", 11, {"absence_id": "a1"})
    ended = store.close_interrupted(0.0)
    assert [e.type for e in ended] == ["transaction_ended", "absence_ended"]
    assert store.rows("transactions")[0]["end_reason"] == "interrupted"
    assert store.close_interrupted(0.0) == []
