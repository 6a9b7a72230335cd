"""A poisoned event in the middle of 1,000 does not stop the other 999 (issue 13 item 2).

A real unit database (firmware Store), the real sync runner and HQ client, the embedded
HQ over mutual TLS. Poisons: a value the unit's own schema now refuses (an int past int64
written into a stored row), an event naming another unit (HQ refuses the whole batch,
403), an event whose uuid HQ holds for another unit (409), and — for the per-event answer
— envelopes built without validation (year 1, 2^63) sent straight through the client.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.config.unit import SyncConfig
from firmware.status.db import read_db
from firmware.store import EventContext, Store
from firmware.syncd.refusals import EVENT_REFUSED, StoreRefusalAlarm
from firmware.syncd.runner import SyncRunner
from firmware.system.clock import UnitClock
from sync.hq_client import HQClient
from sync.outbox import Outbox
from sync.schema import EventEnvelope
from tests.helpers.hq.server import HQServer, running_hq

UNIT = "unit-poison"
N = 1000


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQServer]:
    with running_hq(tmp_path_factory.mktemp("hq")) as server:
        yield server


def test_poisoned_events_are_set_aside_and_the_rest_arrive(hq: HQServer,
                                                           tmp_path: Path) -> None:
    clock = UnitClock.media(lambda: 0.0, dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC))
    store = Store(tmp_path / "counterunit.db", EventContext(UNIT, "counter-1", "boot", clock))
    uuids = [store.record("key_ignored", float(i), {"key": i % 5}).uuid for i in range(N)]
    # Another unit already sent an event with the uuid of ours at 600 (a clone, a bug).
    other = hq.enrolled_unit("unit-poison-other")
    HQClient.from_identity(hq.url, other).post_events([EventEnvelope(
        uuid=uuids[600], type="key_ignored", unit_id="unit-poison-other", counter_id="c",
        utc=dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC), mono=1.0, boot_id="b",
        clock_synced=False)])
    store.conn.execute("UPDATE events SET data = ? WHERE uuid = ?",
                       [json.dumps({"rating": 2**63}), uuids[400]])
    store.conn.execute("UPDATE events SET unit_id = 'unit-elsewhere' WHERE uuid = ?",
                       [uuids[500]])
    poisoned = {uuids[400], uuids[500], uuids[600]}

    client = HQClient.from_identity(hq.url, hq.enrolled_unit(UNIT))
    cfg = SyncConfig.model_validate({"hq_url": hq.url, "batch_events": 100})
    outbox = Outbox(store.path)
    alarm = StoreRefusalAlarm(store.path, UNIT, "counter-1", clock=clock, boot="boot")
    runner = SyncRunner(outbox, client, cfg, zoneinfo.ZoneInfo("UTC"), alarm=alarm,
                        rng=random.Random(1))
    now = 0.0
    for _ in range(40):
        if not runner.step(now) and not outbox.backlog().events:
            break
        now = max(now, runner.next_try) + 0.1
    runner.step(now)  # the pass that finds nothing left ends the episode

    at_hq = {u for u in uuids if (e := hq.deps.events.event(u)) and e.unit_id == UNIT}
    assert at_hq == set(uuids) - poisoned  # the other 997, each once
    assert runner.stats.failures == 0  # never backed off: refusals are not outages
    refused = {r.uuid: r for r in outbox.refusals()}
    assert refused.keys() == poisoned
    assert refused[uuids[400]].status == 0 and "int64" in refused[uuids[400]].reason
    assert "foreign_unit" in refused[uuids[500]].reason
    assert "uuid_taken" in refused[uuids[600]].reason
    # Kept locally, not re-sent: the rows are all still there, and another pass sends none.
    assert store.conn.execute("SELECT count(*) FROM events WHERE uuid IN (?, ?, ?)",
                              sorted(poisoned)).fetchone()[0] == 3
    assert runner.step(now + 1) is False

    # Raised once for the episode (three refusals), cleared once caught up; both at HQ.
    alerts = store.conn.execute(
        "SELECT type, data FROM events WHERE type LIKE 'alert_%' ORDER BY rowid").fetchall()
    assert [(t, json.loads(d)["alert"]) for t, d in alerts] == [
        ("alert_raised", EVENT_REFUSED), ("alert_cleared", EVENT_REFUSED)]
    raised = store.conn.execute("SELECT uuid FROM events WHERE type = 'alert_raised'"
                                ).fetchone()[0]
    runner.step(now + 2)
    assert hq.deps.events.event(raised) is not None

    # counterunit status counts them.
    facts = read_db(tmp_path, dt.datetime(2026, 11, 22, tzinfo=dt.UTC))
    assert facts.backlog is not None
    assert (facts.backlog.refused, facts.backlog.events) == (3, 0)
    client.close()
    alarm.close()
    outbox.close()
    store.close()


def test_hq_answers_per_event_and_the_client_reads_it(hq: HQServer) -> None:
    client = HQClient.from_identity(hq.url, hq.enrolled_unit("unit-poison-direct"))

    def envelope(**over: object) -> EventEnvelope:
        fields = {"uuid": f"{random.getrandbits(128):032x}", "type": "rating",
                  "unit_id": "unit-poison-direct", "counter_id": "c1",
                  "utc": dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC), "mono": 1.0,
                  "boot_id": "b", "clock_synced": True, "data": {"rating": 4}, **over}
        # An older unit's lax schema, as it would have sent: no validation here.
        return EventEnvelope.model_construct(**fields)  # type: ignore[arg-type]

    year_1 = dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    good, early, huge = envelope(), envelope(utc=year_1), envelope(data={"rating": 2**63})
    answer = client.send_events([good, early, huge])
    assert (answer.accepted, answer.duplicates) == (1, 0)
    assert {u: f for u, (f, _) in answer.rejected.items()} == {early.uuid: "utc",
                                                               huge.uuid: "data.rating"}
    client.close()


def test_sqlite_rows_hold_no_nan(tmp_path: Path) -> None:
    # Why NaN mono was a 500: SQLite stores NaN as NULL, and events.mono is NOT NULL.
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x REAL NOT NULL)")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO t VALUES (?)", [float("nan")])
