"""Shift times (pure): weekly templates expanded into dated UTC instances, local -> UTC.

A branch's shifts are written in its own time zone; HQ stores instants in UTC so that
attendance reports compare them with event times directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hq.org.records.models import DAYS


def local_to_utc(local: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """A naive local wall time in ``tz`` as an aware UTC instant (fold 0 at DST overlaps)."""
    return local.replace(tzinfo=tz).astimezone(dt.UTC)


def dated_span(day: dt.date, start: dt.time, end: dt.time,
               tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """UTC start and end of a shift ``start``-``end`` on local date ``day``."""
    return (local_to_utc(dt.datetime.combine(day, start), tz),
            local_to_utc(dt.datetime.combine(day, end), tz))


@dataclass(frozen=True)
class Instance:
    """One dated shift made from a template."""

    day: dt.date
    start_utc: dt.datetime
    end_utc: dt.datetime


def expand_weekly(days: Iterable[str], start: dt.time, end: dt.time, valid_from: dt.date,
                  valid_to: dt.date, tz: ZoneInfo) -> list[Instance]:
    """Every date from ``valid_from`` to ``valid_to`` (inclusive) on one of ``days``."""
    wanted = {DAYS.index(d) for d in days}
    out = []
    day = valid_from
    while day <= valid_to:
        if day.weekday() in wanted:
            out.append(Instance(day, *dated_span(day, start, end, tz)))
        day += dt.timedelta(days=1)
    return out


def template_shift_prefix(template_id: str) -> str:
    """Ids of a template's dated instances start with this (see org_schema)."""
    return f"t:{template_id}:"


def opening_hours(templates: Sequence[tuple[str, str, str]]) -> list[dict[str, object]]:
    """A window's weekly opening hours from its templates' (days, 'HH:MM', 'HH:MM').

    Templates with the same hours are merged into one entry with the union of their days;
    entries are sorted by start, end. The result is a ScheduleConfig ``shifts`` list.
    """
    by_hours: dict[tuple[str, str], set[str]] = {}
    for days, start, end in templates:
        by_hours.setdefault((start, end), set()).update(days.split(","))
    return [{"days": [d for d in DAYS if d in ds], "start": start, "end": end}
            for (start, end), ds in sorted(by_hours.items())]
