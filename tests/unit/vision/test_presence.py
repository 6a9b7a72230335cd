"""Presence hysteresis, table-first: observation strings in, decided changes out.

Each character is one observation, 0.5 s apart, starting at t=0 ('1' seen,
'0' not seen). Dwell 1.0 s, hold 1.5 s unless a case says otherwise.
"""

from __future__ import annotations

import pytest

from vision.presence import (
    PresenceChange,
    PresenceError,
    PresenceParams,
    PresenceTracker,
    TrackerState,
    intervals,
    step,
)

DT = 0.5
P = PresenceParams(enter_dwell_s=1.0, exit_hold_s=1.5)


def run(observations: str, params: PresenceParams = P) -> list[tuple[bool, bool | None, float,
                                                                    float]]:
    tracker = PresenceTracker("z", params)
    out = []
    for i, ch in enumerate(observations):
        change = tracker.update(ch == "1", i * DT)
        if change is not None:
            out.append((change.present, change.previous, change.at, change.decided_at))
    return out


@pytest.mark.parametrize(
    ("case", "observations", "expected"),
    [
        ("nothing decided before the hold", "000", []),
        ("start-up empty is a change from unknown", "0000", [(False, None, 0.0, 1.5)]),
        ("start-up present is a change from unknown", "111", [(True, None, 0.0, 1.0)]),
        ("start-up: short positive run then empty", "1100000",
         [(False, None, 1.0, 2.5)]),
        ("arrival backdated to first positive of the run", "0000111",
         [(False, None, 0.0, 1.5), (True, False, 2.0, 3.0)]),
        ("passer shorter than dwell never counts", "00001100000",
         [(False, None, 0.0, 1.5)]),
        ("a negative restarts the dwell", "0000110111",
         [(False, None, 0.0, 1.5), (True, False, 3.5, 4.5)]),
        ("dropout shorter than exit hold is ignored", "11100111",
         [(True, None, 0.0, 1.0)]),
        ("departure backdated to last positive", "1110000",
         [(True, None, 0.0, 1.0), (False, True, 1.0, 2.5)]),
        ("dropout as long as the hold is a departure", "111000111",
         [(True, None, 0.0, 1.0), (False, True, 1.0, 2.5), (True, False, 3.0, 4.0)]),
        ("two visits", "0000111100001111",
         [(False, None, 0.0, 1.5), (True, False, 2.0, 3.0), (False, True, 3.5, 5.0),
          (True, False, 6.0, 7.0)]),
    ],
)
def test_hysteresis_table(case: str, observations: str, expected: list) -> None:
    assert run(observations) == expected, case


@pytest.mark.parametrize(
    ("params", "observations", "expected"),
    [
        (PresenceParams(0.0, 0.0), "10", [(True, None, 0.0, 0.0), (False, True, 0.0, 0.5)]),
        (PresenceParams(0.0, 0.0), "0", [(False, None, 0.0, 0.0)]),
        (PresenceParams(2.0, 0.5), "11110", []),
        (PresenceParams(2.0, 0.5), "111100", [(False, None, 2.0, 2.5)]),
        (PresenceParams(2.0, 0.5), "111110", [(True, None, 0.0, 2.0), (False, True, 2.0, 2.5)]),
    ],
)
def test_edge_parameters(params: PresenceParams, observations: str, expected: list) -> None:
    assert run(observations, params) == expected


def test_initial_decision_is_neither_arrival_nor_departure() -> None:
    empty = PresenceChange("z", False, None, 0.0, 1.5)
    assert empty.is_initial and not empty.is_departure and not empty.is_arrival
    came = PresenceChange("z", True, False, 2.0, 3.0)
    assert came.is_arrival and not came.is_initial
    left = PresenceChange("z", False, True, 2.0, 3.0)
    assert left.is_departure and not left.is_initial


def test_state_is_unknown_until_first_decision() -> None:
    tracker = PresenceTracker("z", P)
    assert tracker.present is None
    tracker.update(False, 0.0)
    tracker.update(False, 1.0)
    assert tracker.present is None
    tracker.update(False, 1.5)
    assert tracker.present is False


def test_frame_times_with_float_error_still_reach_the_dwell() -> None:
    tracker = PresenceTracker("z", PresenceParams(enter_dwell_s=2.0, exit_hold_s=3.0))
    changes = [tracker.update(True, i * 0.2) for i in range(11)]  # 10 * 0.2 = 1.9999999
    assert changes[-1] is not None and changes[-1].at == 0.0


def test_now_sets_decided_at_for_late_observations() -> None:
    state = TrackerState()
    state, _ = step(state, True, 0.0, P, "z", now=0.8)
    state, change = step(state, True, 1.0, P, "z", now=1.8)
    assert change == PresenceChange("z", True, None, 0.0, 1.8)


def test_out_of_order_observation_is_rejected() -> None:
    tracker = PresenceTracker("z", P)
    tracker.update(True, 5.0)
    with pytest.raises(PresenceError, match="older"):
        tracker.update(True, 4.0)


@pytest.mark.parametrize(("dwell", "hold"), [(-1.0, 1.0), (1.0, -0.1), (1.0, 1e6)])
def test_params_are_validated(dwell: float, hold: float) -> None:
    with pytest.raises(PresenceError):
        PresenceParams(dwell, hold)


@pytest.mark.parametrize(
    ("changes", "end", "expected"),
    [
        ([], 10.0, []),
        ([PresenceChange("z", False, None, 0, 3)], 10.0, []),
        ([PresenceChange("z", True, None, 0, 2)], 10.0, [(0, 10.0)]),
        ([PresenceChange("z", True, None, 0, 2), PresenceChange("z", False, True, 4, 7),
          PresenceChange("z", True, False, 8, 9)], 10.0, [(0, 4), (8, 10.0)]),
    ],
)
def test_intervals(changes: list[PresenceChange], end: float, expected: list) -> None:
    assert intervals(changes, end) == expected
