"""The daemon's queue glue with driven time: one lost line, one recovery, no invented event."""

from __future__ import annotations

import logging

import pytest

from firmware.config.unit import parse_config
from firmware.machine.model import Emit, OpenTransaction
from firmware.queue_link.link import QueueLink
from hal.queue.base import QueueReading
from hal.queue.config import SerialQueueConfig


def link() -> QueueLink:
    cfg = parse_config({"camera": {"type": "file", "path": "/x.mp4"}, "queue": {
        "type": "serial", "counter": "3", "stale_after_s": 15,
        "alert": {"above": 10, "for_s": 60, "clear_at_or_below": 5, "clear_for_s": 0}}})
    assert isinstance(cfg.queue, SerialQueueConfig)
    return QueueLink(cfg.queue, "counter-01", "u1", now=0.0)


def types(emits: list[Emit]) -> list[str]:
    return [e.type for e in emits]


def test_feed_lost_once_logged_once_and_recovered(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="firmware.queue_link.link")
    q = link()
    assert q.poll([QueueReading("alive", 1.0)], 1.0, "", None) == []
    out: list[Emit] = []
    for t in range(2, 200):
        out += q.poll([], float(t), "read failed: EIO", None)
    assert types(out) == ["queue_feed_lost"] and out[0].t == 16.0
    assert out[0].data["detail"] == "read failed: EIO"
    back = q.poll([QueueReading("alive", 200.0)], 200.0, "", None)
    assert types(back) == ["queue_feed_restored"]
    lines = [r.getMessage() for r in caplog.records]
    assert len([m for m in lines if "queue feed lost" in m]) == 1
    assert len([m for m in lines if "queue feed recovered" in m]) == 1


def test_waiting_raises_and_clears_and_calls_for_other_counters_are_ignored() -> None:
    q = link()
    out = q.poll([QueueReading("waiting", 0.0, service="A", waiting=12)], 0.0, "", None)
    for t in range(1, 61, 5):
        out += q.poll([QueueReading("alive", float(t))], float(t), "", None)
    out += q.poll([QueueReading("waiting", 61.0, service="A", waiting=12)], 61.0, "", None)
    out += q.poll([QueueReading("called", 62.0, ticket="B7", counter="4")], 62.0, "", None)
    out += q.poll([QueueReading("waiting", 70.0, service="A", waiting=4)], 70.0, "", None)
    assert types(out) == ["queue_alert_raised", "queue_alert_cleared"]
    assert (out[0].t, out[0].data["waiting"], out[0].data["threshold"]) == (61.0, 12, 10)
    assert q.other_counters == 1


def test_a_call_to_this_counter_reaches_the_next_transaction() -> None:
    q = link()
    out = q.poll([QueueReading("called", 5.0, ticket="A031", counter="3")], 5.0, "", None)
    assert types(out) == ["ticket_called"] and out[0].data["joined"] == "next"
    started = q.decorate(Emit("transaction_started", 9.0, {"txn_id": "u1-t1"}))
    assert started.data["ticket"] == "A031"
    out = q.poll([QueueReading("called", 12.0, ticket="A032", counter="3")], 12.0, "",
                 OpenTransaction("u1-t1", 9.0, None, None))
    assert out[0].data["txn_id"] is None  # u1-t1 already has a ticket
    ended = q.decorate(Emit("transaction_ended", 30.0, {"txn_id": "u1-t1"}))
    assert ended.data["ticket"] == "A031"
