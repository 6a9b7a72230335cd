"""The tiled pose-detector hall counter (vision/hall/tiled.py): tiles, one person seen by two
tiles counted once, the config choosing it, and the real model on real vtest frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from firmware.hall.config import HallConfig
from firmware.hall.monitor import HallMonitor
from vision.hall.counter import HallCounter
from vision.hall.tiled import TiledPoseCounter, merge_people, tile_origins
from vision.hall.truth import load_hall_truth

TRUTH = Path(__file__).resolve().parents[3] / "data" / "hall" / "vtest.json"


@pytest.mark.parametrize(("h", "w", "size", "overlap", "expected"), [
    # vtest at full size: step int(224 * 0.67) = 150; the last row/column end at the edge.
    (576, 768, 224, 0.33, [(y, x) for y in (0, 150, 300, 352) for x in (0, 150, 300, 450, 544)]),
    (224, 500, 224, 0.33, [(0, 0), (0, 150), (0, 276)]),
    (100, 100, 224, 0.33, [(0, 0)]),
    (448, 448, 224, 0.0, [(0, 0), (0, 224), (224, 0), (224, 224)]),
])
def test_tiles_cover_the_frame(h: int, w: int, size: int, overlap: float,
                               expected: list[tuple[int, int]]) -> None:
    assert tile_origins(h, w, size, overlap) == expected


def test_one_person_on_a_tile_border_counts_once() -> None:
    found = [
        (0.9, (200.0, 100.0, 230.0, 130.0), (0.28, 0.5)),  # seen by the left tile
        (0.7, (202.0, 101.0, 231.0, 131.0), (0.28, 0.5)),  # the same face, right tile
        (0.6, (500.0, 300.0, 520.0, 320.0), (0.66, 0.9)),  # somebody else
    ]
    assert merge_people(found, 0.1) == [(0.28, 0.5), (0.66, 0.9)]
    assert merge_people([], 0.1) == []


def test_the_config_chooses_the_counter_and_keeps_background_the_default() -> None:
    assert isinstance(HallMonitor(HallConfig.model_validate({})).counter, HallCounter)
    tiled = HallMonitor(HallConfig.model_validate({"counter": {"type": "tiled_pose"}}))
    assert isinstance(tiled.counter, TiledPoseCounter)
    with pytest.raises(ValidationError, match=r"counter\.type"):
        HallConfig.model_validate({"counter": {"type": "yolo"}})
    with pytest.raises(ValidationError, match=r"counter\.min_score"):
        HallConfig.model_validate({"counter": {"type": "tiled_pose", "min_score": 2}})


def test_real_vtest_frames_are_counted_within_one_person() -> None:
    av = pytest.importorskip("av")
    truth = load_hall_truth(TRUTH)
    want = {round(s.t): s.count for s in truth.samples}
    counter = HallMonitor(HallConfig.model_validate({"counter": {"type": "tiled_pose"}})).counter
    got: dict[int, int] = {}
    with av.open(truth.video) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i > 280:
                break
            if i % 10 == 0 and 24 <= i // 10 <= 28:
                counts = counter.step(np.asarray(f.to_ndarray(format="rgb24")), i / 10)
                assert counts is not None
                got[i // 10] = counts.total
    assert sorted(got) == [24, 25, 26, 27, 28]
    assert all(abs(got[t] - want[t]) <= 1 for t in got), (got, want)
