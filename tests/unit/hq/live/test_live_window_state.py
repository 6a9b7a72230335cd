"""The dashboard tile shows the unit's window state (hq/live/state.py), table-first."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hq.live.state import Plan, WindowLive, status_of, transition

T0 = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
Ev = tuple[str, int, dict[str, Any]]
LOGIN: Ev = ("login", 0, {"staff_id": "S1", "name": "Ann", "session_id": "s1"})


def run(events: list[Ev]) -> WindowLive:
    live = WindowLive()
    for type_, minute, data in events:
        live = transition(live, type_, data, T0 + dt.timedelta(minutes=minute), "U1")
    return live


@pytest.mark.parametrize(("events", "status"), [
    ([LOGIN, ("window_state", 1, {"state": "closed"})], "closed"),
    ([LOGIN, ("window_state", 1, {"state": "away"})], "business"),
    ([("window_state", 1, {"state": "away"})], "business"),  # nobody logged in
    ([LOGIN, ("window_state", 1, {"state": "closed"}), ("window_state", 2, {"state": "open"})],
     "staffed"),
    # Out of order: the newer "open" wins over an older "closed" arriving late.
    ([LOGIN, ("window_state", 2, {"state": "open"}), ("window_state", 1, {"state": "closed"})],
     "staffed"),
    ([LOGIN, ("window_state", 1, {"state": "off"})], "staffed"),  # unit stopped: no notice
    ([LOGIN, ("window_state", 1, {"state": "away"}), ("counter_closed", 2, {})], "closed"),
])
def test_window_state_on_the_tile(events: list[Ev], status: str) -> None:
    assert status_of(run(events), Plan(scheduled=True)) == status
