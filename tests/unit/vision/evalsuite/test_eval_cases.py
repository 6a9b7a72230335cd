"""The presence suite's cases: enough of them, covering what issue 19 names, truth valid."""

from __future__ import annotations

import numpy as np

from vision.compose.render import Renderer
from vision.evalsuite.cases import TAIL_S, case_names, cases
from vision.evalsuite.truth import parse_truth


def test_suite_covers_the_hard_situations() -> None:
    suite = cases()
    assert len(suite) >= 20 and [c.name for c in suite] == case_names()
    tags = {t for c in suite for t in c.tags}
    assert {"back", "side", "partial", "still", "grayscale", "dim", "back-to-back",
            "companion", "passer", "staff", "seat", "identity"} <= tags
    still = [c for c in suite if "still" in c.tags]
    assert any(max(e - s for s, e in c.truth().transactions) >= 60 for c in still)
    gaps = [b[0] - a[1] for c in suite if "back-to-back" in c.tags
            for a, b in zip(c.truth().transactions, c.truth().transactions[1:], strict=False)]
    assert min(gaps) <= 3.0 and max(gaps) >= 6.0


def test_truths_are_valid_and_leave_time_to_decide() -> None:
    for c in cases():
        t = c.truth()
        assert parse_truth(t.to_json(), c.name) == t
        ends = [e for _, e in t.transactions] + [e for _, e in t.absences if e < t.duration_s]
        assert all(e + TAIL_S <= t.duration_s + 1e-6 for e in ends), c.name
    lean = next(c for c in cases() if c.name == "staff_leans_in")
    assert lean.truth().transactions == ()  # the leaning teller is no customer
    companion = next(c for c in cases() if c.name == "companion")
    assert companion.truth().transactions == ((4, 24),)  # one visit for the two


def test_grayscale_scene_renders_without_colour() -> None:
    spec = next(c for c in cases() if c.name == "grayscale_front").spec
    frame = Renderer(spec).frame(10.0)
    assert frame.shape == (360, 640, 3)
    assert np.array_equal(frame[..., 0], frame[..., 1]) and np.array_equal(frame[..., 1],
                                                                           frame[..., 2])
