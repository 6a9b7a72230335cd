"""HQ projections fed by the real state machine's events, and concurrent uploads."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import uuid
from pathlib import Path

from firmware.machine.model import (
    BadgeTapped,
    CounterState,
    Emit,
    Input,
    KeyPressed,
    PresenceChanged,
    Rules,
    Staff,
)
from firmware.machine.step import step
from hq.storage import LocalClipStore, OffsetConflict, TransactionQuery
from hq.storage.events import SqliteEventStore
from hq.storage.scope import Scope
from sync.schema import EventEnvelope

ALL = Scope.everything()  # these tests are about storage, not scope

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def machine_events(unit: str) -> list[EventEnvelope]:
    """Run a login, one served customer and a key press through ``step``."""
    staff = Staff("s-7", "Li Wei", "0007")
    inputs: list[tuple[float, Input]] = [
        (0.0, BadgeTapped("h", staff)),
        (10.0, PresenceChanged("customer", True, 10.0, None)),
        (130.0, PresenceChanged("customer", False, 130.0, True)),
        (133.0, KeyPressed(2, 1)),
    ]
    state, rules, out = CounterState(id_prefix="abcd1234"), Rules(), []
    for now, event in inputs:
        state, actions = step(state, event, now, rules)
        out += [a for a in actions if isinstance(a, Emit)]
    return [EventEnvelope(uuid=str(uuid.uuid4()), type=e.type, unit_id=unit, counter_id="c9",
                          utc=T0 + dt.timedelta(seconds=e.t), mono=e.t, boot_id="b",
                          clock_synced=True, data=e.data) for e in out]


def test_the_state_machines_events_make_a_searchable_transaction(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "e.sqlite")
    events = machine_events("unit-a")
    assert store.ingest("unit-a", events).accepted == len(events)
    (t,) = store.search_transactions(TransactionQuery(staff_id="s-7", rating_max=2), ALL)
    assert (t.txn_id, t.clip_id, t.counter_id) == ("abcd1234-t2", "abcd1234-t2", "c9")
    assert (t.started_utc, t.duration_s, t.end_reason) == (
        T0 + dt.timedelta(seconds=10), 120.0, "customer_left")
    assert (t.rating, t.rating_outcome, t.rating_suspect) == (2, "rated", False)
    store.close()


def test_concurrent_appends_to_one_upload_never_interleave(tmp_path: Path) -> None:
    data = bytes(range(256)) * 400
    store = LocalClipStore(tmp_path / "hq")
    up = store.create("unit-a", "race", len(data), hashlib.sha256(data).hexdigest())
    outcomes: list[str] = []
    go = threading.Barrier(4)

    def writer() -> None:
        go.wait()
        try:
            store.append(up.upload_id, "unit-a", 0, data[:50_000])
            outcomes.append("ok")
        except OffsetConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=10)
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "ok"]
    assert store.append(up.upload_id, "unit-a", 50_000, data[50_000:]) == len(data)
    clip = store.open_clip("race")
    assert clip.path is not None and clip.path.read_bytes() == data
    store.close()
