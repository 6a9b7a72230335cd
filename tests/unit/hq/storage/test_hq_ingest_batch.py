"""Ingest's batch path: one dedupe query, one savepoint, the unit-seen row once per batch,
and the event-by-event fallback when one event cannot be stored (both back-ends)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hq.storage import TransactionQuery, UuidTaken
from hq.storage.events import SqliteEventStore, _runs
from hq.storage.scope import Scope
from sync.schema import EventEnvelope
from tests.servers.postgres_fixtures import Backend

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def ev(type_: str, minute: float, unit: str = "unit-a", **data: Any) -> EventEnvelope:
    return EventEnvelope(uuid=str(uuid.uuid4()), type=type_, unit_id=unit, counter_id="c1",
                         utc=T0 + dt.timedelta(minutes=minute), mono=minute * 60,
                         boot_id="boot-1", clock_synced=True, data=data)


def unstorable(minute: float) -> EventEnvelope:
    # Built without validation, as the store's contract allows: NULL into NOT NULL.
    good = ev("transaction_started", minute, txn_id="t-bad")
    return EventEnvelope.model_construct(**{**good.__dict__, "counter_id": None})


@pytest.fixture
def store(tmp_path: Path, backend: Backend) -> Iterator[SqliteEventStore]:
    s = SqliteEventStore(backend.use(tmp_path) / "events.sqlite")
    yield s
    s.close()


def seen(store: SqliteEventStore, unit: str) -> tuple[str, str] | None:
    row = store._conn.execute("SELECT last_event_utc, last_received_utc FROM org_unit_seen "
                              "WHERE unit_id = ?", [unit]).fetchone()
    return None if row is None else (row[0], row[1])


def test_one_unstorable_event_is_rejected_alone_and_the_rest_projected(
        store: SqliteEventStore) -> None:
    a = ev("transaction_started", 1, txn_id="t1", staff_id="s1")
    bad = unstorable(2)
    b = ev("transaction_ended", 3, txn_id="t1", duration_s=120.0, reason="rating")
    result = store.ingest("unit-a", [a, bad, b, a])
    assert (result.accepted, result.duplicates) == (2, 1)
    assert [r.uuid for r in result.rejected] == [bad.uuid]
    assert "not storable" in result.rejected[0].reason
    assert store.event(a.uuid) is not None and store.event(b.uuid) is not None
    assert store.event(bad.uuid) is None
    assert store.count_events() == 2
    [t] = store.search_transactions(TransactionQuery(), Scope.everything())
    assert (t.txn_id, t.duration_s, t.end_reason) == ("t1", 120.0, "rating")
    assert store.search_transactions(TransactionQuery(unit_id="unit-a"),
                                     Scope.everything())[0].txn_id == "t1"
    # Seen once, at the latest stored event (the rejected one at minute 2 is not counted).
    assert seen(store, "unit-a")[0] == "2026-03-02T09:03:00.000000Z"  # type: ignore[index]
    again = store.ingest("unit-a", [bad])  # the same answer again: nothing half-stored
    assert (again.accepted, again.duplicates, len(again.rejected)) == (0, 0, 1)


def test_unit_seen_keeps_the_latest_event_time_whatever_the_order(
        store: SqliteEventStore) -> None:
    store.ingest("unit-a", [ev("login", 10, session_id="x")])
    first = seen(store, "unit-a")
    store.ingest("unit-a", [ev("logout", 4, session_id="x"), ev("login", 7, session_id="y")])
    later = seen(store, "unit-a")
    assert first is not None and later is not None
    assert later[0] == first[0] == "2026-03-02T09:10:00.000000Z"
    assert later[1] >= first[1]
    dup = store.ingest("unit-a", [ev("login", 12, session_id="z")] * 3)
    assert (dup.accepted, dup.duplicates) == (1, 2)
    assert seen(store, "unit-a")[0] == "2026-03-02T09:12:00.000000Z"  # type: ignore[index]


def test_a_batch_of_only_duplicates_changes_nothing(store: SqliteEventStore) -> None:
    batch = [ev("login", 1, session_id="x"), ev("logout", 2, session_id="x")]
    store.ingest("unit-a", batch)
    before = seen(store, "unit-a")
    again = store.ingest("unit-a", batch)
    assert (again.accepted, again.duplicates) == (0, 2)
    assert seen(store, "unit-a") == before


def test_a_uuid_of_another_unit_refuses_the_whole_batch(store: SqliteEventStore) -> None:
    theirs = ev("login", 1, unit="unit-b", session_id="x")
    store.ingest("unit-b", [theirs])
    mine = ev("login", 2, session_id="y")
    stolen = EventEnvelope.model_construct(**{**theirs.__dict__, "unit_id": "unit-a"})
    with pytest.raises(UuidTaken):
        store.ingest("unit-a", [mine, stolen])
    assert store.event(mine.uuid) is None and seen(store, "unit-a") is None


def test_batches_larger_than_one_lookup_are_deduplicated(store: SqliteEventStore) -> None:
    batch = [ev("rating_prompted", i / 100, txn_id=f"t{i}") for i in range(1201)]
    assert store.ingest("unit-a", batch[:700]).accepted == 700
    result = store.ingest("unit-a", batch)
    assert (result.accepted, result.duplicates) == (501, 700)
    assert store.count_events() == 1201


def test_runs_start_a_new_insert_at_each_absence_started_and_every_80_events() -> None:
    kinds = ["alert_raised", "login", "absence_started", "rating", "absence_started",
             "absence_started", "logout"]
    runs = _runs([ev(k, i) for i, k in enumerate(kinds)])
    assert [[e.type for e in run] for run in runs] == [
        ["alert_raised", "login"], ["absence_started", "rating"], ["absence_started"],
        ["absence_started", "logout"]]
    assert [len(r) for r in _runs([ev("login", i / 10) for i in range(170)])] == [80, 80, 10]
    assert _runs([]) == []
