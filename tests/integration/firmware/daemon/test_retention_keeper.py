"""Retention carried out on a real unit database and real clip files.

The disk is the only stand-in: its free space is ``total - other - files present``,
so deleting a file really frees space, as on the unit's data partition.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from firmware.config.unit import RetentionConfig
from firmware.daemon.retention import RetentionKeeper
from firmware.store import Store
from sync.outbox import Outbox
from sync.retention import ALERT_DISK_FULL, ALERT_UNSYNCED, REASON_EMERGENCY, REASON_EXPIRED

DAY = 86400.0
MB = 1_000_000


def retention(**fields: float) -> RetentionConfig:
    return RetentionConfig.model_validate(fields)


@dataclass
class Disk:
    clips: Path
    total: int
    other: int  # bytes used by everything but clips

    def __call__(self, _path: Path) -> tuple[int, int]:
        used = sum(p.stat().st_size for p in self.clips.glob("*.mp4"))
        return self.total, max(0, self.total - self.other - used)


def clip(store: Store, clips: Path, clip_id: str, size: int, closed_t: float,
         *, acked: bool = False, finished: bool = True) -> Path:
    clips.mkdir(exist_ok=True)
    path = clips / f"{clip_id}.mp4"
    payload = bytes(size)
    store.clip_opened(clip_id, "transaction", path, closed_t - 1)
    path.write_bytes(payload)
    if finished:
        store.clip_finished(clip_id, state="closed", path=path, t=closed_t, duration_s=1.0,
                            size=size, sha256=hashlib.sha256(payload).hexdigest())
    if acked:
        store.conn.execute("UPDATE outbox SET acked_utc = ? WHERE kind = 'clip' AND ref = ?",
                           [store.ctx.clock.utc_at(closed_t + 60).isoformat(), clip_id])
    return path


def deleted(store: Store) -> list[tuple[str, str, bool]]:
    return [(e["data"]["clip_id"], e["data"]["reason"], e["data"]["synced"])
            for e in events(store, "clip_deleted")]


def events(store: Store, type_: str) -> list[dict]:
    import json

    return [{**r, "data": json.loads(r["data"])}
            for r in store.rows("events", order_by="rowid") if r["type"] == type_]


def test_expired_synced_clips_go_unsynced_and_recent_stay(store: Store, tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    old_acked = clip(store, clips, "old-acked", MB, 10, acked=True)
    old_unacked = clip(store, clips, "old-unacked", MB, 20)
    new_acked = clip(store, clips, "new-acked", MB, 5 * DAY, acked=True)
    keeper = RetentionKeeper(store, clips, retention(retention_days=3),
                             disk=Disk(clips, 100 * MB, 10 * MB))
    keeper.check(5 * DAY + 100)
    assert not old_acked.exists() and old_unacked.exists() and new_acked.exists()
    assert deleted(store) == [("old-acked", REASON_EXPIRED, True)]
    row = next(r for r in store.rows("clips") if r["clip_id"] == "old-acked")
    assert row["delete_reason"] == REASON_EXPIRED and row["deleted_utc"]
    assert not events(store, "alert_raised")


def test_pressure_takes_synced_oldest_first_and_spares_unsynced(store: Store,
                                                                tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    for i in range(4):
        clip(store, clips, f"acked-{i}", 10 * MB, 100 + i, acked=True)
    clip(store, clips, "unacked", 10 * MB, 50)
    # 100 MB disk, 40 MB other + 50 MB clips = 10 % free; low water 25 %: two acked go.
    keeper = RetentionKeeper(store, clips, retention(low_water=0.25, emergency_floor=0.05),
                             disk=Disk(clips, 100 * MB, 40 * MB))
    keeper.check(200)
    assert [d[0] for d in deleted(store)] == ["acked-0", "acked-1"]
    assert (clips / "unacked.mp4").exists()
    assert not events(store, "alert_raised")


def test_emergency_takes_unsynced_with_one_alert_then_clears(store: Store,
                                                             tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    clip(store, clips, "u-old", 4 * MB, 10)
    clip(store, clips, "u-new", 4 * MB, 20)
    clip(store, clips, "still-open", 4 * MB, 30, finished=False)
    disk = Disk(clips, 100 * MB, 86 * MB)  # 2 % free, floor 5 %
    keeper = RetentionKeeper(store, clips, retention(low_water=0.1, emergency_floor=0.05),
                             disk=disk)
    keeper.check(100)
    assert deleted(store) == [("u-old", REASON_EMERGENCY, False)]
    (raised,) = events(store, "alert_raised")
    assert raised["data"]["alert"] == "disk" and raised["data"]["detail"] == ALERT_UNSYNCED
    assert (clips / "still-open.mp4").exists(), "an open clip is never deleted"

    # The deleted clip is gone for good: sync neither offers it nor calls it missing.
    ob = Outbox(store.path)
    try:
        assert [c.clip_id for c in ob.pending_clips()] == ["u-new"]
        assert ob.missing_clips() == []
        assert ob.backlog().clips == 1
    finally:
        ob.close()

    keeper.check(200)  # same episode: no second alert
    assert len(events(store, "alert_raised")) == 1
    disk.other = 10 * MB
    keeper.check(300)
    (cleared,) = events(store, "alert_cleared")
    assert cleared["data"]["alert"] == "disk"
    (alert_row,) = store.rows("alerts")
    assert alert_row["cleared_utc"] is not None


def test_nothing_deletable_raises_disk_full(store: Store, tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    clip(store, clips, "recording", 1 * MB, 10, finished=False)
    keeper = RetentionKeeper(store, clips, retention(),
                             disk=Disk(clips, 100 * MB, 98 * MB))
    keeper.check(100)
    assert deleted(store) == []
    (raised,) = events(store, "alert_raised")
    assert raised["data"]["detail"] == ALERT_DISK_FULL


def test_checks_run_on_the_configured_period(store: Store, tmp_path: Path) -> None:
    keeper = RetentionKeeper(store, tmp_path / "clips", retention(check_every_s=60),
                             disk=Disk(tmp_path / "clips", 100 * MB, 0))
    assert keeper.due(0)
    keeper.check(0)
    assert not keeper.due(59.9) and keeper.due(60)
