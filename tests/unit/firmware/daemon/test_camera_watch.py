"""Camera health, table first: one failure per episode, one recovery, across a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.daemon.camera_watch import CameraHealth, EpisodeMarker, stall_after


@pytest.mark.parametrize("steps,expected", [
    # (t, got_frame) -> changes; stall_s = 3
    ([(0, True), (1, False), (3, False), (3.1, True)], [None, None, None, None]),
    ([(0, True), (2, False), (3.5, False), (5, False), (6, True), (6.2, True)],
     [None, None, "failed", None, "recovered", None]),
    # no frame ever: counted from the first capture
    ([(10, False), (12, False), (13.5, False)], [None, None, "failed"]),
    ([(0, True), (4, False), (5, True), (9, False), (9.5, False)],
     [None, "failed", "recovered", "failed", None]),
])
def test_one_change_per_episode(steps: list[tuple[float, bool]],
                                expected: list[str | None]) -> None:
    h = CameraHealth(stall_s=3.0)
    assert [h.observe(t, f) for t, f in steps] == expected


def test_back_end_failure_and_restart(tmp_path: Path) -> None:
    h = CameraHealth()
    assert h.fail(1.0, "device lost") == "failed" and h.fail(2.0, "again") is None
    assert h.observe(3.0, False) is None and h.reason == "device lost"
    m = EpisodeMarker(tmp_path)
    assert m.load() is None
    m.open("device lost")
    assert m.load() == "device lost"  # the next run starts failed: recovery, no repeat
    m.close()
    assert m.load() is None


@pytest.mark.parametrize("watchdog,stall", [(None, 3.0), (30.0, 3.0), (2.0, 0.8)])
def test_stall_is_inside_the_watchdog(watchdog: float | None, stall: float) -> None:
    assert stall_after(watchdog) == pytest.approx(stall)
