"""The counter zone in unit.toml: check-config rules (firmware/config/items.py)."""

from __future__ import annotations

import pytest

from firmware.config.unit import ConfigError, parse_config

CAM = {"type": "file", "path": "/tmp/x.mp4"}


def cfg(counter: dict) -> dict:
    return {"camera": CAM, "zones": {
        "seat": {"x0": 0, "y0": 0, "x1": 0.5, "y1": 1},
        "customer": {"x0": 0.5, "y0": 0, "x1": 1, "y1": 1},
        "counter": counter}}


def test_counter_zone_accepted_and_items_on() -> None:
    c = parse_config(cfg({"x0": 0.02, "y0": 0.85, "x1": 0.98, "y1": 1.0}))
    assert c.zones["counter"].y0 == 0.85 and c.items.hold_s == 4.0


@pytest.mark.parametrize(("counter", "message"), [
    ({"x0": 0.1, "y0": 0.8, "x1": 1.2, "y1": 1.0}, "zones.counter.x1"),
    ({"x0": 0.5, "y0": 0.2, "x1": 1.0, "y1": 1.0}, "zones.counter covers 80% of zones.customer"),
    ({"x0": 0.0, "y0": 0.0, "x1": 0.5, "y1": 0.9}, "covers 90% of zones.seat"),
])
def test_bad_counter_zone_is_a_clear_error(counter: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(cfg(counter))
    assert any(message in p for p in err.value.problems), err.value.problems
