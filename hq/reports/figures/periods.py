"""Local days and the rollup periods a date range is made of (pure functions).

Rollups are kept per branch-local day (``D2026-03-05``), month (``M2026-03``) and year
(``Y2026``). A report over a date range reads the fewest periods that cover it exactly
(whole years, then whole months, then days), so a year costs one row per key, as a
month does, and a week seven.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY = dt.timedelta(days=1)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (cached: zones are looked up per event)."""
    return ZoneInfo(name)


def local_day(t: dt.datetime, tz: str) -> dt.date:
    """The calendar day ``t`` (aware, or naive UTC) falls on in zone ``tz``."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(zone(tz)).date()


def day_start_utc(day: dt.date, tz: str) -> dt.datetime:
    """The UTC instant local midnight of ``day`` begins in zone ``tz``."""
    return dt.datetime.combine(day, dt.time(), zone(tz)).astimezone(dt.UTC)


def range_utc(first: dt.date, last: dt.date, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of local days ``first``..``last`` inclusive."""
    return day_start_utc(first, tz), day_start_utc(last + DAY, tz)


@lru_cache(maxsize=8192)
def period_keys_of(day: str) -> tuple[str, str, str]:
    """:func:`period_keys` of an ISO date text (cached: every rollup write asks)."""
    return period_keys(dt.date.fromisoformat(day))


def period_keys(day: dt.date) -> tuple[str, str, str]:
    """The day, month and year keys a local day is counted in."""
    return f"D{day.isoformat()}", f"M{day.year}-{day.month:02d}", f"Y{day.year}"


def _month_end(day: dt.date) -> dt.date:
    nxt = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - DAY


def cover(first: dt.date, last: dt.date) -> list[str]:
    """Period keys that cover local days ``first``..``last`` exactly, each day once."""
    if last < first:
        raise ValueError(f"period end {last} is before its start {first}")
    keys: list[str] = []
    d = first
    while d <= last:
        if d.month == 1 and d.day == 1 and dt.date(d.year, 12, 31) <= last:
            keys.append(f"Y{d.year}")
            d = dt.date(d.year + 1, 1, 1)
        elif d.day == 1 and _month_end(d) <= last:
            keys.append(f"M{d.year}-{d.month:02d}")
            d = _month_end(d) + DAY
        else:
            keys.append(f"D{d.isoformat()}")
            d += DAY
    return keys


def split_by_day(start: dt.datetime, end: dt.datetime,
                 tz: str) -> Iterator[tuple[dt.date, float]]:
    """Seconds of [start, end) falling on each local day of zone ``tz``."""
    if end <= start:
        return
    day = local_day(start, tz)
    while True:
        nxt = day_start_utc(day + DAY, tz)
        piece_end = min(end, nxt)
        if piece_end > start:
            yield day, (piece_end - start).total_seconds()
        if end <= nxt:
            return
        start, day = nxt, day + DAY


def shift_period(first: dt.date, last: dt.date, how: str) -> tuple[dt.date, dt.date]:
    """The range before ``first..last`` (``previous``) or a year earlier (``year-N``).

    ``previous`` of a whole month is the previous month, of a whole year the previous
    year; of any other range the same number of days just before it.
    """
    if how.startswith("year-"):
        n = int(how.removeprefix("year-"))
        return _years_back(first, n), _years_back(last, n)
    if how != "previous":
        raise ValueError(f"comparison {how!r} must be 'previous' or 'year-N'")
    if first.day == 1 and last == _month_end(first):
        if first.month == 1 and last.month == 12:
            return _years_back(first, 1), _years_back(last, 1)
        if first.month == last.month:
            prev_last = first - DAY
            return prev_last.replace(day=1), prev_last
    span = (last - first).days + 1
    return first - span * DAY, first - DAY


def _years_back(d: dt.date, n: int) -> dt.date:
    try:
        return d.replace(year=d.year - n)
    except ValueError:  # 29 February in a year without one
        return d.replace(year=d.year - n, day=28)


def parse_period(period: str, on: dt.date) -> tuple[dt.date, dt.date]:
    """``day``/``week``/``month``/``year`` containing ``on`` as (first, last)."""
    if period == "day":
        return on, on
    if period == "week":
        first = on - on.weekday() * DAY
        return first, first + 6 * DAY
    if period == "month":
        return on.replace(day=1), _month_end(on)
    if period == "year":
        return dt.date(on.year, 1, 1), dt.date(on.year, 12, 31)
    raise ValueError(f"period {period!r} must be day, week, month or year")
