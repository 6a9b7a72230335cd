"""Presence that knows who: hysteresis plus identity continuity for one zone.

Pure logic, like vision/presence.py (which it replaces in the analyzer when an
identity hold is set): ``step`` maps (state, observation) to (state, changes).
An observation is (observed, t, signature); the signature (vision/track/
signature.py) is the appearance of the zone's foreground, None when unknown.

Rules:
  arrival     ``enter_dwell_s`` of positives without a break, and the person
              has stopped: their foreground centre has stayed within
              ``settle_span`` of the zone for ``settle_s`` (someone walking
              through never does). Dated at the first positive of that still
              stretch (the run's first when they came in and stood). A run
              lasting ``linger_s`` is an arrival however much the person
              moves, dated at its first positive. Without positions (no
              empty reference yet) the dwell alone decides, as before.
  flicker     a gap shorter than ``check_gap_s`` is bridged without question.
  return      after a longer gap, positives start a return run. Once it has
              lasted ``enter_dwell_s`` its mean signature is compared with the
              visit's: the same person continues the visit; a different person
              ends it (dated at the last positive before the gap) and starts a
              new one (dated at the return run's first positive). A return run
              broken by a negative before it could decide counts as a sighting
              when it looks like the visit's person (or is unknown: flicker),
              and is discarded otherwise (someone walking past).
  departure   ``hold_s`` without a positive, dated at the last positive.
  start-up    ``startup_empty_s`` of negatives decides "empty at start".
A visit's signature follows the person slowly while they are in view (they
turn, the light changes), so only a change across a gap splits a visit.
Without signatures the tracker is the plain hysteresis with ``hold_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from vision.presence import EPS, PresenceChange, PresenceError
from vision.track.signature import distance, mean_signature, position


@dataclass(frozen=True, slots=True)
class IdentityParams:
    """Times in seconds; ``same_distance`` on the 0..1 signature distance."""

    enter_dwell_s: float = 2.0
    hold_s: float = 8.5
    check_gap_s: float = 1.0
    same_distance: float = 0.12
    startup_empty_s: float = 3.0
    follow: float = 0.1  # how fast the visit signature follows the person, per positive
    settle_s: float = 1.0  # still this long (0: no stillness asked) ...
    settle_span: float = 0.25  # ... moving less than this fraction of the zone
    linger_s: float = 5.0  # a run this long arrives even while moving

    def __post_init__(self) -> None:
        for key in ("enter_dwell_s", "hold_s", "check_gap_s", "startup_empty_s", "settle_s",
                    "linger_s"):
            value = getattr(self, key)
            if not 0.0 <= value <= 3600.0:
                raise PresenceError(f"{key}={value} must be within [0, 3600] seconds")
        if self.check_gap_s > self.hold_s:
            raise PresenceError(f"check_gap_s={self.check_gap_s} must not exceed "
                                f"hold_s={self.hold_s}")
        for key in ("same_distance", "follow", "settle_span"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise PresenceError(f"{key}={getattr(self, key)} must be within [0, 1]")


@dataclass(frozen=True, slots=True, eq=False)
class IdentityState:
    """Everything ``step`` remembers between observations."""

    present: bool | None = None
    run_value: bool | None = None  # while not present: the current run
    run_start: float | None = None
    run_sigs: tuple[np.ndarray, ...] = ()
    run_pos: tuple[tuple[float, float, float], ...] = ()  # (t, x, y) of the run's positives
    last_positive: float | None = None
    last_t: float | None = None
    visit_sig: np.ndarray | None = None
    ret_start: float | None = None  # while present: a return run after a gap
    ret_sigs: tuple[np.ndarray, ...] = ()
    ret_last: float | None = None  # the return run's latest positive


def same_person(a: np.ndarray | None, b: np.ndarray | None, params: IdentityParams) -> bool:
    """Unknown appearance counts as the same person (the hold alone decides)."""
    return a is None or b is None or distance(a, b) <= params.same_distance


def _follow(visit: np.ndarray | None, sig: np.ndarray | None, rate: float) -> np.ndarray | None:
    if sig is None:
        return visit
    if visit is None:
        return sig
    return visit + rate * (sig - visit)


def _sigs(sigs: tuple[np.ndarray, ...], sig: np.ndarray | None) -> tuple[np.ndarray, ...]:
    return sigs if sig is None else (*sigs, sig)


def still_since(run_pos: tuple[tuple[float, float, float], ...], run_start: float,
                t: float, params: IdentityParams) -> float | None:
    """When the person's stillness began, if they have been still for ``settle_s`` by ``t``.

    Walks back from the latest position while every position stays within
    ``settle_span`` (in x and in y); the run's start when no position is known
    or no stillness is asked. None: still moving.
    """
    if params.settle_s <= 0 or not run_pos:
        return run_start
    since, x0, x1, y0, y1 = run_pos[-1][0], 1.0, 0.0, 1.0, 0.0
    for at, x, y in reversed(run_pos):
        x0, x1, y0, y1 = min(x0, x), max(x1, x), min(y0, y), max(y1, y)
        if x1 - x0 > params.settle_span or y1 - y0 > params.settle_span:
            break
        since = at
    else:
        since = run_start  # still since the run began
    return since if t - since >= params.settle_s - EPS else None


def _absent(state: IdentityState, observed: bool, t: float, sig: np.ndarray | None,
            params: IdentityParams, zone: str, decided_at: float
            ) -> tuple[IdentityState, list[PresenceChange]]:
    """Empty or unknown: a run of identical observations may decide."""
    if state.run_value is not observed or state.run_start is None:
        state = replace(state, run_value=observed, run_start=t, run_sigs=(), run_pos=())
    if observed:
        where = position(sig)
        state = replace(state, run_sigs=_sigs(state.run_sigs, sig),
                        run_pos=state.run_pos if where is None else (*state.run_pos,
                                                                      (t, *where)))
    assert state.run_start is not None
    length = t - state.run_start
    if observed and length >= params.enter_dwell_s - EPS:
        at = (state.run_start if length >= params.linger_s - EPS
              else still_since(state.run_pos, state.run_start, t, params))
        if at is None:
            return state, []  # walking through, so far
        change = PresenceChange(zone, True, state.present, at, decided_at)
        return replace(state, present=True, run_value=None, run_start=None, run_sigs=(),
                       run_pos=(), visit_sig=mean_signature(list(state.run_sigs))), [change]
    if not observed and state.present is None and length >= params.startup_empty_s - EPS:
        change = PresenceChange(zone, False, None, state.run_start, decided_at)
        return replace(state, present=False, run_value=None, run_start=None), [change]
    return state, []


def _depart(state: IdentityState, zone: str, decided_at: float) -> tuple[
    IdentityState, PresenceChange
]:
    assert state.last_positive is not None
    change = PresenceChange(zone, False, True, state.last_positive, decided_at)
    return IdentityState(present=False, last_positive=state.last_positive,
                         last_t=state.last_t), change


def step(state: IdentityState, observed: bool, t: float, sig: np.ndarray | None,
         params: IdentityParams, zone: str, now: float | None = None
         ) -> tuple[IdentityState, list[PresenceChange]]:
    """Feed one observation taken at ``t``; returns the new state and any changes, in order.

    A change of person yields two changes: the departure, then the arrival.
    ``now`` (when the caller processes it, if later than ``t``) sets decided_at.
    """
    if state.last_t is not None and t < state.last_t - EPS:
        raise PresenceError(f"zone {zone}: observation at {t} is older than {state.last_t}")
    decided_at = t if now is None else max(t, now)
    state = replace(state, last_t=t)
    if state.present is not True:
        new, changes = _absent(state, observed, t, sig, params, zone, decided_at)
        if changes and changes[-1].present:
            new = replace(new, last_positive=t)
        return new, changes

    assert state.last_positive is not None
    gap = t - state.last_positive
    if not observed:
        if state.ret_start is not None:
            # A return run too short to decide on: the same person glimpsed (or
            # someone unknown) still counts as seen; someone else walked past.
            seen = same_person(state.visit_sig, mean_signature(list(state.ret_sigs)), params)
            state = replace(state, ret_start=None, ret_sigs=(),
                            last_positive=state.ret_last if seen else state.last_positive)
            assert state.last_positive is not None
            gap = t - state.last_positive
        if gap >= params.hold_s - EPS:
            state, change = _depart(state, zone, decided_at)
            return state, [change]
        return state, []

    if state.ret_start is None and gap >= params.hold_s - EPS:
        # Frames were missing for longer than the hold: that visit is over.
        state, change = _depart(state, zone, decided_at)
        new, more = _absent(state, observed, t, sig, params, zone, decided_at)
        return new, [change, *more]
    if state.ret_start is None and gap < params.check_gap_s + EPS:
        return replace(state, last_positive=t,
                       visit_sig=_follow(state.visit_sig, sig, params.follow)), []
    if state.ret_start is None:
        state = replace(state, ret_start=t, ret_sigs=())
    state = replace(state, ret_sigs=_sigs(state.ret_sigs, sig), ret_last=t)
    assert state.ret_start is not None
    if t - state.ret_start < params.enter_dwell_s - EPS:
        return state, []
    back = mean_signature(list(state.ret_sigs))
    if same_person(state.visit_sig, back, params):
        return replace(state, last_positive=t, ret_start=None, ret_sigs=(),
                       visit_sig=_follow(state.visit_sig, back, 0.5)), []
    assert state.last_positive is not None
    left = PresenceChange(zone, False, True, state.last_positive, decided_at)
    came = PresenceChange(zone, True, False, state.ret_start, decided_at)
    return replace(state, last_positive=t, ret_start=None, ret_sigs=(), visit_sig=back), [
        left, came]


def finish(state: IdentityState, zone: str, now: float) -> tuple[
    IdentityState, list[PresenceChange]
]:
    """The stream has ended: a person present but unseen at the end has left, at the last sighting.

    Nobody can come back any more, so waiting out the hold would only date the
    end of the visit at the shutdown. A person still in view stays present.
    """
    if state.present is not True or state.last_positive is None or state.last_t is None:
        return state, []
    if state.last_t - state.last_positive < EPS:
        return state, []
    new, change = _depart(state, zone, max(now, state.last_t))
    return new, [change]


class IdentityTracker:
    """One zone's identity-aware presence, holding its own ``IdentityState``."""

    def __init__(self, zone: str, params: IdentityParams | None = None) -> None:
        self.zone = zone
        self.params = params or IdentityParams()
        self.state = IdentityState()

    @property
    def present(self) -> bool | None:
        """Decided state: True, False, or None before the first decision."""
        return self.state.present

    def update(self, observed: bool, t: float, sig: np.ndarray | None = None,
               now: float | None = None) -> list[PresenceChange]:
        """Feed one observation; returns the changes it decided (none, one or two)."""
        self.state, changes = step(self.state, observed, t, sig, self.params, self.zone, now)
        return changes

    def finish(self, now: float) -> list[PresenceChange]:
        """End of the stream: see ``finish``."""
        self.state, changes = finish(self.state, self.zone, now)
        return changes
