"""Retention choice: expired synced clips go, then synced for space, unsynced only in emergency."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sync.retention import (
    ALERT_DISK_FULL,
    ALERT_UNSYNCED,
    REASON_EMERGENCY,
    REASON_EXPIRED,
    REASON_LOW_SPACE,
    ClipInfo,
    RetentionError,
    disk_usage,
    plan_retention,
)

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
TOTAL = 1000


def clip(clip_id: str, age_days: float, size: int = 10, acked: bool = False,
         is_open: bool = False) -> ClipInfo:
    closed = None if is_open else NOW - dt.timedelta(days=age_days)
    return ClipInfo(clip_id, size, closed, NOW if acked else None, is_open=is_open)


# Retention 30 days, low water 15 % (150 bytes free), floor 5 % (50 bytes free).
CASES = [
    pytest.param(
        [clip("old-acked", 40, acked=True), clip("new-acked", 1, acked=True),
         clip("old-unacked", 40)],
        500, ["old-acked"], None, id="plenty-of-space-only-expired-acked-go"),
    pytest.param(
        [clip("a", 31, acked=True), clip("b", 30.5, acked=True)],
        900, ["a", "b"], None, id="expired-go-even-with-plenty-of-space"),
    pytest.param(
        [clip("new2", 2, size=30, acked=True), clip("new5", 5, size=30, acked=True),
         clip("new9", 9, size=30, acked=True), clip("un", 20, size=500)],
        100, ["new9", "new5"], None, id="low-water-takes-acked-oldest-first-until-met"),
    pytest.param(
        [clip("exp", 40, size=60, acked=True), clip("new", 1, size=30, acked=True)],
        100, ["exp"], None, id="expired-deletion-counts-toward-low-water"),
    pytest.param(
        [clip("ack", 1, size=10, acked=True), clip("un-old", 20, size=25),
         clip("un-mid", 10, size=25), clip("un-new", 1, size=25)],
        10, ["ack", "un-old", "un-mid"], ALERT_UNSYNCED, id="emergency-unacked-oldest-first"),
    pytest.param(
        [clip("ack", 1, size=100, acked=True), clip("un", 20, size=25)],
        10, ["ack"], None, id="acked-lifts-above-floor-so-unacked-spared"),
    pytest.param(
        [clip("un", 20, size=25)],
        100, [], None, id="below-low-water-above-floor-unacked-untouched"),
    pytest.param(
        [clip("open", 0, size=900, is_open=True), clip("un", 20, size=5)],
        10, ["un"], ALERT_DISK_FULL, id="open-clip-never-deleted-disk-full"),
    pytest.param(
        [], 10, [], ALERT_DISK_FULL, id="nothing-at-all-disk-full"),
    pytest.param(
        [clip("ack", 1, acked=True)], 150, [], None, id="exactly-at-low-water-is-enough"),
]


@pytest.mark.parametrize(("clips", "free", "delete", "alert"), CASES)
def test_plan(clips: list[ClipInfo], free: int, delete: list[str], alert: str | None) -> None:
    plan = plan_retention(clips, NOW, retention_days=30, total=TOTAL, free=free,
                          low_water=0.15, emergency_floor=0.05)
    assert plan.delete == delete
    assert plan.alert == alert
    assert plan.free_after == min(TOTAL, free + sum(c.size for c in clips
                                                    if c.clip_id in delete))


def test_reasons_name_each_stage() -> None:
    clips = [clip("exp", 40, size=5, acked=True), clip("space", 1, size=5, acked=True),
             clip("un", 1, size=100)]
    plan = plan_retention(clips, NOW, retention_days=30, total=TOTAL, free=0)
    assert plan.reasons == {"exp": REASON_EXPIRED, "space": REASON_LOW_SPACE,
                            "un": REASON_EMERGENCY}


def test_input_order_does_not_matter() -> None:
    clips = [clip(f"c{i}", i, size=30, acked=True) for i in range(10)]
    forward = plan_retention(clips, NOW, retention_days=30, total=TOTAL, free=100)
    backward = plan_retention(clips[::-1], NOW, retention_days=30, total=TOTAL, free=100)
    assert forward.delete == backward.delete == ["c9", "c8"]


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"retention_days": -1}, "retention_days"),
    ({"total": 0}, "total"),
    ({"free": 2000}, "free"),
    ({"low_water": 0.02}, "emergency_floor"),
    ({"low_water": 1.0}, "low_water"),
])
def test_bad_settings_raise_clear_error(kwargs: dict[str, float], words: str) -> None:
    args: dict[str, float] = {"retention_days": 30, "total": TOTAL, "free": 500,
                              "low_water": 0.15, "emergency_floor": 0.05, **kwargs}
    with pytest.raises(RetentionError, match=words):
        plan_retention([], NOW, **args)  # type: ignore[arg-type]


def test_disk_usage_reports_this_filesystem(tmp_path: Path) -> None:
    total, free = disk_usage(tmp_path)
    assert 0 < free <= total
