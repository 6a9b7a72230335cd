"""Counting people from foreground (vision/hall): sizes, blobs, areas, the counter, scoring."""

from __future__ import annotations

import numpy as np
import pytest

from vision.hall.background import BackgroundParams
from vision.hall.blobs import find_blobs, people_in
from vision.hall.counter import CounterParams, HallCounter
from vision.hall.geometry import PersonScale, inside, rect
from vision.hall.score import score_counts
from vision.hall.truth import HallTruth, Sample, TruthError, parse_hall_truth

# Height 0.1 at the top row, 0.5 at the bottom: 0.3 at row 0.5; one person there covers
# 0.25 * 0.3^2 = 0.0225 of a square frame.
SCALE = PersonScale(far_row=0.0, far_height=0.1, near_row=1.0, near_height=0.5, fill=0.25)


@pytest.mark.parametrize(("row", "height"), [(0.5, 0.3), (0.0, 0.1), (1.0, 0.5), (1.2, 0.58),
                                             (-1.0, 0.02)])
def test_height_by_row(row: float, height: float) -> None:
    assert SCALE.height(row) == pytest.approx(height)


@pytest.mark.parametrize(("area", "people"), [
    (0.0225, 1), (0.045, 2), (0.0225 * 1.49, 1), (0.0225 * 1.51, 2), (0.0225 * 3, 3),
    (0.002, 0),      # share 0.09: noise, no one
    (0.003, 1),      # share 0.13: part of someone (cut by the frame), one
])
def test_people_in_a_blob(area: float, people: int) -> None:
    assert people_in(area, 0.5, 1.0, SCALE) == people


@pytest.mark.parametrize(("point", "expected"), [
    ((0.5, 0.5), True), ((0.05, 0.5), False), ((0.95, 0.95), False), ((0.3, 0.2), True),
])
def test_inside_polygon(point: tuple[float, float], expected: bool) -> None:
    triangle = ((0.1, 0.1), (0.9, 0.1), (0.5, 0.9))
    assert inside(point, triangle) is expected


def test_find_blobs_feet_and_areas() -> None:
    mask = np.zeros((10, 20), dtype=bool)
    mask[2:6, 1:3] = True          # 8 pixels, feet at row 6, centre x 2
    mask[4:10, 10:14] = True       # 24 pixels, cut by the bottom edge
    blobs = sorted(find_blobs(mask, min_pixels=1), key=lambda b: b.foot[0])
    assert [(b.foot, b.area) for b in blobs] == [((2 / 20, 6 / 10), 8 / 200),
                                                  ((12 / 20, 1.0), 24 / 200)]


def _frame(people: list[tuple[int, int]], grey: int = 128) -> np.ndarray:
    """120 x 160 grey frame with 30 x 10 dark 'people' whose feet are at (row, col)."""
    f = np.full((120, 160, 3), grey, dtype=np.uint8)
    for row, col in people:
        f[row - 30:row, col - 5:col + 5] = 20
    return f


# Constant height 0.25 (30 rows of 120); a 30 x 10 silhouette is 300 / 19200 of the frame
# = fill * 0.25^2 / (4/3) with fill 1/3.
FLAT = PersonScale(far_row=0.0, far_height=0.25, near_row=1.0, near_height=0.25, fill=1 / 3)


def _counter() -> HallCounter:
    areas = {"left": rect(0.0, 0.0, 0.5, 1.0), "right": rect(0.5, 0.0, 1.0, 1.0)}
    return HallCounter(areas, FLAT, CounterParams(width=160, background=BackgroundParams()))


def test_counter_learns_then_counts_per_area() -> None:
    hc = _counter()
    for k in range(6):  # 6 empty samples at 0.5 s: learnt
        assert hc.step(_frame([]), k * 0.5) is None
    got = hc.step(_frame([(90, 30), (90, 100), (60, 130)]), 3.0)
    assert got is not None and got.per_area == {"left": 1, "right": 2} and got.total == 3
    assert hc.step(_frame([]), 3.5) is None  # between counts
    # Two people side by side are one blob of twice the area: two.
    pair = hc.step(_frame([(90, 100), (90, 110)]), 4.0)
    assert pair is not None and len(pair.blobs) == 1 and pair.per_area["right"] == 2


def test_seated_person_stays_counted() -> None:
    """Selective update: someone still for 20 s (40 samples, twice the history) stays."""
    hc = _counter()
    for k in range(6):
        hc.step(_frame([]), k * 0.5)
    counts = [hc.step(_frame([(90, 40)]), 3.0 + k * 0.5) for k in range(40)]
    assert [c.total for c in counts if c is not None] == [1] * 20


def _truth(samples: list[tuple[float, int]], max_mae: float = 1.0) -> HallTruth:
    return HallTruth("c", "c.mp4", 10.0, tuple(Sample(t, n) for t, n in samples), max_mae)


def test_score_mae_bias_and_unscored() -> None:
    truth = _truth([(0.0, 3), (1.0, 4), (2.0, 5), (3.0, 2)])
    s = score_counts(truth, {1.0: 6, 2.0: 5, 3.0: 1})
    assert s.errors == ((1.0, 2), (2.0, 0), (3.0, -1)) and s.unscored == (0.0,)
    assert s.mae == pytest.approx(1.0) and s.bias == pytest.approx(1 / 3) and s.ok
    assert not score_counts(_truth([(0.0, 3)], max_mae=0.5), {0.0: 4}).ok
    assert not score_counts(truth, {}).ok  # nothing counted never passes


@pytest.mark.parametrize(("patch", "message"), [
    ({"suite": "presence"}, 'suite must be "hall"'),
    ({"counts": []}, "counts must be a non-empty list"),
    ({"counts": [{"t": 1.0, "count": -1}]}, r"counts\[0\].count must be a whole number"),
    ({"counts": [{"t": 99.0, "count": 1}]}, r"counts\[0\].t must be seconds within"),
    ({"counts": [{"t": 2.0, "count": 1}, {"t": 1.0, "count": 1}]}, r"counts\[1\].t must be after"),
    ({"colour": 1}, "unknown key"),
])
def test_bad_truth_names_the_key(patch: dict, message: str) -> None:
    good = {"suite": "hall", "case": "x", "video": "x.mp4", "duration_s": 10,
            "counts": [{"t": 0.0, "count": 1}]}
    parse_hall_truth(good, "x.json")
    with pytest.raises(TruthError, match=message):
        parse_hall_truth({**good, **patch}, "x.json")
