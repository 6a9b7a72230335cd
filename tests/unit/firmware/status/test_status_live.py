"""Reading the daemon's and sync process's status files: freshness, pid, odd documents."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from firmware.status.live import (
    DAEMON_FRESH_S,
    SYNC_FRESH_S,
    assess,
    parse_sync,
    parse_unit,
    pid_alive,
    read_status_file,
    sync_fresh_until,
)

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def doc_at(age_s: float, **extra: Any) -> dict[str, Any]:
    return {"written_utc": (NOW - dt.timedelta(seconds=age_s)).isoformat(), "pid": 4242,
            **extra}


@pytest.mark.parametrize(("doc", "problem", "alive", "state"), [
    (doc_at(2), None, True, "running"),
    (doc_at(2), None, None, "running"),         # pid unknown: trust the fresh file
    (doc_at(14.9), None, True, "running"),
    (doc_at(15.1), None, True, "hung"),         # writer exists but stopped writing
    (doc_at(300), None, None, "stale"),
    (doc_at(300), None, False, "stopped"),
    (doc_at(1), None, False, "stopped"),        # died a second ago: pid gone wins
    (doc_at(-5), None, True, "running"),        # clock stepped back a little
    (doc_at(-600), None, None, "stale"),        # dated far ahead: not being rewritten
    (None, None, None, "never ran"),
    (None, "permission denied", None, "unreadable"),
    ({"pid": 1, "written_utc": "yesterday"}, None, True, "unreadable"),
    ({"pid": 1}, None, True, "unreadable"),
])
def test_daemon_state_from_age_and_pid(doc: dict[str, Any] | None, problem: str | None,
                                       alive: bool | None, state: str) -> None:
    view = assess("daemon", Path("unit.json"), doc, problem, NOW, DAEMON_FRESH_S, alive=alive)
    assert view.state == state
    if doc is not None and state not in ("unreadable",):
        assert view.age_s == pytest.approx((NOW - parse_unit(doc).written_utc).total_seconds())  # type: ignore[operator]


@pytest.mark.parametrize(("age_s", "next_try_in_s", "state"), [
    (30, None, "running"),
    (SYNC_FRESH_S + 10, None, "hung"),
    (1200, 100, "running"),     # backing off for 20+ minutes, said so
    (1200, -30, "running"),     # retry just due: grace
    (1200, -120, "hung"),       # retry long overdue
])
def test_sync_fresh_while_its_announced_retry_is_ahead(age_s: float, next_try_in_s: float | None,
                                                       state: str) -> None:
    extra = {} if next_try_in_s is None else {
        "next_try_utc": (NOW + dt.timedelta(seconds=next_try_in_s)).isoformat()}
    doc = doc_at(age_s, **extra)
    until = sync_fresh_until(parse_sync(doc))
    view = assess("sync", Path("sync.json"), doc, None, NOW, SYNC_FRESH_S, alive=True,
                  fresh_until=until)
    assert view.state == state


def test_unit_document_is_read_key_by_key() -> None:
    doc = {
        "written_utc": "2026-11-22T11:59:58+00:00", "counter_open": True,
        "staff": {"staff_id": "s-7", "name": "Wang Fang", "since_utc": "2026-11-22T08:00:00"},
        "seat_present": True, "customer_present": None,
        "transaction": {"txn_id": "t1", "since_utc": "2026-11-22T11:58:00+00:00",
                        "seconds": 118.0},
        "rating_window_open": False,
        "absence": {"absence_id": "a1", "since_utc": None, "seconds": "long",
                    "alert_level": 2},
        "manual_recording": "yes", "last_frame_age_s": 0.2, "clock_synced": True,
        "pid": 5, "added_later": {"x": 1},
    }
    u = parse_unit(doc)
    assert u.staff is not None and (u.staff.name, u.staff.staff_id) == ("Wang Fang", "s-7")
    assert u.staff.since_utc == dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)  # naive = UTC
    assert (u.seat_present, u.customer_present) == (True, None)
    assert u.transaction is not None and u.transaction.seconds == 118.0
    # Wrong types read as unknown instead of failing.
    assert u.absence is not None and (u.absence.seconds, u.absence.alert_level) == (None, 2)
    assert u.manual_recording is None


def test_unit_document_without_any_key() -> None:
    u = parse_unit({})
    assert (u.written_utc, u.staff, u.transaction, u.seat_present) == (None, None, None, None)


def test_sync_document_is_read_key_by_key() -> None:
    s = parse_sync({"written_utc": NOW.isoformat(), "last_error": "timeout",
                    "consecutive_failures": 3, "uploading": {"clip_id": "c1", "sent": 10,
                                                             "size": "big"},
                    "stats": {"events_accepted": 4, "odd": "x", "failures": True},
                    "in_upload_window": False})
    assert (s.last_error, s.consecutive_failures, s.in_upload_window) == ("timeout", 3, False)
    assert s.uploading is not None and (s.uploading.sent, s.uploading.size) == (10, None)
    assert s.stats == {"events_accepted": 4}
    assert (s.hq_url, s.last_ok_utc, s.next_try_utc) == (None, None, None)


def test_read_status_file_tells_absent_from_broken(tmp_path: Path) -> None:
    path = tmp_path / "unit.json"
    assert read_status_file(path) == (None, None)
    path.write_text("{half")
    doc, problem = read_status_file(path)
    assert doc is None and problem is not None and "corrupt" in problem
    path.write_text("[1, 2]")
    assert read_status_file(path)[1] is not None
    path.write_text(json.dumps({"pid": 1}))
    assert read_status_file(path) == ({"pid": 1}, None)


def test_pid_alive_on_real_processes() -> None:
    assert pid_alive(os.getpid()) is True
    assert pid_alive(0) is None
    # Beyond the kernel's pid limit: cannot exist.
    limit = int(Path("/proc/sys/kernel/pid_max").read_text())
    assert pid_alive(limit + 1) is False
