"""What an event means for alert threads: a pure mapping from unit events to signals.

A :class:`Signal` raises a thread to a level, clears it, or only adds context (the clip of
an absence that started before its alert). HQ's own checks (a unit gone quiet, HQ's own
disk) produce the same signals, so one state machine serves every kind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sync.schema import EventEnvelope

Action = Literal["raise", "clear", "context"]

# Unit alert kinds that are episodes of a person or a scene, keyed by the episode's id.
EPISODE_KINDS = {"off_seat": "absence_id", "item": "item_id", "crowd": "episode_id",
                 "queue": "episode_id"}
# Unit conditions: one episode at a time per unit, keyed by the kind itself.
CONDITION_KINDS = {"disk", "camera"}
CAMERA_FAILED = {"camera_failed", "camera_lost"}
CAMERA_RECOVERED = {"camera_recovered"}
MAX_LEVEL = 3


@dataclass(frozen=True)
class Signal:
    """One change to the thread ``(unit_id, kind, episode)``."""

    unit_id: str
    kind: str
    episode: str
    action: Action
    utc: dt.datetime
    level: int = 1
    staff_id: str | None = None
    clip_id: str | None = None
    snapshot_id: str | None = None
    detail: str = ""
    # A clear that must not create a thread of its own (an absence that never alerted).
    only_if_open: bool = False
    # A condition without episode ids of its own (a unit's disk, its camera, its config;
    # HQ's conditions): each raise after recovery is a new episode, so a new thread.
    recurring: bool = False


def _s(d: dict[str, Any], key: str) -> str | None:
    v = d.get(key)
    return v if isinstance(v, str) and v else None


def _level(d: dict[str, Any], default: int = 1, key: str = "level") -> int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        return default
    return max(1, min(MAX_LEVEL, v))


def disk_level(detail: str) -> int:
    """A unit whose disk is full (nothing deletable) is level 2; deleting unsynced clips 1."""
    return 2 if "full" in detail else 1


def signal_of(env: EventEnvelope) -> Signal | None:
    """The signal an event carries, or None for events that alerts ignore."""
    d = env.data

    def mk(kind: str, episode: str, action: Action, **kw: Any) -> Signal:
        return Signal(unit_id=env.unit_id, kind=kind, episode=episode, action=action,
                      utc=env.utc, staff_id=_s(d, "staff_id"),
                      snapshot_id=_s(d, "snapshot_id"), **kw)

    if env.type in ("alert_raised", "alert_cleared"):
        kind = _s(d, "alert") or _s(d, "kind")
        if kind is None:
            return None
        action: Action = "raise" if env.type == "alert_raised" else "clear"
        if kind in EPISODE_KINDS:
            episode = _s(d, EPISODE_KINDS[kind]) or _s(d, "episode_id")
            if episode is None:
                return None
            return mk(kind, episode, action,
                          level=_level(d), clip_id=_s(d, "clip_id"))
        if kind == "disk":
            detail = _s(d, "detail") or ""
            return mk("disk", "disk", action, recurring=True,
                          level=disk_level(detail), detail=detail)
        if kind == "camera":
            return mk("camera", "camera", action, recurring=True,
                          level=_level(d), detail=_s(d, "detail") or "")
        return None
    if env.type == "absence_started":
        absence = _s(d, "absence_id")
        if absence is None:
            return None
        return mk("off_seat", absence, "context",
                      clip_id=_s(d, "clip_id"))
    if env.type == "absence_ended":
        absence = _s(d, "absence_id")
        if absence is None:
            return None
        # An absence that never reached level 1 was never an alert; one that did closes
        # its thread even when its alert_cleared is missing (a shutdown ends it).
        alerted = _level(d, 0, "max_level") > 0 if d.get("max_level") else False
        return mk("off_seat", absence, "clear",
                      level=_level(d, 1, "max_level"), only_if_open=not alerted)
    if env.type in CAMERA_FAILED or env.type in CAMERA_RECOVERED:
        action = "raise" if env.type in CAMERA_FAILED else "clear"
        return mk("camera", "camera", action, recurring=True,
                      detail=_s(d, "detail") or _s(d, "reason") or "")
    if env.type == "config_refused":
        problems = d.get("problems")
        text = "; ".join(p for p in problems if isinstance(p, str))[:500] \
            if isinstance(problems, list) else ""
        return mk("config_refused", "config", "raise", recurring=True,
                      detail=f"config {_s(d, 'etag') or '?'} refused: {text}")
    if env.type == "config_applied":
        return mk("config_refused", "config", "clear", recurring=True,
                      only_if_open=True)
    return None
