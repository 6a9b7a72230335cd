"""Passing through versus stopping (vision/track/identity.py arrival rule), at 5 fps.

Seen on opencv-doc's vtest.avi (tests/data/presence/): people walking across a
zone in 2-3 s were seen long enough for the 2 s dwell, so the dwell alone made
them visits. An arrival now also needs the person to stand still: their
foreground centre within ``settle_span`` (0.25 of the zone) for ``settle_s``
(1 s). Rows are timelines of (start, end, x) where x is the centre's position
across the zone (a float, or a (from, to) pair walked linearly over the
segment) or None (nobody); the expected changes (present, previous, at,
decided_at) are worked by hand: dwell 2 s, hold 8.5 s, start-up empty 2 s.
"""

from __future__ import annotations

import numpy as np
import pytest

from vision.presence import PresenceError
from vision.track.identity import IdentityParams, IdentityTracker
from vision.track.signature import HIST, position, signature

FPS = 5
PARAMS = IdentityParams(enter_dwell_s=2.0, hold_s=8.5, check_gap_s=1.0, startup_empty_s=2.0)

THUMB = np.zeros((8, 8, 3), np.float32)
THUMB[:] = (200, 40, 40)
BASE = signature(THUMB, np.ones((8, 8), bool))
assert BASE is not None


def _at(x: float) -> np.ndarray:
    assert BASE is not None
    sig = BASE.copy()
    sig[HIST:HIST + 2] = (x, 0.5)
    return sig


Where = float | tuple[float, float] | None
Timeline = list[tuple[float, float, Where]]
Changes = list[tuple[bool, bool | None, float, float]]


def _x(seg: tuple[float, float, Where], t: float) -> float | None:
    s, e, w = seg
    if w is None or isinstance(w, float):
        return w
    return w[0] + (w[1] - w[0]) * (t - s) / (e - s)


def run(timeline: Timeline, params: IdentityParams = PARAMS) -> Changes:
    tracker = IdentityTracker("customer", params)
    out: Changes = []
    for i in range(round(timeline[-1][1] * FPS)):
        t = i / FPS
        seg = next((g for g in timeline if g[0] <= t < g[1]), None)
        x = None if seg is None else _x(seg, t)
        for c in tracker.update(x is not None, t, None if x is None else _at(x)):
            out.append((c.present, c.previous, round(c.at, 1), round(c.decided_at, 1)))
    return out


EMPTY = (False, None, 0.0, 2.0)
CASES: dict[str, tuple[Timeline, Changes]] = {
    "walking across the zone in 3 s is no visit": (
        [(0, 3, None), (3, 6, (0.0, 1.0)), (6, 20, None)], [EMPTY]),
    "walking in for 1 s, then standing: the visit starts where the stillness does": (
        # x 0.9, .82, .74, .66, .58 at 3.0-3.8, then 0.5: still back to 3.4 (.74-.5 <= .25)
        [(0, 3, None), (3, 4, (0.9, 0.5)), (4, 15, 0.5), (15, 30, None)],
        [EMPTY, (True, False, 3.4, 5.0), (False, True, 14.8, 23.4)]),
    "someone moving about for 5 s arrives anyway (linger), dated at the run's start": (
        [(0, 3, None), *[(3 + k * 0.4, 3.4 + k * 0.4, 0.2 if k % 2 else 0.8)
                         for k in range(20)], (11, 25, None)],
        [EMPTY, (True, False, 3.0, 8.0), (False, True, 10.8, 19.4)]),
    "a walker, and 2 s later a customer who stops: one visit, the customer's": (
        [(0, 3, None), (3, 5, (1.0, 0.0)), (5, 7, None), (7, 20, 0.5), (20, 35, None)],
        [EMPTY, (True, False, 7.0, 9.0), (False, True, 19.8, 28.4)]),
    "standing still from the first frame: decided at the dwell, as before": (
        [(0, 3, None), (3, 13, 0.6), (13, 30, None)],
        [EMPTY, (True, False, 3.0, 5.0), (False, True, 12.8, 21.4)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_settle_table(name: str) -> None:
    timeline, want = CASES[name]
    assert run(timeline) == want


def test_no_stillness_asked_restores_the_dwell_alone() -> None:
    walker: Timeline = [(0, 3, None), (3, 6, (0.0, 1.0)), (6, 20, None)]
    params = IdentityParams(2.0, 8.5, 1.0, startup_empty_s=2.0, settle_s=0.0)
    assert run(walker, params) == [EMPTY, (True, False, 3.0, 5.0), (False, True, 5.8, 14.4)]


def test_settle_parameters_are_bounded() -> None:
    with pytest.raises(PresenceError, match=r"settle_span=1\.5 must be within"):
        IdentityParams(settle_span=1.5)
    with pytest.raises(PresenceError, match="linger_s=-1"):
        IdentityParams(linger_s=-1)


def test_signature_carries_the_foreground_centre() -> None:
    mask = np.zeros((8, 8), bool)
    mask[2:6, 0:3] = True  # columns 0-2, rows 2-5: 12 blocks
    sig = signature(THUMB, mask)
    assert sig is not None and sig.shape[0] == HIST + 2
    assert position(sig) == pytest.approx((1.5 / 8, 4.0 / 8))
    assert position(signature(THUMB, None)) is None  # no mask: position unknown
    assert position(None) is None
