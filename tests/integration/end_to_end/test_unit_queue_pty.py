"""The whole unit with a queue machine on a real pty: ticket on the transaction, the
threshold alert raised and cleared, the feed lost once and restored once (media time is
driven by the test, as in test_unit_serial_pty)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from evaluator.queue_sim import QueueLineSim
from firmware.config.unit import parse_config
from firmware.system.clock import MediaClock
from firmware.wiring.runner import open_unit
from hal.pty import PtyPair
from hal.queue.serial_feed import SerialQueueFeed
from tests.conftest import wait_for
from tests.integration.end_to_end.test_unit_serial_pty import SteppedCamera
from vision.compose.scenes import Appearance, SceneSpec, compose

pytestmark = pytest.mark.slow
SCENE = SceneSpec(30, fps=5, appearances=(
    Appearance("astronaut", "seat", 0, 30, enter_s=0.0),
    Appearance("bb1_front", "customer", 6, 14),
))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[dict[str, Any]]]]:
    tmp = tmp_path_factory.mktemp("queue-unit")
    video = tmp / "scene.mp4"
    compose(SCENE, video)
    pty = PtyPair(tmp / "queue").open()
    cfg = parse_config({
        "unit": {"data_dir": tmp / "data", "counter_id": "counter-03"},
        "camera": {"type": "file", "path": video, "realtime": False},
        "keypad": None, "badge": None,
        "queue": {"type": "serial", "url": pty.path, "counter": "3", "stale_after_s": 3,
                  "alert": {"above": 10, "for_s": 4, "clear_at_or_below": 5, "clear_for_s": 0}},
    })
    unit = open_unit(cfg, media_time=True, media_clock=MediaClock())
    camera = SteppedCamera(unit.devices.camera)
    unit.devices.camera = camera
    feed = unit.devices.queue
    assert isinstance(feed, SerialQueueFeed)
    sim = QueueLineSim.over_fd(pty.master_fd, heartbeat_s=None, repeat_s=None)
    thread = threading.Thread(target=unit.run, daemon=True)
    thread.start()

    def until(t: float) -> None:
        camera.advance(t)
        wait_for(lambda: camera.waiting_at is not None, 60, f"media time {t}")

    def say(send: Any, n: int = 1) -> None:
        before = feed.parser_stats.accepted
        send()
        wait_for(lambda: feed.parser_stats.accepted >= before + n, 10, "line read")

    try:
        wait_for(lambda: feed.link_stats.opens >= 1, 10, "queue port open")
        sim.start()
        until(1.0)
        say(lambda: sim.call("A031", "3"))
        say(lambda: sim.call("B002", "4"))              # another counter's: not ours
        say(lambda: sim.set_waiting("A", 15))
        until(2.0)
        for t in range(3, 11):                          # the machine keeps repeating
            say(lambda: sim.set_waiting("A", 15))
            until(float(t))
        say(lambda: sim.set_waiting("A", 4))
        until(11.0)
        until(16.0)                                     # silence: lost at ~14
        say(lambda: sim.set_waiting("A", 4))
        until(18.0)
        camera.advance(1e9)
        thread.join(60)
    finally:
        sim.stop()
        pty.close()
    conn = sqlite3.connect(f"file:{unit.store.path}?mode=ro", uri=True)
    rows = conn.execute("SELECT type, mono, data FROM events ORDER BY mono").fetchall()
    conn.close()
    out: dict[str, list[dict[str, Any]]] = {}
    for type_, mono, data in rows:
        out.setdefault(type_, []).append({"t": mono, **json.loads(data)})
    yield out


def test_the_transaction_carries_the_called_ticket(run: dict[str, list[dict[str, Any]]]) -> None:
    assert [(e["ticket"], e["joined"]) for e in run["ticket_called"]] == [("A031", "next")]
    assert [e["ticket"] for e in run["transaction_started"]] == ["A031"]
    assert [e["ticket"] for e in run["transaction_ended"]] == ["A031"]


def test_threshold_alert_raised_and_cleared_once(run: dict[str, list[dict[str, Any]]]) -> None:
    raised, cleared = run["queue_alert_raised"], run["queue_alert_cleared"]
    assert [(e["service"], e["waiting"], e["threshold"]) for e in raised] == [("A", 15, 10)]
    assert [(e["service"], e["waiting"]) for e in cleared] == [("A", 4)]
    assert 5.0 <= raised[0]["t"] <= 6.5 and raised[0]["alert_id"] == cleared[0]["alert_id"]


def test_feed_lost_once_and_restored_once(run: dict[str, list[dict[str, Any]]]) -> None:
    # Quiet from 10 s: lost once at 13 s however long the outage, restored once at 16 s;
    # quiet again from 16 s to the end of the video: the second outage is lost once more.
    lost, back = run["queue_feed_lost"], run["queue_feed_restored"]
    assert [e["t"] for e in lost] == pytest.approx([13.0, 19.0], abs=0.5)
    assert len(back) == 1 and lost[0]["t"] < back[0]["t"] < lost[1]["t"]
