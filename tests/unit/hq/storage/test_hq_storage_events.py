"""SqliteEventStore: exactly-once ingest, refusal of foreign events, transaction search."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hq.storage import (
    AmbiguousId,
    AuditLog,
    ClipStore,
    EventStore,
    ForeignUnit,
    InvalidInput,
    LocalClipStore,
    SqliteAuditLog,
    TransactionQuery,
    UuidTaken,
)
from hq.storage.events import SqliteEventStore
from hq.storage.scope import Scope
from sync.schema import EventEnvelope
from tests.servers.postgres_fixtures import Backend

ALL = Scope.everything()  # these tests are about storage, not scope

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def ev(type_: str, unit: str = "unit-a", minute: float = 0.0, counter: str = "c1",
       **data: Any) -> EventEnvelope:
    return EventEnvelope(uuid=str(uuid.uuid4()), type=type_, unit_id=unit, counter_id=counter,
                         utc=T0 + dt.timedelta(minutes=minute), mono=minute * 60,
                         boot_id="boot-1", clock_synced=True, data=data)


def txn(txn_id: str, unit: str = "unit-a", minute: float = 0.0, staff: str = "s1",
        counter: str = "c1", rating: int | None = 5, suspect: bool = False,
        outcome: str = "rated") -> list[EventEnvelope]:
    return [
        ev("transaction_started", unit, minute, counter, txn_id=txn_id, staff_id=staff,
           session_id="sess", clip_id=txn_id),
        ev("transaction_ended", unit, minute + 3, counter, txn_id=txn_id, staff_id=staff,
           session_id="sess", duration_s=180.0, reason="customer_left", short=False),
        ev("rating", unit, minute + 3.1, counter, txn_id=txn_id, staff_id=staff,
           outcome=outcome, rating=rating, key=rating, suspect=suspect,
           trigger="transaction_end", invalid_keys=0, latency_s=2.0),
    ]


@pytest.fixture
def store(tmp_path: Path, backend: Backend) -> Iterator[SqliteEventStore]:
    s = SqliteEventStore(backend.use(tmp_path) / "events.sqlite")
    yield s
    s.close()


def test_same_batch_twice_is_counted_as_duplicates_and_stored_once(
        store: SqliteEventStore) -> None:
    batch = txn("p-t1")
    first = store.ingest("unit-a", batch)
    assert (first.accepted, first.duplicates) == (3, 0)
    again = store.ingest("unit-a", batch)
    assert (again.accepted, again.duplicates) == (0, 3)
    assert store.count_events() == 3
    assert len(store.search_transactions(TransactionQuery(), ALL)) == 1
    # A uuid repeated inside one batch is also a duplicate, not a second row.
    extra = ev("login", staff_id="s1")
    result = store.ingest("unit-a", [extra, extra])
    assert (result.accepted, result.duplicates) == (1, 1)
    assert store.event(extra.uuid) == extra


def test_event_of_another_unit_refuses_the_whole_batch(store: SqliteEventStore) -> None:
    good = ev("login", "unit-a", staff_id="s1")
    with pytest.raises(ForeignUnit):
        store.ingest("unit-a", [good, ev("login", "unit-b", staff_id="s2")])
    assert store.count_events() == 0


def test_uuid_stored_for_another_unit_refuses_the_batch(store: SqliteEventStore) -> None:
    theirs = ev("login", "unit-b", staff_id="s2")
    store.ingest("unit-b", [theirs])
    mine = ev("login", "unit-a", staff_id="s1")
    copy = theirs.model_copy(update={"unit_id": "unit-a"})
    with pytest.raises(UuidTaken):
        store.ingest("unit-a", [mine, copy])
    assert store.count_events("unit-a") == 0
    assert store.event(theirs.uuid) == theirs


def test_malformed_authenticated_unit_id_is_refused(store: SqliteEventStore) -> None:
    with pytest.raises(InvalidInput):
        store.ingest("../x", [])


def test_projection_does_not_depend_on_arrival_order(store: SqliteEventStore) -> None:
    started, ended, rating = txn("p-t7", rating=2)
    timeout = ev("rating", minute=2.9, txn_id="p-t7", staff_id="s1", outcome="timeout",
                 rating=None, suspect=False)
    store.ingest("unit-a", [rating])
    store.ingest("unit-a", [ended, timeout])
    store.ingest("unit-a", [started])
    t = store.transaction("p-t7", None, ALL)
    assert t is not None
    assert (t.started_utc, t.ended_utc, t.duration_s) == (
        T0, T0 + dt.timedelta(minutes=3), 180.0)
    # "rated" wins over an earlier timeout of the same transaction.
    assert (t.rating, t.rating_outcome, t.rating_suspect) == (2, "rated", False)
    assert (t.staff_id, t.counter_id, t.clip_id, t.end_reason) == (
        "s1", "c1", "p-t7", "customer_left")


def test_clip_events_show_on_the_transaction(store: SqliteEventStore) -> None:
    store.ingest("unit-a", [*txn("p-t2"), ev("clip_closed", clip_id="p-t2", state="closed",
                                             sha256="ab" * 32, size=1234, duration_s=181.0)])
    t = store.transaction("p-t2", None, ALL)
    assert t is not None
    assert (t.clip_state, t.clip_sha256, t.clip_size) == ("closed", "ab" * 32, 1234)


def test_wrong_types_in_data_become_null_not_a_refused_batch(store: SqliteEventStore) -> None:
    bad = [ev("transaction_started", txn_id="p-t3", staff_id=7),
           ev("rating", minute=1, txn_id="p-t3", outcome="rated", rating="five", suspect=1),
           ev("transaction_ended", minute=2)]  # no txn_id at all
    assert store.ingest("unit-a", bad).accepted == 3
    t = store.transaction("p-t3", None, ALL)
    assert t is not None
    assert (t.staff_id, t.rating, t.rating_outcome, t.rating_suspect) == (
        None, None, "rated", None)


def test_same_txn_id_on_two_units_needs_the_unit(store: SqliteEventStore) -> None:
    store.ingest("unit-a", txn("dup-t1", "unit-a", staff="s1"))
    store.ingest("unit-b", txn("dup-t1", "unit-b", staff="s2"))
    with pytest.raises(AmbiguousId):
        store.transaction("dup-t1", None, ALL)
    t = store.transaction("dup-t1", "unit-b", ALL)
    assert t is not None and t.staff_id == "s2"
    assert store.transaction("nope", None, ALL) is None


def _seeded(store: SqliteEventStore) -> None:
    store.register_unit("unit-a", "branch-1")
    store.register_unit("unit-b", "branch-1")
    store.register_unit("unit-c", "branch-2")
    store.ingest("unit-a", [*txn("a1", "unit-a", 0, "s1", "c1", 5),
                            *txn("a2", "unit-a", 10, "s1", "c1", 1, suspect=True),
                            *txn("a3", "unit-a", 20, "s2", "c1", None, outcome="timeout")])
    store.ingest("unit-b", [*txn("b1", "unit-b", 5, "s3", "c2", 3)])
    store.ingest("unit-c", [*txn("c1", "unit-c", 60 * 24, "s4", "c1", 4)])


@pytest.mark.parametrize(("query", "expected"), [
    (TransactionQuery(), ["c1", "a3", "a2", "b1", "a1"]),
    (TransactionQuery(branch_id="branch-1"), ["a3", "a2", "b1", "a1"]),
    (TransactionQuery(branch_id="branch-2"), ["c1"]),
    (TransactionQuery(counter_id="c2"), ["b1"]),
    (TransactionQuery(unit_id="unit-a"), ["a3", "a2", "a1"]),
    (TransactionQuery(staff_id="s1"), ["a2", "a1"]),
    (TransactionQuery(utc_from=T0 + dt.timedelta(minutes=5),
                      utc_to=T0 + dt.timedelta(minutes=20)), ["a2", "b1"]),
    (TransactionQuery(utc_from=T0 + dt.timedelta(days=1)), ["c1"]),
    (TransactionQuery(rating=1), ["a2"]),
    (TransactionQuery(rating_min=3), ["c1", "b1", "a1"]),
    (TransactionQuery(rating_min=2, rating_max=4), ["c1", "b1"]),
    (TransactionQuery(suspect=True), ["a2"]),
    (TransactionQuery(suspect=False, unit_id="unit-a"), ["a3", "a1"]),
    (TransactionQuery(branch_id="branch-1", staff_id="s1", rating_max=2), ["a2"]),
    (TransactionQuery(limit=2), ["c1", "a3"]),
    (TransactionQuery(limit=2, offset=2), ["a2", "b1"]),
    (TransactionQuery(staff_id="' OR 1=1 --"), []),
])
def test_search_filters(store: SqliteEventStore, query: TransactionQuery,
                        expected: list[str]) -> None:
    _seeded(store)
    assert [t.txn_id for t in store.search_transactions(query, ALL)] == expected


def test_search_result_carries_branch(store: SqliteEventStore) -> None:
    _seeded(store)
    (t,) = store.search_transactions(TransactionQuery(counter_id="c2"), ALL)
    assert (t.unit_id, t.branch_id) == ("unit-b", "branch-1")


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (1001, 0), (10, -1)])
def test_bad_paging_is_refused(limit: int, offset: int) -> None:
    with pytest.raises(InvalidInput):
        TransactionQuery(limit=limit, offset=offset)


def test_store_uses_wal_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    s = SqliteEventStore(path)
    s.ingest("unit-a", txn("w1"))
    s.close()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    s2 = SqliteEventStore(path)
    assert s2.ingest("unit-a", txn("w1")).accepted == 3  # new uuids, same txn: upserts
    assert s2.count_events() == 6
    assert len(s2.search_transactions(TransactionQuery(), ALL)) == 1
    s2.close()


def test_defaults_implement_the_protocols(tmp_path: Path) -> None:
    # The annotations are the check: mypy fails if a default drifts from its Protocol.
    events: EventStore = SqliteEventStore(tmp_path / "e.sqlite")
    clips: ClipStore = LocalClipStore(tmp_path / "clips")
    audit: AuditLog = SqliteAuditLog(tmp_path / "a.sqlite")
    for store in (events, clips, audit):
        assert callable(store.close)
        store.close()
