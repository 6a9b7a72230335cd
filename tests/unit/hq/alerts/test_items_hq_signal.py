"""An item_left's alert reaches HQ's alert threads as kind ``item`` (hq/alerts/signals.py)."""

from __future__ import annotations

import datetime as dt
import uuid

from firmware.config.items import ItemsConfig
from firmware.daemon.items_watch import ItemsWatch
from hq.alerts.signals import signal_of
from sync.schema import EventEnvelope
from vision.items.rules import ItemEvent
from vision.zones import Zone


def env(type_: str, data: dict) -> EventEnvelope:
    return EventEnvelope(uuid=uuid.uuid4().hex, type=type_, unit_id="u1", counter_id="c1",
                         utc=dt.datetime(2026, 12, 7, tzinfo=dt.UTC), mono=30.0, boot_id="b",
                         clock_synced=True, data=data)


def test_item_left_raises_and_taken_clears_the_item_thread() -> None:
    watch = ItemsWatch(Zone("counter", 0.0, 0.8, 1.0, 1.0), ItemsConfig.model_validate({}), "p")
    left = watch.records(ItemEvent("item_left", 30.0, "p-item-1", (0, 0, 1, 1), 4),
                         "p-item-1-snap", "p-item-1-clip")
    assert [t for t, _ in left] == ["item_left", "alert_raised"]
    sig = signal_of(env(*left[1]))
    assert sig is not None and (sig.kind, sig.episode, sig.action) == ("item", "p-item-1", "raise")
    assert (sig.snapshot_id, sig.clip_id) == ("p-item-1-snap", "p-item-1-clip")
    taken = watch.records(ItemEvent("item_taken", 40.0, "p-item-1", (0, 0, 1, 1), 4), None, None)
    assert [t for t, _ in taken] == ["item_taken", "alert_cleared"]
    sig = signal_of(env(*taken[1]))
    assert sig is not None and (sig.kind, sig.action) == ("item", "clear")
    env(*left[0])  # the item event itself passes the sync schema
