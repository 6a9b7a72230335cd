"""Shift schedule: is the counter open at a given local time? (pure)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from firmware.config import Shift

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_open(shifts: Sequence[Shift], local: dt.datetime) -> bool:
    """Open during any shift; with no shifts configured the counter counts as open."""
    if not shifts:
        return True
    day, now = _DAYS[local.weekday()], local.time()
    return any(day in s.days and s.start <= now < s.end for s in shifts)
