"""The [hall] section and role = "hall" in unit.toml: good configs, and every bad one named."""

from __future__ import annotations

from typing import Any

import pytest

from firmware.config.unit import ConfigError, parse_config

CAMERA = {"type": "file", "path": "/tmp/x.mp4"}


def _hall(areas: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"camera": CAMERA, "role": "hall", "hall": {"areas": areas, **extra}}


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(data)
    return exc.value.problems


def test_counter_is_the_default_role_and_unchanged() -> None:
    cfg = parse_config({"camera": CAMERA})
    assert cfg.role == "counter" and cfg.hall is None


def test_hall_areas_rect_and_polygon() -> None:
    cfg = parse_config(_hall({
        "waiting": {"rect": [0.0, 0.3, 0.6, 1.0], "raise_at": 12, "clear_at": 8,
                    "raise_hold_s": 60},
        "door": {"points": [[0.6, 0.3], [1.0, 0.3], [1.0, 1.0]], "raise_at": 4},
    }))
    assert cfg.hall is not None
    waiting, door = cfg.hall.areas["waiting"], cfg.hall.areas["door"]
    assert waiting.polygon() == ((0.0, 0.3), (0.6, 0.3), (0.6, 1.0), (0.0, 1.0))
    assert (waiting.threshold_clear(), door.threshold_clear()) == (8, 2)  # default raise_at - 2
    assert door.raise_hold_s == 30.0 and door.record


@pytest.mark.parametrize(("data", "problem"), [
    (_hall({"a": {"rect": [0.0, 0.0, 1.2, 1.0], "raise_at": 3}}),
     "hall.areas.a: rect corner x1, y1 (1.2, 1) is outside the frame"),
    (_hall({"a": {"points": [[0.1, 0.1], [0.5, -0.1], [0.5, 0.5]], "raise_at": 3}}),
     "hall.areas.a: points[1] (0.5, -0.1) is outside the frame"),
    (_hall({"a": {"rect": [0.5, 0.0, 0.4, 1.0], "raise_at": 3}}),
     "hall.areas.a: rect needs x0 < x1"),
    (_hall({"a": {"points": [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]], "raise_at": 3}}),
     "hall.areas.a: points enclose (almost) no area"),
    (_hall({"a": {"rect": [0, 0, 1, 1], "points": [[0, 0], [1, 0], [1, 1]], "raise_at": 3}}),
     "hall.areas.a: give exactly one of rect or points"),
    (_hall({"a": {"rect": [0, 0, 1, 1], "raise_at": 5, "clear_at": 5}}),
     "hall.areas.a: clear_at (5) must be below raise_at (5)"),
    (_hall({"a": {"rect": [0, 0, 1, 1], "raise_at": 0}}),
     "hall.areas.a.raise_at: Input should be greater than or equal to 1"),
    (_hall({"a": {"rect": [0, 0, 1, 1], "raise_at": 3, "colour": "red"}}),
     "hall.areas.a.colour: unknown key"),
    (_hall({}), "hall.areas: Dictionary should have at least 1 item"),
    (_hall({"a": {"rect": [0, 0, 1, 1], "raise_at": 3}}, count_every_s=0),
     "hall.count_every_s: Input should be greater than or equal to 0.2"),
    ({"camera": CAMERA, "role": "hall"}, 'role = "hall" needs a [hall] section'),
    ({"camera": CAMERA, "hall": {}}, 'a [hall] section needs role = "hall"'),
    ({"camera": CAMERA, "role": "lobby"}, "role: Input should be 'counter' or 'hall'"),
])
def test_bad_hall_config_is_named(data: dict[str, Any], problem: str) -> None:
    problems = _problems(data)
    assert any(p.startswith(problem) for p in problems), problems
