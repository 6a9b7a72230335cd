"""A hall unit's crowd alerts open and close HQ alert threads as they are (kind "crowd")."""

from __future__ import annotations

import datetime as dt

from firmware.hall.density import DensityRule
from firmware.hall.monitor import HallEvent
from hq.alerts.signals import signal_of
from sync.schema import EventEnvelope


def _env(ev: HallEvent) -> EventEnvelope:
    return EventEnvelope.model_validate({
        "uuid": "00000000-0000-4000-8000-000000000001", "type": ev.type, "unit_id": "hall-1",
        "counter_id": "hall", "utc": dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC),
        "mono": ev.t, "boot_id": "b", "clock_synced": True, "data": ev.data})


def test_raised_and_cleared_map_to_one_crowd_thread() -> None:
    from firmware.hall.config import HallConfig
    from firmware.hall.monitor import HallMonitor
    from vision.hall.counter import Counts

    cfg = HallConfig.model_validate({"areas": {"wait": {"rect": [0, 0, 1, 1], "raise_at": 3,
                                                        "clear_at": 1, "raise_hold_s": 0,
                                                        "clear_hold_s": 0}}})
    mon = HallMonitor(cfg, "u1")
    assert mon.rules["wait"] == DensityRule(3, 1, 0.0, 0.0)
    raised = mon.decide(Counts(5.0, {"wait": 4}, ()))
    cleared = mon.decide(Counts(9.0, {"wait": 0}, ()))
    a, b = signal_of(_env(raised[0])), signal_of(_env(cleared[0]))
    assert a is not None and b is not None
    assert (a.kind, a.episode, a.action) == ("crowd", "u1-crowd-1", "raise")
    assert (b.kind, b.episode, b.action) == ("crowd", "u1-crowd-1", "clear")
    assert cleared[0].data["peak"] == 4 and cleared[0].data["duration_s"] == 4.0
