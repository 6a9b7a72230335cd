"""End to end: staff close the window at the keypad and leave; HQ sees the closed time.

The whole unit (file camera over a composed scene, models, state machine, store,
SerialKeypad on a real pseudo-terminal with the keypad simulator at the other end) runs
in media time driven by the test; its outbox is then synced to a real HQ on loopback
(TLS, client certificate) whose org binds the unit to window W1
(tests/helpers/hq/reports_fixture.py).

Phase A: the simulator presses "closed" at 3 s, the staff member leaves at 10 s and stays
away 25 s, far past the off-seat alert time (5 s here): no off-seat episode, no alert;
the keypad shows "closed" to customers; "open" at 40 s after coming back.
Phase B (the control, same run): the staff member leaves again at 50 s with the window
open: an episode starts and alerts; pressing "away" at 62 s ends it cleanly (its alert
cleared, HQ's thread closed).
At HQ: the window_state events, the report's closed minutes equal to the time between
"closed" and "open", and away time until the unit stopped.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import threading
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evaluator.sim import KeypadSim
from firmware.config.unit import SyncConfig, parse_config
from firmware.daemon.unit import CounterUnit
from firmware.syncd.runner import SyncRunner
from firmware.system.clock import MediaClock
from firmware.wiring.runner import open_unit
from hal.pty import PtyPair
from hq.reports.query import levels
from hq.storage.scope import Scope
from hq.storage.sqlite import connect
from sync.hq_client import HQClient
from sync.outbox import Outbox
from tests.conftest import wait_for
from tests.helpers.hq import reports_fixture as fx
from tests.helpers.hq.server import running_hq
from tests.integration.end_to_end.test_unit_serial_pty import SteppedCamera
from vision.compose.scenes import Appearance, SceneSpec, compose

pytestmark = pytest.mark.slow

SCENE = SceneSpec(70, fps=5, appearances=(
    Appearance("astronaut", "seat", 0, 10, enter_s=0.0),
    Appearance("astronaut", "seat", 35, 50),
))
CLOSED_TEXT = "暂停服务"


def _events(path: Path, type_: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT mono, utc, data FROM events WHERE type = ? ORDER BY mono",
                            [type_]).fetchall()
    finally:
        conn.close()
    return [{"t": t, "utc": u, **json.loads(d)} for t, u, d in rows]


class Run:
    """One unit day as the module docstring tells it, and what HQ holds afterwards."""

    def __init__(self, tmp: Path) -> None:
        video = tmp / "scene.mp4"
        compose(SCENE, video)
        self.keypad_pty = PtyPair(tmp / "keypad").open()
        cfg = parse_config({
            "unit": {"unit_id": "U1", "counter_id": "c-U1", "data_dir": tmp / "data"},
            "camera": {"type": "file", "path": video, "realtime": False},
            "keypad": {"url": self.keypad_pty.path},
            "badge": None,
            "rules": {"off_seat_alert_s": [5.0, 60.0, 120.0]},
            "window_states": {"closed_text": CLOSED_TEXT},
            "zones": {
                name: {"x0": x0, "y0": 0.0, "x1": x0 + 0.5, "y1": 1.0, "enter_dwell_s": 1.0,
                       "exit_hold_s": 2.0, "identity": False}
                for name, x0 in (("seat", 0.0), ("customer", 0.5))},
        })
        self.unit: CounterUnit = open_unit(cfg, media_time=True, media_clock=MediaClock())
        self.camera = SteppedCamera(self.unit.devices.camera)
        self.unit.devices.camera = self.camera
        self.sim = KeypadSim.over_fd(self.keypad_pty.master_fd, heartbeat_s=0.5)
        self.store_path = self.unit.store.path

    def until(self, t: float) -> None:
        self.camera.advance(t)
        wait_for(lambda: self.camera.waiting_at is not None, 60, f"media time {t}")

    def key(self, state: str, then: float) -> None:
        self.sim.window_state(state)
        assert self.sim.wait_for(lambda s: s.unacked == 0, 10), "state key not acknowledged"
        self.until(then)

    def play(self) -> None:
        self.sim.start()
        thread = threading.Thread(target=self.unit.run, daemon=True)
        thread.start()
        wait_for(lambda: self.unit.devices.keypad.link_up is True, 15,  # type: ignore[union-attr]
                 "keypad link up")
        keypad = self.unit.devices.keypad
        wait_for(lambda: keypad.stats.version == 2, 15, "version 2")  # type: ignore[union-attr]
        self.until(3.0)
        self.key("closed", then=4.0)
        assert self.sim.wait_for(lambda s: s.display.window_state == ("closed", CLOSED_TEXT),
                                 10), "closed notice not on the keypad"
        self.until(36.0)  # away 10..35: far past the 5 s alert
        self.key("open", then=40.0)
        assert self.sim.wait_for(lambda s: s.display.window_state is None, 10)
        self.until(61.0)  # gone again at 50 with the window open: alert at ~57
        self.key("away", then=64.0)
        self.camera.advance(1e9)
        thread.join(60)
        self.sim.stop()
        self.keypad_pty.close()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, Path]]:
    r = Run(tmp_path_factory.mktemp("unit"))
    r.play()
    with running_hq(tmp_path_factory.mktemp("hq")) as hq:
        db = hq.root / "data" / "events.db"  # running_hq serves root/data
        fx.build_org(db)
        client = HQClient.from_identity(hq.url, hq.enrolled_unit("U1"))
        outbox = Outbox(r.store_path)
        runner = SyncRunner(outbox, client, SyncConfig.model_validate({"hq_url": hq.url}),
                            zoneinfo.ZoneInfo("UTC"), rng=random.Random(1))
        now = 0.0
        for _ in range(40):
            if not runner.step(now) and not outbox.backlog().events:
                break
            now = max(now, runner.next_try) + 0.1
        assert outbox.backlog().events == 0
        client.close()
        outbox.close()
        yield r, db


def test_no_off_seat_episode_or_alert_while_closed(run: tuple[Run, Path]) -> None:
    r, _ = run
    states = _events(r.store_path, "window_state")
    assert [(s["state"], s["source"]) for s in states] == [
        ("open", "start"), ("closed", "keypad"), ("open", "default"), ("away", "keypad"),
        ("off", "shutdown")]
    closed_t, open_t = states[1]["t"], states[2]["t"]
    started = _events(r.store_path, "absence_started")
    raised = [a for a in _events(r.store_path, "alert_raised") if a["alert"] == "off_seat"]
    assert not [a for a in started if closed_t <= a["t"] <= open_t]
    assert not [a for a in raised if closed_t <= a["t"] <= open_t]
    # The control: the second departure (window open) alerted, and "away" ended it.
    assert len(started) == 1 and started[0]["t"] > open_t
    assert [a["level"] for a in raised] == [1]
    ended = _events(r.store_path, "absence_ended")
    assert [e["reason"] for e in ended] == ["window_away"]
    cleared = [a for a in _events(r.store_path, "alert_cleared") if a["alert"] == "off_seat"]
    assert [c["absence_id"] for c in cleared] == [started[0]["absence_id"]]


def test_hq_has_the_states_the_closed_minutes_and_a_closed_thread(run: tuple[Run, Path]
                                                                  ) -> None:
    r, db = run
    states = _events(r.store_path, "window_state")
    conn = connect(db)
    try:
        at_hq = conn.execute("SELECT json_extract(data, '$.state') FROM events WHERE "
                             "unit_id = 'U1' AND type = 'window_state' ORDER BY utc"
                             ).fetchall()
        threads = conn.execute("SELECT kind, status FROM alert_threads WHERE unit_id = 'U1'"
                               ).fetchall()
        utc0 = dt.datetime.fromisoformat(states[0]["utc"])
        local_day = utc0.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).date()
        rep = levels.report(conn, Scope("branch", "B1"), "window", local_day, local_day,
                             utc0 + dt.timedelta(days=2))
    finally:
        conn.close()
    assert [s for (s,) in at_hq] == ["open", "closed", "open", "away", "off"]
    assert [tuple(t) for t in threads] == [("off_seat", "closed")]
    w1 = next(f for f in rep.rows if f.key == "W1")
    closed_s = states[2]["t"] - states[1]["t"]
    away_s = states[4]["t"] - states[3]["t"]
    assert closed_s > 30  # pressed at ~3 s, opened at ~36 s
    assert w1.state_closed_s == pytest.approx(closed_s, abs=0.01)
    assert w1.state_away_s == pytest.approx(away_s, abs=0.01)
    assert w1.off_seat_count == 1  # only phase B's episode
