"""Crowd density per area: raise after a hold above the threshold, clear with hysteresis.

Pure logic, no clock of its own: ``step`` takes the area's state, the count just
made and the time it was made, and returns the new state and what happened.

- not raised: a count ``>= raise_at`` starts a pending period; it raises once the
  counts have stayed ``>= raise_at`` for ``raise_hold_s``. Any count below cuts
  the pending period (a crowd for 59 s of a 60 s hold is no crowd).
- raised: a count ``<= clear_at`` (below ``raise_at``: the hysteresis band)
  starts a pending clear; it clears once the counts have stayed ``<= clear_at``
  for ``clear_hold_s``. A count above ``clear_at`` cuts it. ``peak`` is the
  highest count while raised.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Change = Literal["raised", "cleared"]


@dataclass(frozen=True, slots=True)
class DensityRule:
    """Thresholds of one area, in people and seconds."""

    raise_at: int
    clear_at: int
    raise_hold_s: float = 30.0
    clear_hold_s: float = 30.0

    def __post_init__(self) -> None:
        if not 0 <= self.clear_at < self.raise_at:
            raise ValueError(f"need 0 <= clear_at < raise_at, got {self.clear_at}, "
                             f"{self.raise_at}")


@dataclass(frozen=True, slots=True)
class AreaState:
    """Where one area stands: raised or not, since when the pending change has held."""

    raised: bool = False
    pending_since: float | None = None
    peak: int = 0
    raised_at: float | None = None


def step(state: AreaState, count: int, now: float, rule: DensityRule) -> tuple[
    AreaState, Change | None
]:
    """The area's state after ``count`` people were counted at ``now``, and the change."""
    if not state.raised:
        if count < rule.raise_at:
            return replace(state, pending_since=None), None
        since = now if state.pending_since is None else state.pending_since
        if now - since >= rule.raise_hold_s:
            return AreaState(raised=True, pending_since=None, peak=count, raised_at=now), "raised"
        return replace(state, pending_since=since), None
    peak = max(state.peak, count)
    if count > rule.clear_at:
        return replace(state, pending_since=None, peak=peak), None
    since = now if state.pending_since is None else state.pending_since
    if now - since >= rule.clear_hold_s:
        return AreaState(), "cleared"
    return replace(state, pending_since=since, peak=peak), None
