"""Which local clips to delete: a pure choice from clip facts and disk figures.

Order of sacrifice (DESIGN "Disk full"): clips HQ acknowledged and past the
retention period always go; under disk pressure more acknowledged clips go,
oldest first; unacknowledged clips go only below the emergency floor, with an
alert, because recording must never stop while anything deletable remains.
Only ``disk_usage`` touches the system; deleting the files is the caller's job.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ALERT_UNSYNCED = "deleting unsynced clips"
ALERT_DISK_FULL = "disk full, nothing deletable"

REASON_EXPIRED = "acknowledged and past retention"
REASON_LOW_SPACE = "acknowledged, deleted for space"
REASON_EMERGENCY = "unacknowledged, deleted below emergency floor"


class RetentionError(ValueError):
    """Inconsistent retention settings or disk figures."""


@dataclass(frozen=True)
class ClipInfo:
    """What the choice needs to know about one local clip file."""

    clip_id: str
    size: int
    closed_utc: dt.datetime | None
    acked_utc: dt.datetime | None = None
    is_open: bool = False


@dataclass(frozen=True)
class RetentionPlan:
    """Clips to delete in order, an alert to raise (if any), and why each goes."""

    delete: list[str]
    alert: str | None
    reasons: dict[str, str] = field(default_factory=dict)
    free_after: int = 0


def _check(retention_days: float, total: int, free: int, low_water: float,
           emergency_floor: float) -> None:
    if retention_days < 0:
        raise RetentionError(f"retention_days={retention_days}: must be >= 0")
    if total <= 0 or not 0 <= free <= total:
        raise RetentionError(f"disk total={total} free={free}: need total > 0, 0 <= free <= total")
    if not 0 <= emergency_floor <= low_water < 1:
        raise RetentionError(f"emergency_floor={emergency_floor} low_water={low_water}: "
                             "need 0 <= emergency_floor <= low_water < 1")


def _age_key(clip: ClipInfo) -> tuple[dt.datetime, str]:
    # Oldest first; clip_id breaks ties so the plan is deterministic.
    when = clip.closed_utc or clip.acked_utc or dt.datetime.max.replace(tzinfo=dt.UTC)
    return when, clip.clip_id


def plan_retention(clips: Iterable[ClipInfo], now: dt.datetime, *, retention_days: float,
                   total: int, free: int, low_water: float = 0.15,
                   emergency_floor: float = 0.05) -> RetentionPlan:
    """Choose the clips to delete; sizes are credited to ``free`` as each is chosen.

    A clip's age runs from when it was closed. ``low_water`` and
    ``emergency_floor`` are free fractions of ``total``. Open clips are never chosen.
    """
    _check(retention_days, total, free, low_water, emergency_floor)
    closed = sorted((c for c in clips if not c.is_open), key=_age_key)
    acked = [c for c in closed if c.acked_utc is not None]
    unacked = [c for c in closed if c.acked_utc is None]
    cutoff = now - dt.timedelta(days=retention_days)
    reasons: dict[str, str] = {}

    def take(candidates: Sequence[ClipInfo], reason: str, until_free: float | None) -> None:
        nonlocal free
        for clip in candidates:
            if until_free is not None and free >= until_free:
                return
            if clip.clip_id not in reasons:
                reasons[clip.clip_id] = reason
                free = min(total, free + max(clip.size, 0))

    take([c for c in acked if _age_key(c)[0] <= cutoff], REASON_EXPIRED, None)
    take(acked, REASON_LOW_SPACE, low_water * total)
    alert = None
    floor = emergency_floor * total
    if free < floor:
        before = len(reasons)
        take(unacked, REASON_EMERGENCY, floor)
        if len(reasons) > before:
            alert = ALERT_UNSYNCED
        if free < floor:
            alert = ALERT_DISK_FULL
    return RetentionPlan(delete=list(reasons), alert=alert, reasons=reasons, free_after=free)


def disk_usage(path: Path) -> tuple[int, int]:
    """(total, free) bytes of the file system holding ``path``."""
    usage = shutil.disk_usage(path)
    return usage.total, usage.free
