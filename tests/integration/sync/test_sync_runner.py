"""Store-and-forward through faults: HQ down, a connection cut mid-upload, HQ back.

A real unit database (firmware Store), the sync runner, a real HQ over mutual
TLS, and the fault proxy between them. Time is driven: each pass is given its
"now", so backoff is exercised without waiting for it. The proxy terminates TLS
(as HQ, then as the unit) and the tests read what the unit sent off its wire log:
acknowledged events never go again, HQ reports no duplicate unless an answer was
lost on purpose, and clip bytes go twice only within the one chunk that was cut.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import zoneinfo
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from firmware.config.unit import SyncConfig, UploadWindow
from firmware.store import EventContext, Store
from firmware.syncd.runner import SyncRunner, in_windows
from firmware.system.clock import UnitClock
from hq.api.deps import HQLimits
from sync.hq_client import HQClient
from sync.outbox import Outbox
from tests.faultproxy import Direction, FaultProxy
from tests.helpers.hq.server import HQServer, running_hq
from tests.helpers.unit.sync_wire import audit_clips, audit_events, tls_tap

CHUNK = 64 * 1024
UNIT = "unit-sync"


EVENING = UploadWindow.model_validate({"start": "20:00", "end": "23:00"})


@pytest.mark.parametrize("windows,now,expected", [
    ((), dt.time(3, 0), True),
    ((EVENING,), dt.time(21, 30), True),
    ((EVENING,), dt.time(12, 0), False),
    ((EVENING,), dt.time(23, 0), False),
])
def test_upload_windows(windows: tuple[UploadWindow, ...], now: dt.time, expected: bool) -> None:
    assert in_windows(windows, now) is expected


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQServer]:
    with running_hq(tmp_path_factory.mktemp("hq"), HQLimits(max_chunk_bytes=CHUNK)) as server:
        yield server


def unit_day(tmp_path: Path, unit: str = UNIT) -> tuple[Store, list[str], Path, str]:
    """A unit database with 30 events (2 alerts) and one closed 8-chunk clip."""
    clock = UnitClock.media(lambda: 0.0, dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC))
    store = Store(tmp_path / "counterunit.db", EventContext(unit, "counter-1", "boot", clock))
    uuids = [store.record("key_ignored", float(i), {"key": 3}).uuid for i in range(28)]
    uuids += [store.record("alert_raised", 30.0 + i, {"alert": "off_seat", "level": i + 1}).uuid
              for i in range(2)]
    clip = tmp_path / "clips" / "t1.mp4"
    clip.parent.mkdir()
    clip.write_bytes(random.Random(1).randbytes(8 * CHUNK))
    sha = hashlib.sha256(clip.read_bytes()).hexdigest()
    store.clip_opened("t1", "transaction", clip, 5.0)
    store.clip_finished("t1", state="closed", path=clip, t=40.0, duration_s=30.0,
                        size=clip.stat().st_size, sha256=sha)
    return store, uuids, clip, sha


def test_everything_arrives_once_through_an_outage_and_a_cut(hq: HQServer,
                                                              tmp_path: Path) -> None:
    store, uuids, clip, sha = unit_day(tmp_path)
    unit = hq.enrolled_unit(UNIT)
    with FaultProxy(("127.0.0.1", hq.port), tls=tls_tap(hq, unit)) as proxy:
        client = HQClient.from_identity(f"https://localhost:{proxy.port}", unit)
        cfg = SyncConfig.model_validate({"hq_url": "https://localhost", "batch_events": 10,
                                         "chunk_bytes": CHUNK})
        outbox = Outbox(store.path)
        runner = SyncRunner(outbox, client, cfg, zoneinfo.ZoneInfo("UTC"),
                            rng=random.Random(3))
        now = 0.0

        proxy.set_down(True)  # HQ unreachable: nothing is lost, retries back off
        for _ in range(3):
            assert runner.step(now) is False
            assert runner.next_try > now
            now = runner.next_try
        assert outbox.backlog().events == 31  # 30 events + the clip_closed event
        proxy.set_down(False)

        # Alerts jump the queue.
        runner.step(now)
        first = hq.deps.events.count_events(UNIT)
        assert first == 10
        assert {hq.deps.events.event(u).type for u in uuids[-2:]} == {"alert_raised"}  # type: ignore[union-attr]

        # The connection drops part-way through the clip's 4th chunk.
        proxy.reset_after(3 * CHUNK + CHUNK // 2, Direction.UP, times=1)
        for _ in range(40):
            if not runner.step(now) and not outbox.backlog().clips and \
                    not outbox.backlog().events:
                break
            now = max(now, runner.next_try) + 0.1
        client.close()
        outbox.close()

    # HQ holds every event exactly once, and the clip byte-exact.
    assert hq.deps.events.count_events(UNIT) == 31
    assert runner.stats.events_accepted == 31
    stored = hq.deps.clips.open_clip("t1", UNIT)
    assert stored.sha256 == sha
    # On the wire: no acknowledged event went again, HQ saw no duplicate, and the only
    # clip bytes sent twice are those of the one chunk that was cut.
    assert not proxy.wire.errors
    events = audit_events(proxy.wire.exchanges())
    assert (events.unique, events.resent_after_ack, events.lost_acks) == (31, (), ())
    assert events.sent == 31 and events.duplicates == 0
    clips = audit_clips(proxy.wire.exchanges())
    assert (clips.uploads, clips.interrupted, clips.below_ack) == (1, 1, 0)
    assert clips.unique_bytes == clip.stat().st_size
    assert 0 < clips.resent <= CHUNK
    # The client counts what it handed to its socket, more than reached HQ before the cut.
    assert client.clip_bytes_sent >= clips.body_bytes
    backlog = Outbox(store.path).backlog()
    assert (backlog.events, backlog.clips) == (0, 0)
    store.close()


def drain(runner: SyncRunner, outbox: Outbox, now: float, passes: int = 60) -> float:
    """Run passes, jumping time past each backoff, until the outbox is empty."""
    for _ in range(passes):
        backlog = outbox.backlog()
        if not backlog.events and not backlog.clips:
            return now
        runner.step(now)
        now = max(now, runner.next_try) + 0.1
    raise AssertionError(f"outbox not drained: {outbox.backlog()}")


def test_a_lost_answer_costs_exactly_its_batch_in_duplicates(hq: HQServer,
                                                              tmp_path: Path) -> None:
    unit_id = "unit-lost-ack"
    store, _, _, _ = unit_day(tmp_path, unit_id)
    unit = hq.enrolled_unit(unit_id)
    cfg = SyncConfig.model_validate({"hq_url": "https://localhost", "batch_events": 10,
                                     "chunk_bytes": CHUNK})
    outbox = Outbox(store.path)
    with FaultProxy(("127.0.0.1", hq.port), tls=tls_tap(hq, unit)) as proxy:
        client = HQClient.from_identity(f"https://localhost:{proxy.port}", unit)
        runner = SyncRunner(outbox, client, cfg, zoneinfo.ZoneInfo("UTC"),
                            rng=random.Random(7))
        assert runner.step(0.0) is True
        # HQ stores the second batch, but its answer never reaches the unit.
        proxy.truncate_after(0, Direction.DOWN, times=1)
        assert runner.step(1.0) is False
        drain(runner, outbox, runner.next_try)
        client.close()
    outbox.close()
    store.close()
    assert not proxy.wire.errors
    events = audit_events(proxy.wire.exchanges())
    assert [len(batch) for batch in events.lost_acks] == [10]
    # The lost batch went again and HQ called exactly those events duplicates; nothing
    # acknowledged went again.
    assert (events.duplicates, events.unexplained_duplicates) == (10, 0)
    assert events.resent_after_ack == () and events.sent == 31 + 10
    assert runner.stats.events_duplicate == 10
    assert hq.deps.events.count_events(unit_id) == 31


def test_hq_errors_slowness_and_a_restart_lose_nothing(tmp_path_factory: pytest.TempPathFactory,
                                                       tmp_path: Path) -> None:
    store, _, clip, sha = unit_day(tmp_path)
    hq_root = tmp_path_factory.mktemp("hq-restart")
    limits = HQLimits(max_chunk_bytes=CHUNK)
    cfg = SyncConfig.model_validate({"hq_url": "https://localhost", "batch_events": 8,
                                     "chunk_bytes": CHUNK})
    outbox = Outbox(store.path)
    # The proxy stands for the network: it outlives HQ's two lives (which share HQ's
    # server certificate, so its TLS tap serves both).
    with ExitStack() as network, ExitStack() as first_life:
        hq = first_life.enter_context(running_hq(hq_root, limits))
        unit = hq.enrolled_unit("unit-sync")
        proxy = network.enter_context(FaultProxy(("127.0.0.1", hq.port),
                                                 tls=tls_tap(hq, unit)))
        client = HQClient.from_identity(f"https://localhost:{proxy.port}", unit)
        runner = SyncRunner(outbox, client, cfg, zoneinfo.ZoneInfo("UTC"),
                            rng=random.Random(5))
        hq.faults.fail_next = 3      # HQ answers 500 three times
        now = 0.0
        for _ in range(3):
            assert runner.step(now) is False
            now = runner.next_try
        assert hq.faults.failed == 3 and hq.deps.events.count_events("unit-sync") == 0
        hq.faults.delay_s = 0.3      # then slowly, but it answers
        runner.step(now)
        assert hq.deps.events.count_events("unit-sync") == 8
        first_life.close()
        # HQ's process is gone: its connections die and nothing answers.
        proxy.set_down(True)
        proxy.reset_all()
        now = runner.next_try + 1
        assert runner.step(now) is False
        # It comes back later on the same data, at another address.
        with running_hq(hq_root, limits) as hq2:
            proxy.set_upstream(("127.0.0.1", hq2.port))
            proxy.set_down(False)
            drain(runner, outbox, runner.next_try)
            assert hq2.deps.events.count_events("unit-sync") == 31  # every event exactly once
            assert hq2.deps.clips.open_clip("t1", "unit-sync").sha256 == sha
        client.close()
    outbox.close()
    store.close()
    # On the wire: the three batches HQ answered 500 went again (nothing was stored), no
    # acknowledged one did, no answer was lost, HQ counted no duplicate; no clip byte twice.
    assert not proxy.wire.errors
    events = audit_events(proxy.wire.exchanges())
    assert events.resent_after_ack == () and events.lost_acks == ()
    assert (events.unique, events.sent, events.duplicates) == (31, 31 + 3 * 8, 0)
    clips = audit_clips(proxy.wire.exchanges())
    assert (clips.interrupted, clips.resent, clips.below_ack) == (0, 0, 0)
    assert clips.body_bytes == clip.stat().st_size == client.clip_bytes_sent
