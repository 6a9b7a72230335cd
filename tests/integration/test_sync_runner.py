"""Store-and-forward through faults: HQ down, a connection cut mid-upload, HQ back.

A real unit database (firmware Store), the sync runner, a real HQ over mutual
TLS, and the fault proxy between them. Time is driven: each pass is given its
"now", so backoff is exercised without waiting for it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.clock import UnitClock
from firmware.config import SyncConfig, UploadWindow
from firmware.store import EventContext, Store
from firmware.sync_runner import SyncRunner, in_windows
from hq.api.deps import HQLimits
from sync.hq_client import HQClient
from sync.outbox import Outbox
from tests.faultproxy import Direction, FaultProxy
from tests.hq_server import HQServer, running_hq

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


def unit_day(tmp_path: Path) -> tuple[Store, list[str], Path, str]:
    """A unit database with 30 events (2 alerts) and one closed 8-chunk clip."""
    clock = UnitClock.media(lambda: 0.0, dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC))
    store = Store(tmp_path / "counterunit.db", EventContext(UNIT, "counter-1", "boot", clock))
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
    with FaultProxy(("127.0.0.1", hq.port)) as proxy:
        client = HQClient.from_identity(f"https://localhost:{proxy.port}",
                                        hq.enrolled_unit(UNIT))
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
    # Acknowledged bytes were not sent again: only the chunk in flight was.
    assert clip.stat().st_size < client.clip_bytes_sent <= clip.stat().st_size + CHUNK
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


def test_hq_errors_slowness_and_a_restart_lose_nothing(tmp_path_factory: pytest.TempPathFactory,
                                                       tmp_path: Path) -> None:
    store, _, clip, sha = unit_day(tmp_path)
    hq_root = tmp_path_factory.mktemp("hq-restart")
    limits = HQLimits(max_chunk_bytes=CHUNK)
    cfg = SyncConfig.model_validate({"hq_url": "https://localhost", "batch_events": 8,
                                     "chunk_bytes": CHUNK})
    outbox = Outbox(store.path)
    # The proxy stands for the network: it outlives HQ's two lives.
    with FaultProxy(("127.0.0.1", 9)) as proxy:
        with running_hq(hq_root, limits) as hq:
            proxy.set_upstream(("127.0.0.1", hq.port))
            client = HQClient.from_identity(f"https://localhost:{proxy.port}",
                                            hq.enrolled_unit("unit-sync"))
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
    assert client.clip_bytes_sent == clip.stat().st_size  # no clip byte sent twice
    store.close()
