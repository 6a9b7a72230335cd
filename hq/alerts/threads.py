"""The life of one alert thread, as a pure function of its state and a signal.

A thread opens at the first level it hears of, rises (never falls) and closes on
recovery. Only a level reached while the thread is open is *notified*: a late
``alert_raised`` for an episode already over goes into the history, never to people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

from hq.alerts.signals import MAX_LEVEL, Signal

Status = Literal["open", "closed"]


@dataclass(frozen=True)
class ThreadState:
    """What the state machine needs of a thread (the store keeps more)."""

    status: Status
    level: int
    opened_utc: dt.datetime
    level_utc: dt.datetime
    closed_utc: dt.datetime | None = None
    staff_id: str | None = None
    clip_id: str | None = None
    snapshot_id: str | None = None
    detail: str = ""
    acked: bool = False


@dataclass(frozen=True)
class Outcome:
    """The new state (None: no thread), levels to record, and levels to notify."""

    state: ThreadState | None
    levels: tuple[int, ...] = ()  # new entries of the level history
    notify: tuple[int, ...] = ()  # levels whose policy must be carried out now
    changed: bool = False


def _context(state: ThreadState, sig: Signal) -> ThreadState:
    return replace(state, staff_id=state.staff_id or sig.staff_id,
                   clip_id=state.clip_id or sig.clip_id,
                   snapshot_id=sig.snapshot_id or state.snapshot_id,
                   detail=sig.detail or state.detail)


def advance(state: ThreadState | None, sig: Signal) -> Outcome:
    """Apply ``sig`` to a thread (``None`` when the thread does not exist yet)."""
    if sig.action == "context":
        if state is None:
            return Outcome(None)
        new = _context(state, sig)
        return Outcome(new, changed=new != state)
    if sig.action == "clear":
        if state is None:
            if sig.only_if_open:
                return Outcome(None)
            # Cleared before its raise arrived: a closed thread, so the raise stays quiet.
            new = _context(ThreadState("closed", sig.level, sig.utc, sig.utc, sig.utc), sig)
            return Outcome(new, levels=(sig.level,), changed=True)
        if state.status == "closed":
            return Outcome(state)
        return Outcome(replace(_context(state, sig), status="closed", closed_utc=sig.utc),
                       changed=True)
    # raise
    if state is None:
        new = _context(ThreadState("open", sig.level, sig.utc, sig.utc), sig)
        return Outcome(new, levels=(sig.level,), notify=(sig.level,), changed=True)
    if sig.level <= state.level:
        new = _context(state, sig)
        return Outcome(new, changed=new != state)
    new = replace(_context(state, sig), level=sig.level, level_utc=sig.utc)
    return Outcome(new, levels=(sig.level,),
                   notify=(sig.level,) if state.status == "open" else (), changed=True)


def escalation_due(state: ThreadState, after: dt.timedelta | None, now: dt.datetime) -> bool:
    """Whether an open, unacknowledged thread has waited ``after`` at its level."""
    return (after is not None and state.status == "open" and not state.acked
            and state.level < MAX_LEVEL and now >= state.level_utc + after)


def escalate(state: ThreadState, now: dt.datetime) -> Outcome:
    """HQ raises the thread one level because nobody acknowledged it in time."""
    new = replace(state, level=state.level + 1, level_utc=now)
    return Outcome(new, levels=(new.level,), notify=(new.level,), changed=True)
