"""hal.keypad.rating_gate: which presses may become a rating, table-first."""

from __future__ import annotations

import pytest

from hal.keypad.protocol import VERSION, VERSION_2, Key, RatingKey
from hal.keypad.rating_gate import RatingGate

P = 7  # the open prompt's sequence number; opened at t=0 for 10 s


@pytest.mark.parametrize(("press", "version", "now", "held"), [
    (RatingKey(5, P), VERSION_2, 2.0, None),  # the answer to the open prompt
    (RatingKey(5, P - 1), VERSION_2, 2.0, "wrong_prompt"),  # a late answer to the last one
    (Key(5), VERSION_2, 2.0, "no_prompt"),  # a plain KEY while the prompt is open
    (RatingKey(5, P), VERSION_2, 10.9, None),  # within the line's grace after the timeout
    (RatingKey(5, P), VERSION_2, 11.1, None),  # the prompt timed out: passes, rates nothing
    (Key(5), VERSION, 2.0, None),  # a version-1 keypad: the unit's window decides alone
])
def test_one_press(press: Key | RatingKey, version: int, now: float, held: str | None) -> None:
    gate = RatingGate()
    gate.prompted(P, 0.0, 10.0)
    assert gate.admit(press, version=version, now=now) == held


def test_only_the_first_answer_rates_and_close_ends_the_prompt() -> None:
    gate = RatingGate()
    gate.prompted(P, 0.0, 10.0)
    assert gate.admit(RatingKey(4, P), version=VERSION_2, now=1.0) is None
    assert gate.prompt is None  # a second press finds no prompt open: no rating
    gate.prompted(P + 1, 20.0, 10.0)
    gate.close()  # THANK_YOU
    assert gate.prompt is None
    assert (gate.stats.admitted, gate.stats.wrong_prompt) == (1, 0)


def test_min_reaction_holds_an_instant_press() -> None:
    gate = RatingGate(min_reaction_s=0.2)
    gate.prompted(P, 0.0, 10.0)
    assert gate.admit(RatingKey(5, P), version=VERSION_2, now=0.1) == "outside_window"
    assert gate.admit(RatingKey(5, P), version=VERSION_2, now=0.3) is None
