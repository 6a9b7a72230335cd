"""Identity-aware presence (vision/track/identity.py), table-tested at 5 fps.

Each row is a timeline of segments (start, end, who) where who is a person
label ("A", "B"), "?" (a person, appearance unknown) or None (nothing seen);
the expected changes are (present, previous, at, decided_at), hand-worked
from the rules: dwell 2 s, hold 8.5 s, identity checked after gaps >= 1 s,
start-up empty after 2 s.
"""

from __future__ import annotations

import numpy as np
import pytest

from vision.presence import PresenceError
from vision.track.identity import IdentityParams, IdentityTracker, same_person
from vision.track.signature import distance, signature

FPS = 5
PARAMS = IdentityParams(enter_dwell_s=2.0, hold_s=8.5, check_gap_s=1.0, startup_empty_s=2.0)


def _sig(rgb: tuple[int, int, int]) -> np.ndarray:
    thumb = np.zeros((8, 8, 3), np.float32)
    thumb[:] = rgb
    thumb[4:, :] = (rgb[0] // 2, rgb[1] // 2, rgb[2] // 2)  # a darker lower half
    out = signature(thumb, np.ones((8, 8), bool))
    assert out is not None
    return out


SIGS = {"A": _sig((200, 40, 40)), "B": _sig((40, 60, 200)), "?": None}


Timeline = list[tuple[float, float, str | None]]
Changes = list[tuple[bool, bool | None, float, float]]


def run(timeline: Timeline) -> Changes:
    tracker = IdentityTracker("customer", PARAMS)
    out: Changes = []
    end = timeline[-1][1]
    for i in range(round(end * FPS)):
        t = i / FPS
        who = next((w for s, e, w in timeline if s <= t < e), None)
        for c in tracker.update(who is not None, t, SIGS[who] if who else None):
            out.append((c.present, c.previous, round(c.at, 1), round(c.decided_at, 1)))
    return out


CASES: dict[str, tuple[Timeline, Changes]] = {
    "one visit, then empty: departure decided a hold after the last sighting": (
        [(0, 3, None), (3, 13, "A"), (13, 30, None)],
        [(False, None, 0.0, 2.0), (True, False, 3.0, 5.0), (False, True, 12.8, 21.4)]),
    "the same person unseen 6 s stays one visit": (
        [(0, 3, None), (3, 10, "A"), (10, 16, None), (16, 25, "A"), (25, 40, None)],
        [(False, None, 0.0, 2.0), (True, False, 3.0, 5.0), (False, True, 24.8, 33.4)]),
    "a different person 3 s later is the next visit, decided at once": (
        [(0, 3, None), (3, 10, "A"), (10, 13, None), (13, 25, "B"), (25, 40, None)],
        [(False, None, 0.0, 2.0), (True, False, 3.0, 5.0), (False, True, 9.8, 15.0),
         (True, False, 13.0, 15.0), (False, True, 24.8, 33.4)]),
    "the same person back after longer than the hold is a new visit": (
        [(0, 3, None), (3, 10, "A"), (10, 22, None), (22, 30, "A"), (30, 45, None)],
        [(False, None, 0.0, 2.0), (True, False, 3.0, 5.0), (False, True, 9.8, 18.4),
         (True, False, 22.0, 24.0), (False, True, 29.8, 38.4)]),
    "a short flicker shows someone else: no question asked under 1 s": (
        [(0, 3, None), (3, 10, "A"), (10, 10.6, None), (10.6, 11, "B"), (11, 20, "A"),
         (20, 35, None)],
        [(False, None, 0.0, 2.0), (True, False, 3.0, 5.0), (False, True, 19.8, 28.4)]),
    "someone passing in the gap for 1 s is no visit; the customer comes back": (
        [(0, 3, None), (3, 10, "A"), (10, 12, None), (12, 13, "B"), (13, 15, None),
         (15, 22, "A"), (22, 35, None)],
        [(False, None, 0.0, 2.0), (True, False, 3.0, 5.0), (False, True, 21.8, 30.4)]),
    "glimpses of the same person every 2 s keep the visit (no 2 s run needed)": (
        [(0, 3, None), (3, 10, "A"), *[(x, x + 0.4, "A") for x in range(12, 30, 2)],
         (30, 45, None)],
        [(False, None, 0.0, 2.0), (True, False, 3.0, 5.0), (False, True, 28.2, 36.8)]),
    "glimpses of someone else do not keep the visit": (
        [(0, 3, None), (3, 10, "A"), *[(x, x + 0.4, "B") for x in range(12, 30, 2)],
         (30, 45, None)],
        [(False, None, 0.0, 2.0), (True, False, 3.0, 5.0), (False, True, 9.8, 18.4)]),
    "appearance unknown: the hold alone decides (3 s gap bridged)": (
        [(0, 3, None), (3, 10, "?"), (10, 13, None), (13, 20, "?"), (20, 35, None)],
        [(False, None, 0.0, 2.0), (True, False, 3.0, 5.0), (False, True, 19.8, 28.4)]),
    "present at start-up: the first decision has no previous": (
        [(0, 6, "A"), (6, 20, None)],
        [(True, None, 0.0, 2.0), (False, True, 5.8, 14.4)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_identity_table(name: str) -> None:
    timeline, want = CASES[name]
    assert run(timeline) == want


def test_signatures_tell_people_apart_and_ignore_lighting() -> None:
    a, b = SIGS["A"], SIGS["B"]
    assert a is not None and b is not None
    assert distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert distance(a, b) > 0.5
    dim = np.zeros((8, 8, 3), np.float32)
    dim[:] = (100, 20, 20)
    dim[4:, :] = (50, 10, 10)
    dimmed = signature(dim, np.ones((8, 8), bool), gain=0.5)
    assert dimmed is not None and distance(a, dimmed) < 0.05
    assert signature(dim, np.zeros((8, 8), bool)) is None  # no foreground: no signature
    assert same_person(None, b, PARAMS) and not same_person(a, b, PARAMS)


def test_bad_params_and_out_of_order() -> None:
    with pytest.raises(PresenceError, match="hold_s"):
        IdentityParams(hold_s=-1)
    with pytest.raises(PresenceError, match="check_gap_s"):
        IdentityParams(hold_s=1.0, check_gap_s=2.0)
    tracker = IdentityTracker("seat")
    tracker.update(True, 5.0)
    with pytest.raises(PresenceError, match="older"):
        tracker.update(True, 4.0)


def test_end_of_stream_dates_the_departure_at_the_last_sighting() -> None:
    tracker = IdentityTracker("customer", PARAMS)
    for i in range(0, 40):  # seen 0..5 s (arrival at 0), then unseen until 7.8 s
        tracker.update(i < 26, i / FPS)
    (change,) = tracker.finish(7.8)
    assert (change.present, change.at, change.decided_at) == (False, 5.0, 7.8)
    assert tracker.finish(8.0) == []  # already gone
    still = IdentityTracker("customer", PARAMS)
    for i in range(0, 30):
        still.update(True, i / FPS)
    assert still.finish(6.0) == [] and still.present  # in view at the end: stays
