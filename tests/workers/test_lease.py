"""The housekeeping lease: the rule as a table, then two workers' housekeepers on one
database (SQLite and PostgreSQL), time driven explicitly."""

from __future__ import annotations

import datetime as dt
import functools
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from hq.server.housekeeping import Housekeeper
from hq.server.lease import HOUSEKEEPING, LeaseRow, LeaseStore, decide, holder_gone
from hq.storage.sqlite import connect
from tests.servers.postgres_fixtures import Backend

T0 = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
S = dt.timedelta(seconds=1)


@pytest.mark.parametrize(("holder", "expires", "me", "now", "may"), [
    ("", None, "a", T0, True),                  # never taken
    ("a", T0 + 10 * S, "a", T0, True),          # mine: renew
    ("b", T0 + 10 * S, "a", T0, False),         # another's, live
    ("b", T0 + 10 * S, "a", T0 + 10 * S, True),  # another's, lapsed at that instant
    ("b", T0 + 10 * S, "a", T0 + 9 * S, False),
    ("b", None, "a", T0, True),                 # released
])
def test_decide(holder: str, expires: dt.datetime | None, me: str, now: dt.datetime,
                may: bool) -> None:
    assert decide(LeaseRow(holder, expires), me, now) is may


@pytest.fixture
def db(backend: Backend, tmp_path: Path) -> Iterator[Path]:
    yield backend.use(tmp_path / "hq") / "events.db"


class Job:
    """A job that only records being started and stopped."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    def start(self) -> None:
        self.log.append(f"start {self.name}")

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")


def test_store_takes_renews_lapses_and_releases(db: Path) -> None:
    a, b = LeaseStore(connect(db)), LeaseStore(connect(db))
    ttl = 30 * S
    try:
        assert a.acquire(HOUSEKEEPING, "a", ttl, T0)
        assert not b.acquire(HOUSEKEEPING, "b", ttl, T0 + S)
        assert a.acquire(HOUSEKEEPING, "a", ttl, T0 + 20 * S)  # renewed to T0+50
        assert not b.acquire(HOUSEKEEPING, "b", ttl, T0 + 49 * S)
        assert b.acquire(HOUSEKEEPING, "b", ttl, T0 + 50 * S)  # a stopped renewing
        assert not a.acquire(HOUSEKEEPING, "a", ttl, T0 + 51 * S)
        assert b.get(HOUSEKEEPING) == LeaseRow("b", T0 + 80 * S)
        assert not a.release(HOUSEKEEPING, "a")  # not a's to give
        assert b.release(HOUSEKEEPING, "b")
        assert a.acquire(HOUSEKEEPING, "a", ttl, T0 + 52 * S)  # no waiting for the lapse
    finally:
        a.close()
        b.close()


def test_only_the_holder_runs_the_jobs_and_a_dead_holders_move(db: Path) -> None:
    log: list[str] = []
    keepers = [Housekeeper(LeaseStore(connect(db)), [functools.partial(Job, log, n)],
                           ttl=30 * S, me=n) for n in ("w1", "w2")]
    w1, w2 = keepers
    try:
        assert w1.tick(T0) and not w2.tick(T0 + S)
        assert w1.tick(T0 + 10 * S) and not w2.tick(T0 + 11 * S)
        assert log == ["start w1"]  # renewing does not start the jobs again
        # w1 stops renewing (hung or killed); w2 takes over once the lease lapses.
        assert not w2.tick(T0 + 39 * S)
        assert w2.tick(T0 + 40 * S)
        assert log == ["start w1", "start w2"]
        assert not w1.tick(T0 + 41 * S)  # w1 wakes up: its jobs stop
        assert log == ["start w1", "start w2", "stop w1"]
        assert (w1.holding, w2.holding) == (False, True)
        w2.stop()  # a clean stop hands the lease over at once
        assert log[-1] == "stop w2"
        assert w1.tick(T0 + 42 * S)
        assert log[-1] == "start w1"
        # A holder whose renewal fails (here: the table is gone) stops its jobs at once.
        other = connect(db)
        other.execute("DROP TABLE hq_leases")
        other.close()
        assert not w1.tick(T0 + 43 * S)
        assert log[-1] == "stop w1" and not w1.holding
    finally:
        for k in keepers:
            k.stop()
            k.leases.close()


@pytest.mark.parametrize(("holder", "host", "alive", "gone"), [
    ("vm:4242", "vm", False, True),       # this machine, process gone
    ("vm:4242", "vm", True, False),       # this machine, still running
    ("other:4242", "vm", False, False),   # another machine: only its lapse tells
    ("", "vm", False, False),             # nobody
    ("vm:not-a-pid", "vm", False, False),
])
def test_holder_gone(holder: str, host: str, alive: bool, gone: bool) -> None:
    assert holder_gone(holder, host, lambda pid: alive) is gone


def test_a_restarted_hq_takes_over_from_its_killed_self_at_once(db: Path) -> None:
    log: list[str] = []
    running = {1}
    host = socket.gethostname()

    def keeper(pid: int) -> Housekeeper:
        return Housekeeper(LeaseStore(connect(db)), [functools.partial(Job, log, str(pid))],
                           ttl=30 * S, me=f"{host}:{pid}", alive=running.__contains__)

    first, second = keeper(1), keeper(2)
    try:
        assert first.tick(T0)
        assert not second.tick(T0 + S)  # the first still runs
        running.discard(1)  # kill -9
        assert second.tick(T0 + 2 * S)  # long before the lease lapses at T0 + 30 s
        assert log == ["start 1", "start 2"]
    finally:
        for k in (first, second):
            k.stop()
            k.leases.close()


def test_a_worker_shutting_down_hands_the_jobs_over_and_takes_nothing(db: Path) -> None:
    log: list[str] = []
    leaving = [False]
    w1 = Housekeeper(LeaseStore(connect(db)), [functools.partial(Job, log, "w1")],
                     ttl=30 * S, me="w1", stopping=lambda: leaving[0])
    w2 = Housekeeper(LeaseStore(connect(db)), [functools.partial(Job, log, "w2")],
                     ttl=30 * S, me="w2")
    try:
        assert w1.tick(T0) and not w2.tick(T0 + S)
        leaving[0] = True  # SIGTERM: the server is draining its requests
        assert not w1.tick(T0 + 2 * S)
        assert w2.tick(T0 + 3 * S)  # no waiting for the lease to lapse
        assert log == ["start w1", "stop w1", "start w2"]
    finally:
        for k in (w1, w2):
            k.stop()
            k.leases.close()
