"""Crowd raise/clear per area: hold, hysteresis, cuts (firmware/hall/density.py), by hand."""

from __future__ import annotations

import pytest

from firmware.hall.density import AreaState, DensityRule, step

RULE = DensityRule(raise_at=5, clear_at=2, raise_hold_s=3.0, clear_hold_s=2.0)

# (t, count, change expected at that count) -- worked by hand from the rule above.
SEQUENCE = [
    (0, 5, None),        # at the threshold: pending since 0
    (1, 6, None),
    (2, 4, None),        # below: the pending period is cut
    (3, 5, None),        # pending again since 3
    (4, 5, None),
    (5, 5, None),        # 2 s held of 3
    (6, 5, "raised"),    # 3 s held
    (7, 8, None),        # peak 8
    (8, 3, None),        # below raise_at but above clear_at: the hysteresis band, stays raised
    (9, 2, None),        # at clear_at: pending clear since 9
    (10, 3, None),       # back above clear_at: cut
    (11, 1, None),       # pending clear since 11
    (12, 0, None),
    (13, 2, "cleared"),  # 2 s held at or below clear_at
    (14, 9, None),       # a new crowd starts pending again
]


def test_sequence_raises_and_clears_where_worked_by_hand() -> None:
    state = AreaState()
    got = []
    for t, count, _ in SEQUENCE:
        state, change = step(state, count, float(t), RULE)
        got.append(change)
        if t == 8:
            assert state.raised and state.peak == 8
    assert got == [c for _, _, c in SEQUENCE]
    assert state == AreaState(raised=False, pending_since=14.0)


@pytest.mark.parametrize(("rule", "counts", "expected"), [
    # hold 0: the first count at the threshold raises at once
    (DensityRule(3, 1, 0.0, 0.0), [3], ["raised"]),
    # hold 0 clears at the first quiet count too
    (DensityRule(3, 1, 0.0, 0.0), [3, 1], ["raised", "cleared"]),
    # never reaching raise_at never raises, however long
    (DensityRule(3, 1, 1.0, 1.0), [2, 2, 2, 2], [None, None, None, None]),
    # one count short of the hold is no crowd
    (DensityRule(3, 1, 2.0, 1.0), [3, 3, 2, 3, 3], [None, None, None, None, None]),
])
def test_table(rule: DensityRule, counts: list[int], expected: list[str | None]) -> None:
    state = AreaState()
    got = []
    for t, c in enumerate(counts):
        state, change = step(state, c, float(t), rule)
        got.append(change)
    assert got == expected


@pytest.mark.parametrize(("raise_at", "clear_at"), [(3, 3), (3, 4), (0, 0)])
def test_rule_needs_a_hysteresis_gap(raise_at: int, clear_at: int) -> None:
    with pytest.raises(ValueError, match="clear_at < raise_at"):
        DensityRule(raise_at, clear_at)
