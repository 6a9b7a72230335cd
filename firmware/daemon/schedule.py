"""Shift schedule: is the counter open, and is a closed/away period planned, at a given
local time? (pure)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from firmware.config.unit import Shift
from firmware.config.window import StatePeriod
from firmware.machine.model import StateSetting

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_open(shifts: Sequence[Shift], local: dt.datetime) -> bool:
    """Open during any shift; with no shifts configured the counter counts as open."""
    if not shifts:
        return True
    day, now = _DAYS[local.weekday()], local.time()
    return any(day in s.days and s.start <= now < s.end for s in shifts)


def scheduled_state(periods: Sequence[StatePeriod],
                    local: dt.datetime) -> tuple[str, dt.datetime, str] | None:
    """The planned state at ``local``: (state, local start of its period, note), or None.

    Of overlapping periods the one that began last wins (the same rule as between a
    planned and a keyed state, docs/window-states.md); at equal starts away beats closed.
    """
    day, now = _DAYS[local.weekday()], local.time()
    active = [p for p in periods
              if (day in p.days or p.date == local.date()) and p.start <= now < p.end]
    if not active:
        return None
    best = max(active, key=lambda p: (p.start, p.state == "away"))
    start = local.replace(hour=best.start.hour, minute=best.start.minute,
                          second=best.start.second, microsecond=0)
    return best.state, start, best.note


def planned_setting(periods: Sequence[StatePeriod], local: dt.datetime, now: float
                    ) -> tuple[tuple[str, str] | None, StateSetting | None]:
    """The planned period at ``local`` (unit time ``now``) as the machine's setting, with a
    key that changes only when another period begins or ends."""
    planned = scheduled_state(periods, local)
    if planned is None:
        return None, None
    state, start, note = planned
    # The period's own start, so a state keyed before it loses and one keyed during it
    # wins even when the unit started mid-period.
    since = now - max(0.0, (local - start).total_seconds())
    setting = StateSetting(state, since, "schedule", None, note)  # type: ignore[arg-type]
    return (state, start.isoformat()), setting
