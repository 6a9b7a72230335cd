"""Presence with hysteresis: per-frame observations in, backdated decisions out.

Pure logic: ``step`` maps (state, observation) to (state, change) and never
looks at a clock; ``PresenceTracker`` is a thin stateful wrapper for callers
that prefer one object per zone.

Decisions are backdated. An arrival is reported ``at`` the first observation
of the run of positives that reached ``enter_dwell_s``; a departure ``at`` the
last positive observation before a gap of ``exit_hold_s``. ``decided_at`` is
when the decision became possible. The state is unknown (None) until the first
decision; that first decision has ``previous=None`` and is NOT an arrival or a
departure: it only tells the caller what the zone held at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# Frame times are sums of 1/fps steps; a tolerance keeps a 2.0 s dwell from
# needing 2.0000000001 s.
EPS = 1e-6


class PresenceError(ValueError):
    """Observations arrived out of order or parameters are invalid."""


@dataclass(frozen=True, slots=True)
class PresenceParams:
    """Hysteresis both ways, in seconds.

    enter_dwell_s: positives needed without a break before "present" (rejects
        someone walking past). exit_hold_s: how long without a positive before
        "empty" (a customer ducking out of view for a moment stays present).
        Start-up "empty" also needs exit_hold_s of negatives.
    """

    enter_dwell_s: float = 2.0
    exit_hold_s: float = 3.0

    def __post_init__(self) -> None:
        for key in ("enter_dwell_s", "exit_hold_s"):
            value = getattr(self, key)
            if not 0.0 <= value <= 3600.0:
                raise PresenceError(f"{key}={value} must be within [0, 3600] seconds")


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """A decided change of a zone's state.

    ``previous`` is None for the first decision after start-up: then
    ``present=False`` means "empty at start", never "someone left".
    """

    zone: str
    present: bool
    previous: bool | None
    at: float
    decided_at: float

    @property
    def is_initial(self) -> bool:
        """True for the start-up decision, which is neither arrival nor departure."""
        return self.previous is None

    @property
    def is_arrival(self) -> bool:
        return self.present and self.previous is False

    @property
    def is_departure(self) -> bool:
        return not self.present and self.previous is True


@dataclass(frozen=True, slots=True)
class TrackerState:
    """Everything ``step`` needs to remember between observations."""

    present: bool | None = None
    run_value: bool | None = None  # value of the run that may change the state
    run_start: float | None = None
    last_positive: float | None = None
    last_t: float | None = None


def step(
    state: TrackerState,
    observed: bool,
    t: float,
    params: PresenceParams,
    zone: str,
    now: float | None = None,
) -> tuple[TrackerState, PresenceChange | None]:
    """Feed one observation taken at ``t``; returns the new state and any change.

    ``now`` is when the caller processes the observation, if later than ``t``
    (observations resolved after a short look-back); it only sets decided_at.
    """
    if state.last_t is not None and t < state.last_t - EPS:
        raise PresenceError(f"zone {zone}: observation at {t} is older than {state.last_t}")
    decided_at = t if now is None else max(t, now)
    state = replace(state, last_t=t)
    if observed:
        state = replace(state, last_positive=t)

    if state.present is True:
        if observed:
            return state, None
        assert state.last_positive is not None
        if t - state.last_positive >= params.exit_hold_s - EPS:
            change = PresenceChange(zone, False, True, state.last_positive, decided_at)
            return replace(state, present=False, run_value=None, run_start=None), change
        return state, None

    # Empty or unknown: track the current run of identical observations.
    if state.run_value is not observed or state.run_start is None:
        state = replace(state, run_value=observed, run_start=t)
    assert state.run_start is not None
    length = t - state.run_start
    if observed and length >= params.enter_dwell_s - EPS:
        change = PresenceChange(zone, True, state.present, state.run_start, decided_at)
        return replace(state, present=True, run_value=None, run_start=None), change
    if not observed and state.present is None and length >= params.exit_hold_s - EPS:
        change = PresenceChange(zone, False, None, state.run_start, decided_at)
        return replace(state, present=False, run_value=None, run_start=None), change
    return state, None


class PresenceTracker:
    """One zone's hysteresis, holding its own ``TrackerState``."""

    def __init__(self, zone: str, params: PresenceParams | None = None) -> None:
        self.zone = zone
        self.params = params or PresenceParams()
        self.state = TrackerState()

    @property
    def present(self) -> bool | None:
        """Decided state: True, False, or None before the first decision."""
        return self.state.present

    def update(self, observed: bool, t: float, now: float | None = None) -> PresenceChange | None:
        """Feed one observation; returns a change when one is decided."""
        self.state, change = step(self.state, observed, t, self.params, self.zone, now)
        return change


def intervals(changes: list[PresenceChange], end: float) -> list[tuple[float, float]]:
    """Presence intervals (at of arrival, at of departure) from a zone's changes.

    A start-up "present" opens an interval like an arrival; one still open at
    ``end`` closes there.
    """
    out: list[tuple[float, float]] = []
    start: float | None = None
    for c in changes:
        if c.present and start is None:
            start = c.at
        elif not c.present and start is not None:
            out.append((start, c.at))
            start = None
    if start is not None:
        out.append((start, end))
    return out
