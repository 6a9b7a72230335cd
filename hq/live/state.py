"""A window's live state, as the dashboard shows it: pure transitions, no I/O.

Events reach HQ out of order (alerts jump a unit's queue, batches are retried), so each
aspect of the state — staff session, seat, transaction, counter, rating, alert — keeps
the unit time of the event that last set it, and an older event for that aspect changes
nothing. The result depends only on which events arrived, not on their order, for
events of one aspect that carry distinct times.

What changes with the clock alone (shift start, leave, a unit gone quiet) is not stored:
:func:`tile` combines the stored state with the schedule and ``now`` when a page or the
live feed renders it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Literal

Status = Literal["staffed", "off_seat", "closed", "business", "leave", "unstaffed",
                 "not_scheduled"]
STATUSES: tuple[Status, ...] = ("staffed", "off_seat", "closed", "business", "leave",
                                "unstaffed", "not_scheduled")
# A unit whose last event reached HQ longer ago than this shows as offline: three missed
# heartbeats, the one rule the dashboard, /units and /metrics' silent units share.
OFFLINE_AFTER = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class WindowLive:
    """What the events say about one window now; ``*_utc`` fields are unit times (UTC).

    ``at`` maps an aspect name to the unit time of the event that last set it.
    """

    staff_id: str | None = None
    staff_name: str | None = None
    session_id: str | None = None
    absence_id: str | None = None
    absent_since: dt.datetime | None = None
    absence_level: int = 0
    counter_open: bool = True
    txn_id: str | None = None
    txn_started: dt.datetime | None = None
    last_rating: int | None = None
    last_rating_outcome: str | None = None
    last_rating_utc: dt.datetime | None = None
    alert_kind: str | None = None
    alert_level: int = 0
    alert_utc: dt.datetime | None = None
    alert_active: bool = False
    unit_id: str | None = None
    last_event_utc: dt.datetime | None = None
    at: tuple[tuple[str, dt.datetime], ...] = ()
    # The unit's window state (docs/window-states.md): "closed", "away", or None (open).
    window_state: str | None = None

    def stamp(self, aspect: str) -> dt.datetime | None:
        """The unit time of the event that last set ``aspect``, if any."""
        return dict(self.at).get(aspect)


# Which aspect each event type sets.
ASPECT = {
    "login": "session", "logout": "session",
    "absence_started": "seat", "absence_ended": "seat",
    "transaction_started": "txn", "transaction_ended": "txn",
    "counter_opened": "counter", "counter_closed": "counter",
    "rating": "rating",
    "alert_raised": "alert", "alert_cleared": "alert",
    "window_state": "window",
}


def _s(d: dict[str, Any], key: str) -> str | None:
    v = d.get(key)
    return v if isinstance(v, str) else None


def _i(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _n(d: dict[str, Any], key: str) -> float | None:
    v = d.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def transition(live: WindowLive, type_: str, data: dict[str, Any], utc: dt.datetime,
               unit_id: str) -> WindowLive:
    """The state after one event of ``unit_id`` at unit time ``utc`` (aware, UTC).

    Types the dashboard does not show, and events older than what their aspect already
    shows, only move ``last_event_utc`` forward.
    """
    seen = live.last_event_utc
    live = replace(live, unit_id=unit_id,
                   last_event_utc=utc if seen is None or utc > seen else seen)
    aspect = ASPECT.get(type_)
    if aspect is None:
        return live
    before = live.stamp(aspect)
    if before is not None and utc < before:
        return live
    changed = _apply(live, type_, data, utc)
    if changed is None:
        return live
    stamps = dict(live.at)
    stamps[aspect] = utc
    return replace(changed, at=tuple(sorted(stamps.items())))


def _apply(live: WindowLive, type_: str, d: dict[str, Any],
           utc: dt.datetime) -> WindowLive | None:
    """The aspect's new values, or None when the event does not apply (e.g. no level)."""
    if type_ == "login":
        return replace(live, staff_id=_s(d, "staff_id"), staff_name=_s(d, "name"),
                       session_id=_s(d, "session_id"))
    if type_ == "logout":
        if live.session_id is not None and _s(d, "session_id") not in (None, live.session_id):
            return None  # the end of an older session than the one shown
        return replace(live, staff_id=None, staff_name=None, session_id=None,
                       absence_id=None, absent_since=None, absence_level=0)
    if type_ == "absence_started":
        absence_id = _s(d, "absence_id")
        # Its alerts may have come first: keep the level they raised.
        level = live.absence_level if absence_id and absence_id == live.absence_id else 0
        return replace(live, absence_id=absence_id, absent_since=utc, absence_level=level)
    if type_ == "absence_ended":
        return replace(live, absence_id=None, absent_since=None, absence_level=0)
    if type_ == "transaction_started":
        return replace(live, txn_id=_s(d, "txn_id"), txn_started=utc)
    if type_ == "transaction_ended":
        if live.txn_id is not None and _s(d, "txn_id") not in (None, live.txn_id):
            return None
        return replace(live, txn_id=None, txn_started=None)
    if type_ in ("counter_opened", "counter_closed"):
        return replace(live, counter_open=type_ == "counter_opened")
    if type_ == "window_state":
        state = _s(d, "state")
        return replace(live, window_state=state if state in ("closed", "away") else None)
    if type_ == "rating":
        if _s(d, "outcome") != "rated":
            return None
        return replace(live, last_rating=_i(d, "rating"), last_rating_outcome="rated",
                       last_rating_utc=utc)
    return _alert(live, type_, d, utc)


def _alert(live: WindowLive, type_: str, d: dict[str, Any],
           utc: dt.datetime) -> WindowLive | None:
    kind = _s(d, "alert") or _s(d, "kind")
    level = _i(d, "level") or 0
    if type_ == "alert_cleared":
        return replace(live, alert_active=False)
    live = replace(live, alert_kind=kind, alert_level=level, alert_utc=utc, alert_active=True)
    if kind != "off_seat":
        return live
    absence_id = _s(d, "absence_id")
    if absence_id is not None and absence_id == live.absence_id:
        return replace(live, absence_level=max(level, live.absence_level))
    seat = live.stamp("seat")
    if seat is not None and seat > utc:
        return live  # the seat has changed since this alert (e.g. the absence ended)
    # The alert may arrive before its absence_started (alerts go first): it says how
    # long the seat has been empty, which is enough to show the tile.
    away = _n(d, "away_s") or 0.0
    return replace(live, absence_id=absence_id, absent_since=utc - dt.timedelta(seconds=away),
                   absence_level=level)


@dataclass(frozen=True)
class Plan:
    """What the schedule says of a window at one moment (from org_shifts / org_leave)."""

    scheduled: bool = False
    staff_no: str | None = None
    leave: Literal["leave", "business"] | None = None


@dataclass(frozen=True)
class Tile:
    """One dashboard tile, ready for a template or the live feed's JSON."""

    status: Status
    level: int
    off_seat_since: dt.datetime | None
    staff_id: str | None
    staff_name: str | None
    customer: bool
    txn_started: dt.datetime | None
    last_rating: int | None
    online: bool
    last_seen: dt.datetime | None
    alert_kind: str | None
    alert_level: int
    alert_active: bool
    alert_utc: dt.datetime | None


def status_of(live: WindowLive, plan: Plan) -> Status:
    """The one word a tile leads with; the order says which fact wins."""
    if live.counter_open and live.window_state == "closed":
        return "closed"  # staff closed the window (or HQ's schedule did)
    if live.counter_open and live.window_state == "away":
        return "business"
    if live.staff_id is not None:
        if not live.counter_open:
            return "closed"
        return "off_seat" if live.absent_since is not None else "staffed"
    if not live.counter_open:
        return "closed"
    if plan.leave == "business":
        return "business"
    if plan.leave == "leave":
        return "leave"
    return "unstaffed" if plan.scheduled else "not_scheduled"


def tile(live: WindowLive, plan: Plan, last_seen: dt.datetime | None,
         now: dt.datetime) -> Tile:
    """The tile for ``live`` at ``now``; ``last_seen`` is when HQ last heard from the unit."""
    status = status_of(live, plan)
    online = last_seen is not None and now - last_seen <= OFFLINE_AFTER
    return Tile(
        status=status, level=live.absence_level if status == "off_seat" else 0,
        off_seat_since=live.absent_since if status == "off_seat" else None,
        staff_id=live.staff_id, staff_name=live.staff_name,
        customer=live.txn_id is not None, txn_started=live.txn_started,
        last_rating=live.last_rating, online=online, last_seen=last_seen,
        alert_kind=live.alert_kind, alert_level=live.alert_level,
        alert_active=live.alert_active, alert_utc=live.alert_utc)
