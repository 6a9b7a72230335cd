"""Ages, durations, sizes and times as a technician reads them ("3 minutes ago", "1.2 GiB")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import humanize


def size(n: int) -> str:
    """Bytes in binary units: ``1.2 GiB``."""
    return humanize.naturalsize(n, binary=True, format="%.1f")


def ago(seconds: float) -> str:
    """``3 minutes ago``; a negative age (dated in the future) reads ``3 minutes from now``."""
    if abs(seconds) < 1:
        return "just now"
    return humanize.naturaltime(dt.timedelta(seconds=seconds))


def until(seconds: float) -> str:
    """``in 40 seconds``; a time already past reads ``now``."""
    return "now" if seconds < 1 else "in " + humanize.naturaldelta(dt.timedelta(seconds=seconds))


def duration(seconds: float) -> str:
    """``4 seconds``, ``2 minutes and 5 seconds``, ``3 hours and 2 minutes``."""
    seconds = abs(seconds)
    unit = "seconds" if seconds < 3600 else "minutes"
    return humanize.precisedelta(dt.timedelta(seconds=round(seconds)), minimum_unit=unit,
                                 format="%0.0f")


def since(t: dt.datetime | None, now: dt.datetime) -> str:
    """``3 minutes ago`` for an aware time, ``?`` when unknown."""
    return "?" if t is None else ago((now - t).total_seconds())


def local(t: dt.datetime | None, tz: ZoneInfo, now: dt.datetime) -> str:
    """Wall time in the unit's zone: ``14:03:07`` today, ``2026-11-20 14:03`` otherwise."""
    if t is None:
        return "?"
    lt, ln = t.astimezone(tz), now.astimezone(tz)
    return lt.strftime("%H:%M:%S") if lt.date() == ln.date() else lt.strftime("%Y-%m-%d %H:%M")


def yes_no(v: bool | None, yes: str = "yes", no: str = "no", unknown: str = "unknown") -> str:
    return unknown if v is None else yes if v else no
