"""`counterunit sync` as its own process: drains the unit's outbox into a real HQ."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.store import EventContext, Store
from firmware.system.clock import UnitClock
from tests.conftest import wait_for
from tests.helpers.hq.server import HQServer, running_hq

UNIT = "unit-proc"


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQServer]:
    with running_hq(tmp_path_factory.mktemp("hq")) as server:
        yield server


def config(tmp_path: Path, hq: HQServer | None) -> Path:
    text = (f'[unit]\nunit_id = "{UNIT}"\ndata_dir = "{tmp_path / "data"}"\n'
            '[camera]\ntype = "file"\npath = "/nonexistent.mp4"\n')
    if hq is not None:
        text += f'[sync]\nhq_url = "{hq.url}"\npoll_s = 0.5\nidentity_dir = "{tmp_path / "id"}"\n'
    path = tmp_path / "unit.toml"
    path.write_text(text)
    return path


def run_sync(cfg: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "firmware.cli", "sync", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "NOTIFY_SOCKET": ""})


def test_sync_drains_the_outbox_then_stops_on_sigterm(hq: HQServer, tmp_path: Path) -> None:
    clock = UnitClock.media(lambda: 0.0, dt.datetime(2026, 11, 22, tzinfo=dt.UTC))
    store = Store(tmp_path / "data" / "counterunit.db",
                  EventContext(UNIT, "counter-1", "boot", clock))
    for i in range(25):
        store.record("key_ignored", float(i), {"key": 2})
    ident = hq.enrolled_unit(UNIT)
    (tmp_path / "id").symlink_to(ident.directory)
    proc = run_sync(config(tmp_path, hq))
    try:
        wait_for(lambda: hq.deps.events.count_events(UNIT) == 25, 30, "events at HQ")
        store.record("alert_raised", 30.0, {"alert": "off_seat", "level": 1})  # while running
        wait_for(lambda: hq.deps.events.count_events(UNIT) == 26, 30, "the new alert at HQ")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    store.close()


def test_without_sync_section_it_says_so(tmp_path: Path) -> None:
    proc = run_sync(config(tmp_path, None))
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "no [sync] section" in out and "Traceback" not in out


def test_unenrolled_unit_says_so(hq: HQServer, tmp_path: Path) -> None:
    proc = run_sync(config(tmp_path, hq))
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "not enrolled" in out and "Traceback" not in out
