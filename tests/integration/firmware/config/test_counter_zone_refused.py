"""A counter zone that breaks the unit's rules, arriving from HQ anyway (a hand-written file
HQ serves from its config folder), is refused by the running unit: ``config_refused``
naming ``zones.counter`` and the rule, the last good config kept, nothing else applied."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from firmware.config.from_hq import ConfigInbox
from firmware.config.unit import UnitConfig, parse_config
from firmware.system.clock import MediaClock
from firmware.wiring.runner import open_unit

SEAT = {"x0": 0.0, "y0": 0.0, "x1": 0.5, "y1": 1.0}
CUSTOMER = {"x0": 0.5, "y0": 0.0, "x1": 1.0, "y1": 1.0}


def _run(cfg: UnitConfig) -> tuple[UnitConfig, list[dict[str, Any]]]:
    unit = open_unit(cfg, media_time=True, media_clock=MediaClock())
    try:
        unit.run()
        rows = unit.store.rows("events", order_by="rowid")
    finally:
        unit.store.close()
    return unit.cfg, [{"type": r["type"], **json.loads(r["data"])} for r in rows
                      if r["type"].startswith("config_")]


@pytest.mark.parametrize(("counter", "problem"), [
    ({"x0": 0.3, "y0": 0.6, "x1": 1.4, "y1": 0.95},
     "zones.counter.x1: Input should be less than or equal to 1"),
    ({"x0": 0.5, "y0": 0.1, "x1": 1.0, "y1": 0.9},
     "zones.counter covers 80% of zones.customer; at most 50%"),
])
def test_the_unit_refuses_a_bad_counter_zone_naming_it(
        tmp_path: Path, scene_video: Callable[[str], tuple[Path, object]],
        counter: dict[str, float], problem: str) -> None:
    video, _ = scene_video("passer_by")
    cfg = parse_config({
        "unit": {"data_dir": tmp_path / "data", "unit_id": "unit-c"},
        "camera": {"type": "file", "path": video, "realtime": False},
        "keypad": None, "badge": None,
    })
    inbox = ConfigInbox(cfg.unit.data_dir / "hq-config")
    doc = {"version": "c1", "rules": {"rating_window_s": 30},
           "zones": {"seat": SEAT, "customer": CUSTOMER, "counter": counter}}
    inbox.deliver('"c1"', json.dumps(doc).encode())
    in_force, events = _run(cfg)
    (refused,) = events
    assert refused["type"] == "config_refused" and refused["etag"] == '"c1"'
    assert any(problem in p for p in refused["problems"]), refused["problems"]
    assert in_force.rules.rating_window_s != 30, "nothing of a refused document applies"
    assert "counter" not in in_force.zones
    assert inbox.current() is None
