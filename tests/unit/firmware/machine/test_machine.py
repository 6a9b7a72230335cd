"""Table tests of the pure counter state machine: inputs at times -> emitted events."""

from __future__ import annotations

import pytest

from firmware.machine.model import (
    Action,
    BadgeTapped,
    CounterOpenChanged,
    CounterState,
    Emit,
    Input,
    KeyPressed,
    ManualRecordPressed,
    PleaseRatePressed,
    PresenceChanged,
    PromptRating,
    Rules,
    ShowMessage,
    ShowStaff,
    Shutdown,
    Staff,
    StartClip,
    StopClip,
    ThankYou,
    Tick,
)
from firmware.machine.step import step

ANN = Staff("s1", "Ann Li", "1001", "p1")
BOB = Staff("s2", "Bob Wu", "1002", "p2")
RULES = Rules()


def seat(present: bool, at: float, previous: bool | None = True) -> PresenceChanged:
    return PresenceChanged("seat", present, at, previous)


def cust(present: bool, at: float) -> PresenceChanged:
    return PresenceChanged("customer", present, at, not present)


def run(script: list[tuple[float, Input]], rules: Rules = RULES,
        state: CounterState | None = None) -> tuple[CounterState, list[Action]]:
    state = state or CounterState(id_prefix="x")
    out: list[Action] = []
    for now, inp in script:
        state, actions = step(state, inp, now, rules)
        out += actions
    return state, out


def emitted(actions: list[Action]) -> list[str]:
    return [a.type for a in actions if isinstance(a, Emit)]


def events(actions: list[Action], kind: str) -> list[Emit]:
    return [a for a in actions if isinstance(a, Emit) and a.type == kind]


SEATED = [(0.0, seat(True, 0.0, None))]

CASES: dict[str, tuple[list[tuple[float, Input]], list[str]]] = {
    "login": ([(1, BadgeTapped("h1", ANN))], ["login"]),
    "login then logout by second tap": (
        [(1, BadgeTapped("h1", ANN)), (9, BadgeTapped("h1", ANN))], ["login", "logout"]),
    "switch to another staff": (
        [(1, BadgeTapped("h1", ANN)), (9, BadgeTapped("h2", BOB))],
        ["login", "logout", "login"]),
    "unknown badge refused": ([(1, BadgeTapped("zz", None))], ["badge_refused"]),
    "start-up empty seat is not an absence": ([(2, seat(False, 0.0, None))], []),
    "start-up occupied seat": ([(2, seat(True, 0.0, None))], []),
    "absence after being seated": (
        [*SEATED, (65, seat(False, 60)), (130, seat(True, 125))],
        ["absence_started", "absence_ended"]),
    "short absence raises no alert": (
        [*SEATED, (65, seat(False, 60)), (150, Tick()), (160, seat(True, 155))],
        ["absence_started", "absence_ended"]),
    "off-seat alert levels then clear": (
        [*SEATED, (10, seat(False, 5)), (124, Tick()), (126, Tick()), (306, Tick()),
                 (606, Tick()), (700, Tick()), (800, seat(True, 795))],
        ["absence_started", "alert_raised", "alert_raised", "alert_raised",
         "absence_ended", "alert_cleared"]),
    "level jump raises each level once": (
        [*SEATED, (10, seat(False, 5)), (700, Tick()), (701, Tick())],
        ["absence_started", "alert_raised", "alert_raised", "alert_raised"]),
    "closed counter: no alert and no transaction": (
        [*SEATED, (1, CounterOpenChanged(False)), (10, seat(False, 5)), (700, Tick()),
                 (710, cust(True, 705))],
        ["counter_closed", "absence_started"]),
    "transaction then rating": (
        [(12, cust(True, 10)), (64, cust(False, 60)), (66, KeyPressed(4))],
        ["transaction_started", "transaction_ended", "rating_prompted", "rating"]),
    "rating timeout": (
        [(12, cust(True, 10)), (64, cust(False, 60)), (73, Tick()), (74, Tick()), (80, Tick())],
        ["transaction_started", "transaction_ended", "rating_prompted", "rating"]),
    "double press: second ignored": (
        [(12, cust(True, 10)), (64, cust(False, 60)), (66, KeyPressed(5)), (67, KeyPressed(1))],
        ["transaction_started", "transaction_ended", "rating_prompted", "rating",
         "key_ignored"]),
    "invalid key then valid key": (
        [(12, cust(True, 10)), (64, cust(False, 60)), (65, KeyPressed(9)), (66, KeyPressed(3))],
        ["transaction_started", "transaction_ended", "rating_prompted", "key_invalid",
         "rating"]),
    "press with no prompt": ([(5, KeyPressed(3))], ["key_ignored"]),
    "dissatisfied raises alert": (
        [(12, cust(True, 10)), (64, cust(False, 60)), (66, KeyPressed(1))],
        ["transaction_started", "transaction_ended", "rating_prompted", "rating",
         "alert_raised"]),
    "please rate during transaction": (
        [(12, cust(True, 10)), (30, PleaseRatePressed()), (32, KeyPressed(5))],
        ["transaction_started", "rating_prompted", "rating"]),
    "manual record toggles": (
        [(5, ManualRecordPressed()), (50, ManualRecordPressed())],
        ["manual_recording_started", "manual_recording_ended"]),
    "shutdown ends what is open": (
        [*SEATED, (10, seat(False, 5)), (20, cust(True, 18)), (30, Shutdown())],
        ["absence_started", "transaction_started", "transaction_ended", "absence_ended"]),
}


@pytest.mark.parametrize("script,expected", CASES.values(), ids=CASES.keys())
def test_emitted_event_sequence(script: list[tuple[float, Input]], expected: list[str]) -> None:
    _, actions = run(script)
    assert emitted(actions) == expected


RATING_CASES = {
    # name: (script after a transaction ended at 60 and the prompt at 64, outcome, rating, suspect)
    "rated": ([(66, KeyPressed(4))], "rated", 4, False),
    "timeout": ([(75, Tick())], "timeout", None, False),
    "invalid only": ([(65, KeyPressed(42)), (75, Tick())], "invalid", None, False),
    "press just before the deadline counts": ([(73.9, KeyPressed(5))], "rated", 5, False),
    "press after the deadline does not": (
        [(74.0, Tick()), (74.5, KeyPressed(5))], "timeout", None, False),
}


@pytest.mark.parametrize("tail,outcome,rating,suspect", RATING_CASES.values(),
                         ids=RATING_CASES.keys())
def test_rating_outcomes(tail: list[tuple[float, Input]], outcome: str, rating: int | None,
                         suspect: bool) -> None:
    _, actions = run([(12, cust(True, 10)), (64, cust(False, 60)), *tail])
    (ev,) = events(actions, "rating")
    assert (ev.data["outcome"], ev.data["rating"], ev.data["suspect"]) == (outcome, rating, suspect)
    assert ev.data["txn_id"] == "x-t1"


def test_suspect_when_no_customer_was_seen() -> None:
    _, actions = run([(5, PleaseRatePressed()), (7, KeyPressed(5))])
    (ev,) = events(actions, "rating")
    assert ev.data["suspect"] is True and ev.data["txn_id"] is None


@pytest.mark.parametrize("press_at,txn_id", [(70.0, "x-t1"), (80.0, None)])
def test_staff_prompt_after_a_visit_belongs_to_it_only_while_the_customer_may_be_there(
        press_at: float, txn_id: str | None) -> None:
    _, actions = run([(12, cust(True, 10)), (64, cust(False, 60)), (66, KeyPressed(4)),
                      (press_at, PleaseRatePressed()), (press_at + 1, KeyPressed(5))])
    second = events(actions, "rating")[1]
    assert second.data["txn_id"] == txn_id
    assert second.data["suspect"] is (txn_id is None)


def test_first_valid_key_counts_and_thanks() -> None:
    _, actions = run([(12, cust(True, 10)), (64, cust(False, 60)), (65, KeyPressed(2)),
                      (66, KeyPressed(5))])
    assert [e.data["rating"] for e in events(actions, "rating")] == [2]
    assert sum(isinstance(a, ThankYou) for a in actions) == 1


def test_transaction_times_are_backdated_and_clip_has_rolls() -> None:
    rules = Rules(pre_roll_s=3, post_roll_s=5)
    _, actions = run([(12, cust(True, 10)), (64, cust(False, 60))], rules)
    start, end = events(actions, "transaction_started")[0], events(actions, "transaction_ended")[0]
    assert (start.t, end.t, end.data["duration_s"]) == (10, 60, 50)
    assert StartClip("x-t1", "transaction", 7) in actions
    assert StopClip("x-t1", 65) in actions
    assert PromptRating(10.0) in actions


def test_transaction_carries_logged_in_staff() -> None:
    _, actions = run([(1, BadgeTapped("h", ANN)), (12, cust(True, 10)), (64, cust(False, 60)),
                      (66, KeyPressed(5))])
    assert events(actions, "transaction_started")[0].data["staff_id"] == "s1"
    assert events(actions, "rating")[0].data["staff_id"] == "s1"
    assert ShowStaff(ANN) in actions


def test_unknown_badge_shows_message() -> None:
    _, actions = run([(1, BadgeTapped("zz", None))])
    assert any(isinstance(a, ShowMessage) for a in actions)


def test_off_seat_clip_spans_absence() -> None:
    _, actions = run([*SEATED, (10, seat(False, 5)), (80, seat(True, 75))])
    assert StartClip("x-a1-clip", "off_seat", 2.0) in actions
    assert StopClip("x-a1-clip", 80.0) in actions


def test_ids_never_repeat_and_follow_prefix() -> None:
    state, actions = run([(12, cust(True, 10)), (64, cust(False, 60)), (72, cust(True, 70)),
                          (90, cust(False, 88))])
    ids = [e.data["txn_id"] for e in events(actions, "transaction_started")]
    assert ids == ["x-t1", "x-t2"]
    assert state.next_n == 3
