"""HQ's one notion of "now": aware UTC, or the time a caller (a test) passes in."""

from __future__ import annotations

import datetime as dt


def utc_now(now: dt.datetime | None = None) -> dt.datetime:
    """``now`` as aware UTC (the current time if None); a naive datetime is refused,
    since HQ cannot tell which zone it meant."""
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    return now.astimezone(dt.UTC)
