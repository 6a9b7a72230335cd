"""What retention deletes, as plain functions: no database, no clock.

A *period* is a number of days (or ``None``: kept for ever) for clips and for events.
The organisation has a default; a branch may override either field (``None`` in an
override means "as the organisation"). A clip never outlives its transaction's events,
so a clip's effective period is the shorter of the two.

An item is due when it is strictly older than ``now - days``: an item exactly at the
cutoff stays one more run. A held item (its transaction under legal hold, or its clip
belonging to one) is never due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MIN_DAYS, MAX_DAYS = 1, 36500  # a day .. a hundred years
ORG = "*"  # the key of the organisation default among the period rows

CLIP, TRANSACTION, EVENT = "clip", "transaction", "event"


@dataclass(frozen=True)
class Period:
    """Days clips and events are kept; ``None``: for ever (or, in an override, inherited)."""

    clip_days: int | None = None
    event_days: int | None = None


@dataclass(frozen=True)
class Periods:
    """The organisation default and the branches' overrides."""

    default: Period = Period()
    branches: Mapping[str, Period] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    """Something retention may delete: a clip, a transaction or one event."""

    kind: str  # CLIP, TRANSACTION or EVENT
    unit_id: str
    key: str  # clip id, transaction id or event uuid
    branch_id: str | None  # None: filed nowhere (the organisation default applies)
    utc: dt.datetime
    txn_id: str | None = None  # the transaction it belongs to, if any
    clip_id: str | None = None  # the clip it names, if any


class PeriodError(ValueError):
    """A period breaks a rule; ``field`` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


def check_days(field_name: str, days: int | None) -> int | None:
    """``days`` if within MIN_DAYS..MAX_DAYS (or None); PeriodError naming the field."""
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int):
        raise PeriodError(field_name, f"must be a whole number of days, not {days!r}")
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise PeriodError(field_name, f"must be within {MIN_DAYS}..{MAX_DAYS} days, "
                                      f"not {days}")
    return days


def effective(periods: Periods, branch_id: str | None) -> Period:
    """The period that applies in ``branch_id``: its override, field by field, over the
    default; the clip period capped at the event period (a clip never outlives its events)."""
    over = periods.branches.get(branch_id or "", Period()) if branch_id else Period()
    clip = over.clip_days if over.clip_days is not None else periods.default.clip_days
    event = over.event_days if over.event_days is not None else periods.default.event_days
    if event is not None and (clip is None or clip > event):
        clip = event
    return Period(clip, event)


def check_periods(periods: Periods) -> None:
    """Every field bounded; PeriodError naming ``default.clip_days``, ``B1.event_days``...

    A clip period longer than the event period that applies with it is refused rather
    than silently shortened, so what an admin writes is what happens. (Clips with no
    period of their own simply go with their events.)
    """
    rows = [(ORG, periods.default), *sorted(periods.branches.items())]
    for name, p in rows:
        label = "default" if name == ORG else name
        check_days(f"{label}.clip_days", p.clip_days)
        check_days(f"{label}.event_days", p.event_days)
    for name, p in rows:
        label = "default" if name == ORG else name
        clip = p.clip_days if p.clip_days is not None else periods.default.clip_days
        event = p.event_days if p.event_days is not None else periods.default.event_days
        if clip is not None and event is not None and clip > event:
            which = "clip_days" if p.clip_days is not None else "event_days"
            raise PeriodError(f"{label}.{which}",
                              f"clips kept {clip} days would outlive their events "
                              f"({event} days); keep clips at most as long as events")


def cutoff(now: dt.datetime, days: int) -> dt.datetime:
    """Items strictly older than this are due."""
    return now - dt.timedelta(days=days)


def days_for(item: Item, periods: Periods) -> int | None:
    """The item's period in days (None: kept for ever)."""
    p = effective(periods, item.branch_id)
    return p.clip_days if item.kind == CLIP else p.event_days


def is_held(item: Item, held_txns: frozenset[tuple[str, str]],
            held_clips: frozenset[tuple[str, str]]) -> bool:
    """Whether a legal hold covers the item (by its transaction or by its clip)."""
    if item.txn_id is not None and (item.unit_id, item.txn_id) in held_txns:
        return True
    if item.kind == TRANSACTION and (item.unit_id, item.key) in held_txns:
        return True
    clip = item.key if item.kind == CLIP else item.clip_id
    return clip is not None and (item.unit_id, clip) in held_clips


def due(items: Iterable[Item], periods: Periods, held_txns: frozenset[tuple[str, str]],
        held_clips: frozenset[tuple[str, str]], now: dt.datetime) -> list[Item]:
    """The items to delete at ``now``, in the order given."""
    out = []
    for item in items:
        days = days_for(item, periods)
        if days is None or not item.utc < cutoff(now, days):
            continue
        if is_held(item, held_txns, held_clips):
            continue
        out.append(item)
    return out


def earliest_cutoff(periods: Periods, kind: str, now: dt.datetime) -> dt.datetime | None:
    """The latest cutoff of any branch for ``kind``: nothing newer can be due (None:
    nothing of that kind is ever due). Lets the run read only old rows."""
    branches: list[str | None] = [None, *periods.branches]
    days = [d for b in branches if (d := (effective(periods, b).clip_days if kind == CLIP
                                          else effective(periods, b).event_days)) is not None]
    return cutoff(now, min(days)) if days else None
