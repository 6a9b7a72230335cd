"""End to end: HQ plans a lunch closure for one window; its unit applies it and raises no
off-seat alert during it.

A real HQ on loopback (TLS, client certificates; org of tests/helpers/hq/reports_fixture.py:
U1 bound to W1) is given a closed period for W1 on 2026-12-09 12:00-12:30 (Asia/Shanghai)
through its API. Only W1 gets a new config version. The sync runner pulls it into the unit's
inbox and the whole unit (file camera over a composed scene, models, state machine, store)
runs in media time from 11:59:30 local: the teller is away 8-20 s (before the period: an
episode and an alert, the control) and leaves again at 35 s, 5 s into the planned period (no
episode, no alert). The unit's events then sync back and HQ holds exactly one off-seat
thread.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from firmware.config.from_hq import ConfigInbox
from firmware.config.unit import SyncConfig, parse_config
from firmware.daemon.unit import CounterUnit
from firmware.syncd.runner import SyncRunner
from firmware.system.clock import MediaClock
from firmware.wiring.runner import open_unit
from hq.storage.scope import Scope
from hq.storage.sqlite import connect
from sync.hq_client import HQClient
from sync.outbox import Outbox
from tests.helpers.hq import reports_fixture as fx
from tests.helpers.hq.api import tls
from tests.helpers.hq.server import running_hq
from tests.helpers.hq.users import PW
from vision.compose.scenes import Appearance, SceneSpec, compose

pytestmark = pytest.mark.slow

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
WALL_BASE = dt.datetime(2026, 12, 9, 11, 59, 30, tzinfo=TZ)  # media 0; the period: from 30 s
PERIOD = {"window_id": "W1", "state": "closed", "date": "2026-12-09", "start": "12:00",
          "end": "12:30", "note": "lunch"}
SCENE = SceneSpec(55, fps=5, appearances=(
    Appearance("astronaut", "seat", 0, 8, enter_s=0.0),
    Appearance("astronaut", "seat", 20, 35),
))


def _events(path: Path, type_: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT mono, data FROM events WHERE type = ? ORDER BY mono",
                            [type_]).fetchall()
    finally:
        conn.close()
    return [{"t": t, **json.loads(d)} for t, d in rows]


def _sync(runner: SyncRunner, outbox: Outbox) -> None:
    now = 0.0
    for _ in range(40):
        if not runner.step(now) and not outbox.backlog().events:
            break
        now = max(now, runner.next_try) + 0.1


class Day:
    """What the run left behind: HQ's answer to the authoring, the unit, HQ's database."""

    authored: dict[str, Any]
    listed: list[dict[str, Any]]
    unit: CounterUnit
    db: Path


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    out = Day()
    tmp = tmp_path_factory.mktemp("unit")
    video = tmp / "scene.mp4"
    compose(SCENE, video)
    with running_hq(tmp_path_factory.mktemp("hq")) as hq:
        out.db = hq.root / "data" / "events.db"
        fx.build_org(out.db)
        users = hq.deps.user_store()
        users.create_user("root", PW, "admin", scope=Scope.everything())
        token = users.issue_token("root").token
        r = requests.post(hq.url + "/v1/org/periods", json=PERIOD,
                          headers={"Authorization": f"Bearer {token}"}, **tls(hq, None))
        assert r.status_code == 200, r.text
        out.authored = r.json()
        listed = requests.get(hq.url + "/v1/org/periods",
                              headers={"Authorization": f"Bearer {token}"}, **tls(hq, None))
        assert listed.status_code == 200, listed.text
        out.listed = listed.json()

        cfg = parse_config({
            "unit": {"unit_id": "U1", "counter_id": "c-U1", "data_dir": tmp / "data",
                     "timezone": "Asia/Shanghai"},
            "camera": {"type": "file", "path": video, "realtime": False},
            "keypad": None, "badge": None,
            "rules": {"off_seat_alert_s": [5.0, 60.0, 120.0]},
            "zones": {
                name: {"x0": x0, "y0": 0.0, "x1": x0 + 0.5, "y1": 1.0, "enter_dwell_s": 1.0,
                       "exit_hold_s": 2.0, "identity": False}
                for name, x0 in (("seat", 0.0), ("customer", 0.5))},
        })
        out.unit = open_unit(cfg, media_time=True, media_clock=MediaClock(),
                             wall_base=WALL_BASE.astimezone(dt.UTC))
        client = HQClient.from_identity(hq.url, hq.enrolled_unit("U1"))
        outbox = Outbox(out.unit.store.path)
        runner = SyncRunner(outbox, client, SyncConfig.model_validate({"hq_url": hq.url}),
                            TZ, inbox=ConfigInbox(cfg.unit.data_dir / "hq-config"),
                            rng=random.Random(1))
        try:
            runner.step(0.0)  # pulls W1's config into the unit's inbox
            out.unit.run()
            _sync(runner, outbox)
            assert outbox.backlog().events == 0
        finally:
            client.close()
            outbox.close()
            out.unit.store.close()
        yield out


def test_only_the_window_of_the_period_gets_a_new_version(day: Day) -> None:
    assert day.authored["id"] == "W1.closed.2026-12-09.1200"
    assert [v["window_id"] for v in day.authored["new_versions"]] == ["W1"]
    assert day.authored["new_versions"][0]["sections"] == ["roster", "schedule"]
    assert [(p["period_id"], p["on_date"], p["start_local"], p["end_local"])
            for p in day.listed] == [("W1.closed.2026-12-09.1200", "2026-12-09", "12:00",
                                      "12:30")]


def test_the_unit_applies_the_period_and_raises_no_alert_during_it(day: Day) -> None:
    store = day.unit.store.path
    (applied,) = _events(store, "config_applied")
    assert "schedule" in applied["sections"]
    assert [p.model_dump(mode="json") for p in day.unit.cfg.schedule.states] == [
        {"state": "closed", "days": [], "date": "2026-12-09", "start": "12:00:00",
         "end": "12:30:00", "note": "lunch"}]
    states = [(s["state"], s["source"]) for s in _events(store, "window_state")]
    assert states == [("open", "start"), ("closed", "schedule"), ("off", "shutdown")]
    closed_t = _events(store, "window_state")[1]["t"]
    assert closed_t == pytest.approx(30.0, abs=0.5)
    started = _events(store, "absence_started")
    raised = [a for a in _events(store, "alert_raised") if a["alert"] == "off_seat"]
    # The control, before the period: away 8-20 s alerted once (level 1 after 5 s).
    assert len(started) == 1 and 6 < started[0]["t"] < 10, started
    assert [(a["level"], a["t"] < closed_t) for a in raised] == [(1, True)]
    # The teller left at 35 s, inside the period: nothing started or alerted after 30 s.
    assert not [a for a in started if a["t"] >= closed_t]


def test_hq_has_one_off_seat_thread_and_the_closed_state(day: Day) -> None:
    conn = connect(day.db)
    try:
        threads = conn.execute("SELECT kind FROM alert_threads WHERE unit_id = 'U1'").fetchall()
        at_hq = conn.execute("SELECT json_extract(data, '$.state'), json_extract(data, "
                             "'$.source') FROM events WHERE unit_id = 'U1' AND "
                             "type = 'window_state' ORDER BY utc").fetchall()
    finally:
        conn.close()
    assert [t for (t,) in threads] == ["off_seat"]
    assert [tuple(s) for s in at_hq] == [("open", "start"), ("closed", "schedule"),
                                         ("off", "shutdown")]
