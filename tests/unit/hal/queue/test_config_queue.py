"""[queue] config: every mistake named at check-config time."""

from __future__ import annotations

from typing import Any

import pytest

from firmware.config.unit import ConfigError, parse_config
from hal.queue.config import HttpQueueConfig, SerialQueueConfig

BASE: dict[str, Any] = {"camera": {"type": "file", "path": "/tmp/x.mp4"}}


def cfg(queue: dict[str, Any]) -> Any:
    return parse_config({**BASE, "queue": queue})


def problems(queue: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        cfg(queue)
    return exc.value.problems


def test_defaults_and_both_types() -> None:
    s = cfg({"type": "serial"}).queue
    assert isinstance(s, SerialQueueConfig) and s.url == "/dev/counterunit-queue"
    assert s.alert is not None and (s.alert.above, s.alert.for_s) == (10, 300)
    h = cfg({"type": "http", "url": "http://127.0.0.1:8081/queue",
             "services": {"VIP": {"above": 3, "clear_at_or_below": 1}}}).queue
    assert isinstance(h, HttpQueueConfig) and h.services["VIP"].above == 3
    assert parse_config(BASE).queue is None


@pytest.mark.parametrize(("queue", "needle"), [
    ({"type": "serial", "speed": 9600}, "queue.serial.speed: unknown key"),
    ({"type": "carrier-pigeon"}, "queue"),
    ({"type": "serial", "url": "ttyUSB0"}, "queue.serial.url: must be a device"),
    ({"type": "serial", "url": "socket://nohost"}, "needs host:port"),
    ({"type": "http", "url": "ftp://x/q"}, "queue.http.url"),
    ({"type": "http", "url": "http:///q"}, "queue.http.url"),
    ({"type": "http", "url": "http://h:99999/q"}, "bad port"),
    ({"type": "http", "url": "http://h/q", "poll_s": 10}, "at least twice poll_s"),
    ({"type": "http", "url": "http://h/q", "poll_s": 0.1}, "queue.http.poll_s"),
    ({"type": "serial", "alert": {"above": 5, "clear_at_or_below": 5}}, "must be below above"),
    ({"type": "serial", "alert": {"above": -1}}, "queue.serial.alert.above"),
    ({"type": "serial", "alert": {"for_s": 1e9}}, "queue.serial.alert.for_s"),
    ({"type": "serial", "stale_after_s": 0}, "queue.serial.stale_after_s"),
    ({"type": "serial", "counter": "no spaces"}, "queue.serial.counter"),
    ({"type": "serial", "services": {"A B": {}}}, "queue.serial.services"),
])
def test_mistakes_are_named(queue: dict[str, Any], needle: str) -> None:
    found = problems(queue)
    assert any(needle in p for p in found), found
