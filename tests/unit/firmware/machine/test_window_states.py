"""Window states (docs/window-states.md): precedence and effects, table-first.

Each case is a script of (unit time, input) and the expected sequence of window states
announced (``window_state`` events' ``state``) and of other events.
"""

from __future__ import annotations

import datetime as dt

import pytest

from firmware.config.window import StatePeriod, WindowStatesConfig
from firmware.daemon.schedule import planned_setting, scheduled_state
from firmware.machine.model import (
    Action,
    AnnounceWindowState,
    BadgeTapped,
    CounterOpenChanged,
    CounterState,
    Emit,
    Input,
    PlannedStateChanged,
    PresenceChanged,
    Rules,
    ShowWindowState,
    Shutdown,
    Staff,
    StateSetting,
    Tick,
    WindowStateRequested,
    WindowStates,
)
from firmware.machine.step import step
from firmware.machine.window_step import resolve

ANN = Staff("s1", "Ann Li", "1001")
RULES = Rules()  # off-seat alert levels at 120 / 300 / 600 s


def key(state: str) -> WindowStateRequested:
    return WindowStateRequested(state, "keypad")  # type: ignore[arg-type]


def card(state: str) -> WindowStateRequested:
    return WindowStateRequested(state, "card", toggle=True)  # type: ignore[arg-type]


def plan(state: str | None, since: float = 0.0) -> PlannedStateChanged:
    if state is None:
        return PlannedStateChanged(None)
    return PlannedStateChanged(StateSetting(state, since, "schedule"))  # type: ignore[arg-type]


def seat(present: bool, at: float) -> PresenceChanged:
    return PresenceChanged("seat", present, at, not present)


START: list[tuple[float, Input]] = [(0.0, AnnounceWindowState()),
                                   (0.0, PresenceChanged("seat", True, 0.0, None))]


def run(script: list[tuple[float, Input]]) -> tuple[CounterState, list[Action]]:
    state, out = CounterState(id_prefix="w"), []
    for now, inp in script:
        state, actions = step(state, inp, now, RULES)
        out += actions
    return state, out


def states(actions: list[Action]) -> list[tuple[str, str]]:
    return [(a.data["state"], a.data["source"]) for a in actions
            if isinstance(a, Emit) and a.type == "window_state"]


# name: (script after START, expected (state, source) of each window_state after "start")
PRECEDENCE: dict[str, tuple[list[tuple[float, Input]], list[tuple[str, str]]]] = {
    "keypad closes and opens": (
        [(10, key("closed")), (20, key("open"))],
        [("closed", "keypad"), ("open", "default")]),
    "keypad away then closed": (
        [(10, key("away")), (20, key("closed"))], [("away", "keypad"), ("closed", "keypad")]),
    "same key twice is one change": ([(10, key("closed")), (11, key("closed"))],
                                     [("closed", "keypad")]),
    "card toggles: tap closes, second tap opens": (
        [(10, card("closed")), (20, card("closed"))], [("closed", "card"), ("open", "default")]),
    "away card while closed: away, not open": (
        [(10, card("closed")), (20, card("away"))], [("closed", "card"), ("away", "card")]),
    "planned period closes and ends": (
        [(10, plan("closed", 10)), (70, plan(None))],
        [("closed", "schedule"), ("open", "default")]),
    "planned period beginning overrides an earlier key": (
        [(10, key("away")), (20, plan("closed", 20)), (80, plan(None))],
        [("away", "keypad"), ("closed", "schedule"), ("away", "keypad")]),
    "key during a planned period wins (staff open early)": (
        [(10, plan("closed", 10)), (30, key("open")), (70, plan(None))],
        [("closed", "schedule"), ("open", "keypad")]),  # its end changes nothing
    "the open override ends with its period": (
        [(10, plan("closed", 10)), (30, key("open")), (70, plan(None)), (90, plan("away", 90))],
        [("closed", "schedule"), ("open", "keypad"), ("away", "schedule")]),
    "away keyed during lunch outlives it": (
        [(10, plan("closed", 10)), (30, key("away")), (70, plan(None))],
        [("closed", "schedule"), ("away", "keypad")]),
    "a period the unit joined late still began before the key": (
        [(10, key("closed")), (20, plan("away", 5))], [("closed", "keypad")]),
    "outside opening hours: off, keys ignored, keyed state dropped": (
        [(10, key("closed")), (20, CounterOpenChanged(False)), (30, key("away")),
         (40, CounterOpenChanged(True))],
        [("closed", "keypad"), ("off", "hours"), ("open", "default")]),
    "planned period survives the hours change": (
        [(10, plan("closed", 10)), (20, CounterOpenChanged(False)), (40, CounterOpenChanged(True))],
        [("closed", "schedule"), ("off", "hours"), ("closed", "schedule")]),
    "shutdown ends the announced state": (
        [(10, key("away")), (20, Shutdown())], [("away", "keypad"), ("off", "shutdown")]),
}


@pytest.mark.parametrize("script,expected", PRECEDENCE.values(), ids=PRECEDENCE.keys())
def test_precedence(script: list[tuple[float, Input]], expected: list[tuple[str, str]]) -> None:
    _, actions = run([*START, *script])
    got = states(actions)
    assert got[0] == ("open", "start")
    assert got[1:] == expected


def test_resolve_table() -> None:
    k = StateSetting("closed", 10.0, "keypad")
    p = StateSetting("away", 10.0, "schedule")
    later = StateSetting("away", 11.0, "schedule")
    table = [
        (WindowStates(), True, "open"),
        (WindowStates(manual=k), True, "closed"),
        (WindowStates(planned=p), True, "away"),
        (WindowStates(manual=k, planned=p), True, "closed"),  # equal times: staff win
        (WindowStates(manual=k, planned=later), True, "away"),  # the later one wins
        (WindowStates(manual=k, announced=True), False, "off"),
        (WindowStates(manual=k, announced=False), False, "closed"),  # nobody told yet
    ]
    for ws, counter_open, want in table:
        assert resolve(ws, counter_open)[0] == want, (ws, counter_open)


def test_closed_then_leaving_raises_no_off_seat_alert() -> None:
    _, actions = run([*START, (10, key("closed")), (20, seat(False, 15)), (900, Tick()),
                      (1000, seat(True, 995)), (1010, key("open"))])
    types = [a.type for a in actions if isinstance(a, Emit)]
    assert "absence_started" not in types and "alert_raised" not in types
    assert [a.state for a in actions if isinstance(a, ShowWindowState)] == ["closed", "open"]


def test_an_ongoing_absence_that_becomes_away_ends_cleanly() -> None:
    state, actions = run([*START, (1, BadgeTapped("h", ANN)), (10, seat(False, 5)),
                          (130, Tick()), (200, key("away")), (900, Tick())])
    ended = [a for a in actions if isinstance(a, Emit) and a.type == "absence_ended"]
    cleared = [a for a in actions if isinstance(a, Emit) and a.type == "alert_cleared"]
    raised = [a for a in actions if isinstance(a, Emit) and a.type == "alert_raised"]
    assert [a.data["level"] for a in raised] == [1]  # 125 s away: level 1 only, none later
    assert ended[0].t == 200 and ended[0].data["reason"] == "window_away"
    assert ended[0].data["duration_s"] == 195.0 and ended[0].data["max_level"] == 1
    assert cleared[0].data["absence_id"] == ended[0].data["absence_id"]
    assert state.absence is None


def test_opening_with_an_empty_seat_starts_the_absence_then() -> None:
    _, actions = run([*START, (10, key("closed")), (20, seat(False, 15)),
                      (100, key("open")), (225, Tick())])
    started = [a for a in actions if isinstance(a, Emit) and a.type == "absence_started"]
    raised = [a for a in actions if isinstance(a, Emit) and a.type == "alert_raised"]
    assert [a.t for a in started] == [100]
    assert [a.data["away_s"] for a in raised] == [125.0]


def test_time_is_counted_for_the_staff_logged_in_else_who_keyed() -> None:
    _, actions = run([*START, (1, BadgeTapped("h", ANN)), (10, key("away")),
                      (20, BadgeTapped("h", ANN))])
    ws = [a.data for a in actions if isinstance(a, Emit) and a.type == "window_state"]
    assert [(d["state"], d["staff_id"], d["held_s"]) for d in ws] == [
        ("open", None, 0.0), ("open", "s1", 1.0), ("away", "s1", 0.0)]
    # Logging out keeps the state and its owner: no re-attribution event needed.
    assert ws[-1]["set_by"] == "s1"


WEEKDAY = dt.datetime(2026, 12, 7, 12, 30)  # a Monday


@pytest.mark.parametrize("periods,local,want", [
    ([], WEEKDAY, None),
    ([{"state": "closed", "days": ["mon"], "start": "12:00", "end": "13:00"}], WEEKDAY,
     ("closed", "12:00")),
    ([{"state": "closed", "days": ["tue"], "start": "12:00", "end": "13:00"}], WEEKDAY, None),
    ([{"state": "closed", "days": ["mon"], "start": "12:00", "end": "12:30"}], WEEKDAY, None),
    ([{"state": "away", "date": "2026-12-07", "start": "09:00", "end": "17:00"},
      {"state": "closed", "days": ["mon"], "start": "12:00", "end": "13:00"}], WEEKDAY,
     ("closed", "12:00")),  # the later-begun period wins
    ([{"state": "away", "date": "2026-12-08", "start": "09:00", "end": "17:00"}], WEEKDAY, None),
])
def test_scheduled_state(periods: list[dict[str, object]], local: dt.datetime,
                         want: tuple[str, str] | None) -> None:
    got = scheduled_state([StatePeriod.model_validate(p) for p in periods], local)
    assert (None if got is None else (got[0], got[1].strftime("%H:%M"))) == want


def test_planned_setting_begins_at_the_period_start() -> None:
    p = StatePeriod.model_validate({"state": "closed", "days": ["mon"], "start": "12:00",
                                    "end": "13:00", "note": "lunch"})
    key_, setting = planned_setting([p], WEEKDAY, now=5000.0)
    assert key_ == ("closed", "2026-12-07T12:00:00")
    assert setting == StateSetting("closed", 5000.0 - 1800.0, "schedule", None, "lunch")


@pytest.mark.parametrize("doc,needle", [
    ({"state": "closed", "start": "12:00", "end": "13:00"}, "either days"),
    ({"state": "closed", "days": ["mon"], "date": "2026-12-07", "start": "12:00",
      "end": "13:00"}, "either days"),
    ({"state": "closed", "days": ["mon"], "start": "13:00", "end": "12:00"}, "after start"),
    ({"state": "open", "days": ["mon"], "start": "12:00", "end": "13:00"}, "state"),
])
def test_bad_periods_are_refused(doc: dict[str, object], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        StatePeriod.model_validate(doc)


def test_state_cards() -> None:
    cfg = WindowStatesConfig.model_validate({"cards": [{"uid": "04:a1:b2:c3", "state": "closed"}]})
    assert cfg.card_state("04A1B2C3") == "closed"
    assert cfg.card_state("04A1B2C4") is None and cfg.card_state("not a uid") is None
    with pytest.raises(ValueError, match="once"):
        WindowStatesConfig.model_validate({"cards": [{"uid": "04A1B2C3", "state": "closed"},
                                                     {"uid": "04a1b2c3", "state": "away"}]})
