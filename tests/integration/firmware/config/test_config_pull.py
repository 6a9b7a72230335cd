"""Config pull end to end: HQ serves it with an ETag, sync delivers it, the unit applies
it (or refuses it with an event and keeps the last good one, across a restart)."""

from __future__ import annotations

import datetime as dt
import json
import random
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware.config.from_hq import ConfigInbox
from firmware.config.unit import SyncConfig, UnitConfig, parse_config
from firmware.store import EventContext, Store
from firmware.syncd.runner import SyncRunner
from firmware.system.clock import MediaClock, UnitClock
from firmware.wiring.runner import open_unit
from sync.hq_client import HQClient
from sync.outbox import Outbox
from tests.helpers.hq.server import HQServer, running_hq

UNIT = "unit-cfg"
HQ_DOC = {
    "version": "v1",
    "roster": {"staff": [{"staff_id": "s-9", "name": "Wang Fang", "staff_number": "B7",
                          "badge_uid_sha256": ["ab" * 32]}]},
    "rules": {"rating_window_s": 20, "off_seat_alert_s": [60, 120, 240]},
}


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQServer]:
    with running_hq(tmp_path_factory.mktemp("hq")) as server:
        yield server


def test_sync_delivers_a_new_config_once_per_etag(hq: HQServer, tmp_path: Path) -> None:
    clock = UnitClock.media(lambda: 0.0, dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC))
    Store(tmp_path / "counterunit.db", EventContext(UNIT, "c-1", "boot", clock)).close()
    served = hq.deps.config_dir / f"{UNIT}.json"
    served.write_bytes(json.dumps(HQ_DOC).encode())
    inbox = ConfigInbox(tmp_path / "hq-config")
    cfg = SyncConfig.model_validate({"hq_url": "https://localhost", "config_poll_s": 300})
    client = HQClient.from_identity(hq.url, hq.enrolled_unit(UNIT))
    outbox = Outbox(tmp_path / "counterunit.db")
    runner = SyncRunner(outbox, client, cfg, zoneinfo.ZoneInfo("UTC"), inbox=inbox,
                        status_file=tmp_path / "status" / "sync.json", rng=random.Random(1))
    try:
        runner.step(0)
        first = inbox.take()
        assert first is not None and first.body == served.read_bytes()
        inbox.mark(first, applied=True)  # what the daemon does

        runner.step(10)  # not due yet: no request at all
        runner.step(300)  # due: If-None-Match answers 304, nothing new delivered
        assert inbox.take() is None

        served.write_bytes(json.dumps({**HQ_DOC, "version": "v2"}).encode())
        runner.step(600)
        second = inbox.take()
        assert second is not None and json.loads(second.body)["version"] == "v2"
        assert second.etag != first.etag
        status = json.loads((tmp_path / "status" / "sync.json").read_text())
        assert status["last_error"] is None and status["config_etag"] == second.etag
    finally:
        client.close()
        outbox.close()


def unit_config(tmp_path: Path, video: Path) -> UnitConfig:
    return parse_config({
        "unit": {"data_dir": tmp_path / "data", "unit_id": UNIT},
        "camera": {"type": "file", "path": video, "realtime": False},
        "keypad": None, "badge": None, "rules": {"rating_window_s": 10},
    })


def run_unit(cfg: UnitConfig) -> tuple[UnitConfig, int, list[dict[str, Any]]]:
    unit = open_unit(cfg, media_time=True, media_clock=MediaClock())
    try:
        unit.run()
        rows = unit.store.rows("events", order_by="rowid")
    finally:
        unit.store.close()
    events = [{"type": r["type"], **json.loads(r["data"])} for r in rows
              if r["type"].startswith("config_")]
    return unit.cfg, len(unit.roster), events


def test_unit_applies_refuses_and_keeps_the_last_good_config(
        tmp_path: Path, scene_video: Callable[[str], tuple[Path, object]]) -> None:
    video, _ = scene_video("passer_by")
    cfg = unit_config(tmp_path, video)
    inbox = ConfigInbox(cfg.unit.data_dir / "hq-config")

    inbox.deliver('"good"', json.dumps(HQ_DOC).encode())
    in_force, staff, events = run_unit(cfg)
    assert in_force.rules.rating_window_s == 20 and staff == 1
    assert events == [{"type": "config_applied", "etag": '"good"', "version": "v1",
                       "sections": ["roster", "rules"], "staff": 1}]

    broken = {**HQ_DOC, "rules": {"rating_window_s": 20, "off_seat_alert_s": [600, 120, 240]}}
    inbox.deliver('"bad"', json.dumps(broken).encode())
    in_force, staff, events = run_unit(cfg)  # a restart: the good one comes back first
    assert in_force.rules.rating_window_s == 20 and staff == 1
    (refused,) = [e for e in events if e["type"] == "config_refused"]
    assert refused["etag"] == '"bad"'
    assert any("off_seat_alert_s" in p for p in refused["problems"]), refused
    current = inbox.current()
    assert current is not None and current.etag == '"good"'
