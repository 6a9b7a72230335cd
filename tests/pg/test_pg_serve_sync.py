"""``counterunit hq serve`` on PostgreSQL, a unit syncing to it, and PostgreSQL
restarting under that load (issue 17: the database half of items 1 and 4, and the fault).

A real HQ process (``python -m hq.cli serve``) whose hq.toml names the session's
PostgreSQL 15, a real unit database and the unit's real sync runner over mutual TLS.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
import threading
import time
import uuid
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from firmware.config.unit import SyncConfig
from firmware.store import EventContext, Store
from firmware.syncd.runner import SyncRunner
from firmware.system.clock import UnitClock
from hq.pki.ca import CertificateAuthority
from hq.storage.events import SqliteEventStore
from sync.hq_client import HQClient
from sync.identity import UnitIdentity
from sync.outbox import Outbox
from sync.schema import EventEnvelope
from tests.helpers.hq.alert_receivers import free_port
from tests.helpers.hq.procs import start_worker as _serve
from tests.helpers.hq.procs import wait_up as _wait_up
from tests.servers.postgres_fixtures import Backend

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
UNIT = "unit-pg"


class Served:
    def __init__(self, data: Path, port: int, proc: subprocess.Popen[bytes]) -> None:
        self.data, self.port, self.proc = data, port, proc
        self.url = f"https://localhost:{port}"

    def unit(self, unit_id: str) -> UnitIdentity:
        ca = CertificateAuthority.load(self.data / "ca")
        ident = UnitIdentity(self.data.parent / "units" / unit_id)
        ident.generate_key()
        ident.install(ca.sign_unit_csr(ident.csr(unit_id), unit_id), ca.cert_pem)
        return ident


@pytest.fixture
def pg_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    b = Backend("postgresql", request.getfixturevalue("pg_dsn"),
                request.getfixturevalue("postgres"))
    yield b
    b.close()


@pytest.fixture
def served(pg_backend: Backend, tmp_path: Path) -> Iterator[Served]:
    data, log = tmp_path / "hq", tmp_path / "hq.log"
    pg_backend.configure(data)
    port = free_port()
    proc = _serve(data, port, log)
    try:
        _wait_up(proc, data, port, log)
        yield Served(data, port, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # uvicorn waiting on an idle keep-alive
            proc.kill()
            proc.wait(10)


def _unit_store(tmp_path: Path, n: int) -> tuple[Store, list[str]]:
    clock = UnitClock.media(lambda: 0.0, dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC))
    store = Store(tmp_path / "counterunit.db", EventContext(UNIT, "counter-1", "boot", clock))
    uuids = []
    for i in range(n // 2):
        txn = f"t{i}"
        uuids.append(store.record("transaction_started", float(i),
                                  {"txn_id": txn, "staff_id": "s1", "session_id": "x"}).uuid)
        uuids.append(store.record("transaction_ended", i + 0.5,
                                  {"txn_id": txn, "duration_s": 0.5, "reason": "key"}).uuid)
    return store, uuids


def test_serve_refuses_a_database_hq_migrate_has_not_prepared(tmp_path: Path,
                                                             pg_dsn: str) -> None:
    data = tmp_path / "hq"
    data.mkdir()
    (data / "hq.toml").write_text(f'[database]\ntype = "postgresql"\ndsn = "{pg_dsn}"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "hq.cli", "serve", "--data", str(data),
                          "--port", str(free_port())], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2
    assert "has no HQ schema yet" in out.stderr and "counterunit hq migrate" in out.stderr


def _drive(runner: SyncRunner, outbox: Outbox, until: float) -> float:
    now = 0.0
    while time.monotonic() < until:
        if not runner.step(now) and not outbox.backlog().events:
            return now
        now = max(now, runner.next_try) + 0.1
    raise AssertionError("the unit did not catch up")


def test_a_unit_syncs_to_hq_serve_on_postgresql_and_survives_a_restart(
        served: Served, pg_backend: Backend, tmp_path: Path) -> None:
    store, uuids = _unit_store(tmp_path, 400)
    client = HQClient.from_identity(served.url, served.unit(UNIT))
    cfg = SyncConfig.model_validate({"hq_url": served.url, "batch_events": 20,
                                     "backoff_base_s": 0.1, "backoff_cap_s": 1.0})
    outbox = Outbox(store.path)
    runner = SyncRunner(outbox, client, cfg, zoneinfo.ZoneInfo("UTC"), rng=random.Random(1))
    assert pg_backend.server is not None
    # PostgreSQL restarts (every session cut) while the unit is sending.
    restarted = threading.Event()

    def restart_midway() -> None:
        deadline = time.monotonic() + 60
        while outbox.backlog().events > 300 and time.monotonic() < deadline:
            time.sleep(0.01)
        pg_backend.server.restart()  # type: ignore[union-attr]
        restarted.set()

    t = threading.Thread(target=restart_midway)
    t.start()
    _drive(runner, outbox, time.monotonic() + 120)
    t.join(60)
    assert restarted.is_set()
    # While the server is down, HQ answers 503 with Retry-After, never 500.
    ident = served.unit("unit-pg-2")
    lone = EventEnvelope(uuid=uuid.uuid4().hex, type="login", unit_id="unit-pg-2",
                         counter_id="c", utc=dt.datetime.now(dt.UTC), mono=1.0, boot_id="b",
                         clock_synced=True, data={"staff_id": "s1"})
    pg_backend.server.stop()
    try:
        answer = requests.post(f"https://127.0.0.1:{served.port}/v1/events",
                               json={"events": [lone.model_dump(mode="json")]}, timeout=30,
                               verify=str(ident.ca_path),
                               cert=(str(ident.cert_path), str(ident.key_path)))
    finally:
        pg_backend.server.start()
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "database_unavailable"
    assert 1 <= int(answer.headers["Retry-After"]) <= 60
    assert runner.stats.failures >= 1  # the restart under load was met, and retried
    _drive(runner, outbox, time.monotonic() + 60)

    pg_backend.use(served.data)
    events = SqliteEventStore(served.data / "events.db")
    try:
        assert events.count_events(UNIT) == len(uuids)  # nothing lost, nothing doubled
        assert all(events.event(u) is not None for u in uuids)
        stored = events._conn.execute(
            "SELECT COUNT(*) FROM transactions WHERE unit_id = ? AND ended_utc IS NOT NULL",
            [UNIT]).fetchone()[0]
        assert stored == len(uuids) // 2
    finally:
        events.close()
    client.close()
    outbox.close()
    store.close()
