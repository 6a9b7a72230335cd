"""Zones authored at HQ: validated like unit.toml's, refused when they break a rule,
applied at the next start (the running analyzer keeps the zones it was built with)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from firmware.config.from_hq import ConfigInbox, merge, parse_hq_config, zone_problems
from firmware.config.unit import ConfigError, UnitConfig, parse_config
from firmware.system.clock import MediaClock
from firmware.wiring.runner import open_unit

ZONES = {
    "seat": {"x0": 0.0, "y0": 0.1, "x1": 0.4, "y1": 1.0, "enter_dwell_s": 1.5, "exit_hold_s": 6},
    "customer": {"x0": 0.45, "y0": 0.0, "x1": 1.0, "y1": 0.9, "exit_hold_s": 3},
}


def unit_config(tmp_path: Path, video: Path) -> UnitConfig:
    return parse_config({
        "unit": {"data_dir": tmp_path / "data", "unit_id": "unit-z"},
        "camera": {"type": "file", "path": video, "realtime": False},
        "keypad": None, "badge": None,
    })


@pytest.mark.parametrize("zones,words", [
    ({"seat": ZONES["seat"]}, "zones must define ['customer']"),
    ({**ZONES, "customer": {**ZONES["customer"], "x1": 0.46}}, "zones.customer: zone must have"),
    ({**ZONES, "customer": {**ZONES["customer"], "colour": 1}}, "zones.customer.colour: unknown"),
    ({**ZONES, "seat": {**ZONES["seat"], "y1": 1.5}}, "zones.seat.y1"),
])
def test_bad_zones_are_refused_naming_the_key(zones: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_hq_config(json.dumps({"version": "z", "zones": zones}).encode())
    assert any(words in p for p in err.value.problems), err.value.problems


def test_zones_that_break_a_rule_of_the_unit_config_are_named(tmp_path: Path) -> None:
    cfg = unit_config(tmp_path, tmp_path / "v.mp4")
    too_long = {**ZONES, "customer": {**ZONES["customer"],
                                      "exit_hold_s": cfg.recording.post_roll_s + 5}}
    doc = parse_hq_config(json.dumps({"zones": too_long}).encode())
    problems = zone_problems(cfg, doc)
    assert problems and "post_roll_s" in problems[0] and problems[0].startswith("zones: ")
    assert zone_problems(cfg, parse_hq_config(json.dumps({"zones": ZONES}).encode())) == []
    # merge leaves zones to the next start; the section is still reported as received.
    merged, sections = merge(cfg, parse_hq_config(json.dumps({"zones": ZONES}).encode()))
    assert sections == ["zones"] and merged.zones == cfg.zones


def _run(cfg: UnitConfig) -> tuple[UnitConfig, tuple[Any, ...], list[dict[str, Any]]]:
    unit = open_unit(cfg, media_time=True, media_clock=MediaClock())
    try:
        unit.run()
        rows = unit.store.rows("events", order_by="rowid")
    finally:
        unit.store.close()
    return unit.cfg, unit.analyzer.zones, [{"type": r["type"], **json.loads(r["data"])}
                                           for r in rows if r["type"].startswith("config_")]


def test_hq_zones_apply_at_the_next_start(
        tmp_path: Path, scene_video: Callable[[str], tuple[Path, object]]) -> None:
    video, _ = scene_video("passer_by")
    cfg = unit_config(tmp_path, video)
    inbox = ConfigInbox(cfg.unit.data_dir / "hq-config")
    inbox.deliver('"z1"', json.dumps({"version": "z1", "zones": ZONES}).encode())

    in_force, analyzer_zones, events = _run(cfg)
    assert events == [{"type": "config_applied", "etag": '"z1"', "version": "z1",
                       "sections": ["zones"], "staff": None, "pending_restart": ["zones"]}]
    assert in_force.zones == cfg.zones, "no live re-zoning"
    assert {z.name: z.x1 for z in analyzer_zones} == {"seat": 0.5, "customer": 1.0}

    in_force, analyzer_zones, again = _run(cfg)  # the restart (same store)
    assert again == events, "a restored config is not announced again"
    assert in_force.zones["customer"].exit_hold_s == 3
    assert {z.name: (z.x0, z.x1) for z in analyzer_zones} == {"seat": (0.0, 0.4),
                                                             "customer": (0.45, 1.0)}

    # A document whose zones break the unit's rules is refused whole; the last good stays.
    bad = {"version": "z2", "rules": {"rating_window_s": 30},
           "zones": {**ZONES, "customer": {**ZONES["customer"], "exit_hold_s": 100}}}
    inbox.deliver('"z2"', json.dumps(bad).encode())
    in_force, _, events = _run(cfg)
    (refused,) = [e for e in events if e["type"] == "config_refused"]
    assert any("post_roll_s" in p for p in refused["problems"]), refused
    assert in_force.rules.rating_window_s != 30 and in_force.zones["customer"].exit_hold_s == 3
    current = inbox.current()
    assert current is not None and current.etag == '"z1"'
