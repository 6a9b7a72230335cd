"""Carries out the retention plan in the daemon: deletes clip files, records why.

The daemon (not the sync process) does this because recording must never stop
for lack of space even on a unit that does not sync at all. The choice itself
is the pure ``sync.retention.plan_retention``; this module measures the disk,
deletes the chosen files and records a ``clip_deleted`` event per file and a
disk alert once per episode (raised when unsynced clips must go or nothing is
left to delete, cleared when space is back).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from firmware.config.unit import RetentionConfig
from firmware.recorder.durable import makedirs_durable
from firmware.store import Store
from sync.outbox import clip_files_in
from sync.retention import plan_retention
from sync.schema import EventEnvelope

log = logging.getLogger(__name__)

DiskUsage = Callable[[Path], tuple[int, int]]
DISK_ALERT = "disk"


def _disk_usage(path: Path) -> tuple[int, int]:
    from sync.retention import disk_usage

    return disk_usage(path)


class RetentionKeeper:
    """Runs ``plan_retention`` every ``check_every_s`` of unit time; see the module docstring."""

    def __init__(self, store: Store, clips_dir: Path, cfg: RetentionConfig, *,
                 disk: DiskUsage = _disk_usage) -> None:
        self.store = store
        self.clips_dir = clips_dir
        self.cfg = cfg
        self.disk = disk
        self.alert: str | None = None
        self._next = float("-inf")

    def due(self, now: float) -> bool:
        return now >= self._next

    def check(self, now: float) -> list[EventEnvelope]:
        """Measure, delete what the plan says, record it; returns the events written."""
        self._next = now + self.cfg.check_every_s
        # Durable: a clips folder that a power cut can take would take every clip in it.
        makedirs_durable(self.clips_dir)
        total, free = self.disk(self.clips_dir)
        files = {info.clip_id: (info, path) for info, path in clip_files_in(self.store.conn)}
        plan = plan_retention([info for info, _ in files.values()],
                              self.store.ctx.clock.utc_at(now),
                              retention_days=self.cfg.retention_days, total=total, free=free,
                              low_water=self.cfg.low_water,
                              emergency_floor=self.cfg.emergency_floor)
        events = []
        for clip_id in plan.delete:
            info, path = files[clip_id]
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                log.error("retention could not delete clip %s (%s): %s", clip_id, path, exc)
                continue
            reason = plan.reasons[clip_id]
            events.append(self.store.clip_deleted(clip_id, reason=reason, size=info.size,
                                                  acked=info.acked_utc is not None, t=now))
            log.info("clip %s deleted (%s, %d bytes)", clip_id, reason, info.size)
        events.extend(self._alert(plan.alert, now, total, plan.free_after))
        return events

    def _alert(self, alert: str | None, now: float, total: int,
               free: int) -> list[EventEnvelope]:
        if alert == self.alert:
            return []
        data = {"alert": DISK_ALERT, "detail": alert or self.alert, "free_bytes": free,
                "total_bytes": total}
        if alert is None:
            log.info("disk space recovered: %d of %d bytes free", free, total)
            self.alert = None
            return [self.store.record("alert_cleared", now, data)]
        log.error("disk alert: %s (%d of %d bytes free)", alert, free, total)
        self.alert = alert
        return [self.store.record("alert_raised", now, {**data, "detail": alert})]
