"""Window states in the unit's config (unit.toml, HQ's pushed schedule) and on
``counterunit status``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from firmware.config.from_hq import merge, parse_hq_config
from firmware.config.unit import ConfigError, parse_config
from firmware.machine.model import AnnounceWindowState, CounterState, Rules, WindowStateRequested
from firmware.machine.step import step
from firmware.status.publish import unit_snapshot
from firmware.status.report import build_report
from tests.unit.firmware.status.test_status_report import (
    NOW,
    config,
    probes,
    screen,
    unit_doc,
    write_status,
)

LUNCH = {"state": "closed", "days": ["mon", "tue"], "start": "12:00", "end": "12:30",
         "note": "lunch"}


def test_hq_schedule_carries_planned_periods() -> None:
    doc = parse_hq_config(json.dumps({"version": "v9", "schedule": {
        "shifts": [{"days": ["mon"], "start": "09:00", "end": "17:00"}],
        "states": [LUNCH]}}).encode())
    cfg, sections = merge(config(Path("/tmp/x"), sync=False), doc)
    assert sections == ["schedule"]
    assert [(p.state, p.start, p.note) for p in cfg.schedule.states] == [
        ("closed", dt.time(12, 0), "lunch")]


@pytest.mark.parametrize(("period", "needle"), [
    ({**LUNCH, "end": "11:00"}, "schedule.states.0"),
    ({**LUNCH, "state": "lunch"}, "schedule.states.0.state"),
    ({**LUNCH, "colour": "red"}, "schedule.states.0.colour"),
])
def test_a_bad_planned_period_is_refused_naming_it(period: dict[str, object],
                                                   needle: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_hq_config(json.dumps({"schedule": {"states": [period]}}).encode())
    assert any(needle in p for p in exc.value.problems), exc.value.problems


def test_state_cards_in_unit_toml() -> None:
    cfg = parse_config({"camera": {"type": "file", "path": "c.mp4"}, "window_states": {
        "cards": [{"uid": "04:A1:B2:C3", "state": "away"}]}})
    assert cfg.window_states.card_state("04a1b2c3") == "away"
    with pytest.raises(ConfigError) as exc:
        parse_config({"camera": {"type": "file", "path": "c.mp4"}, "window_states": {
            "cards": [{"uid": "xyz", "state": "away"}]}})
    assert any(p.startswith("window_states.cards.0.uid") for p in exc.value.problems)


def test_status_shows_the_window_state(tmp_path: Path) -> None:
    state = CounterState(id_prefix="s")
    for now, inp in ((0.0, AnnounceWindowState()),
                     (60.0, WindowStateRequested("closed", "keypad"))):
        state, _ = step(state, inp, now, Rules())
    snap = unit_snapshot(state, 120.0, lambda t: NOW - dt.timedelta(seconds=120 - t),
                         last_frame_t=119.8, clock_synced=True)
    assert snap["window_state"] == {"state": "closed", "source": "keypad", "note": "",
                                    "since_utc": (NOW - dt.timedelta(seconds=60)).isoformat(
                                        timespec="seconds")}
    write_status(tmp_path, unit_doc(1, window_state=snap["window_state"]))
    text = " ".join(screen(build_report(config(tmp_path, sync=False), probes())).split())
    assert "window temporarily closed (keypad) since" in text
