"""``counterunit status`` end to end over temp data dirs: report, screen, JSON, exit codes."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from firmware.cli.status import main as status_main
from firmware.config.unit import UnitConfig, parse_config
from firmware.status.host import ModelCheck, Usage, Versions
from firmware.status.publish import write_json_atomic
from firmware.status.render import render, report_dict
from firmware.status.report import Probes, StatusReport, build_report, day_start
from firmware.store import EventContext, Store
from firmware.system.clock import UnitClock

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
DAEMON_PID, SYNC_PID = 4100, 4200
GIB = 1 << 30


def config(data_dir: Path, *, sync: bool = True, tz: str = "UTC") -> UnitConfig:
    doc: dict[str, Any] = {"unit": {"data_dir": str(data_dir), "unit_id": "unit-77",
                                    "timezone": tz},
                           "camera": {"type": "file", "path": "cam.mp4"}}
    if sync:
        doc["sync"] = {"hq_url": "https://hq.example:8443"}
    return parse_config(doc)


def probes(alive: set[int] | None = None, *, now: dt.datetime = NOW) -> Probes:
    running = {DAEMON_PID, SYNC_PID} if alive is None else alive
    return Probes(
        now=lambda: now,
        pid_alive=lambda pid: pid in running,
        clock_synced=lambda: True,
        disk_usage=lambda p: Usage(total=64 * GIB, used=48 * GIB, free=16 * GIB),
        versions=lambda d: Versions("9.9.9", "3.11.0", d, (
            ModelCheck("pose_detection", "pose_detection.tflite", "9ba9dd3d42ef", True),
            ModelCheck("pose_landmark_full", "pose_landmark_full.tflite", "e9a5c5cb17f7",
                       False, "missing"))),
    )


def unit_doc(age_s: float, **over: Any) -> dict[str, Any]:
    def at(s: float) -> str:
        return (NOW - dt.timedelta(seconds=s)).isoformat()

    return {"written_utc": at(age_s), "pid": DAEMON_PID, "counter_open": True,
            "staff": {"staff_id": "s-7", "name": "Wang Fang", "since_utc": at(3600)},
            "seat_present": True, "customer_present": True,
            "transaction": {"txn_id": "abc-t3", "since_utc": at(95), "seconds": 93.0},
            "rating_window_open": False, "absence": None, "manual_recording": False,
            "last_frame_age_s": 0.2, "clock_synced": True, **over}


def sync_doc(age_s: float, **over: Any) -> dict[str, Any]:
    return {"written_utc": (NOW - dt.timedelta(seconds=age_s)).isoformat(), "pid": SYNC_PID,
            "hq_url": "https://hq.example:8443", "last_ok_utc": None,
            "last_error": "HQ unreachable: connection refused", "consecutive_failures": 7,
            "next_try_utc": (NOW + dt.timedelta(seconds=40)).isoformat(),
            "in_upload_window": True,
            "uploading": {"clip_id": "abc-t2", "sent": 3 << 20, "size": 12 << 20},
            "stats": {"events_accepted": 120, "events_duplicate": 2, "clips_uploaded": 5,
                      "failures": 7}, **over}


def write_status(data_dir: Path, unit: dict[str, Any] | None = None,
                 sync: dict[str, Any] | None = None) -> None:
    if unit is not None:
        write_json_atomic(data_dir / "status" / "unit.json", unit)
    if sync is not None:
        write_json_atomic(data_dir / "status" / "sync.json", sync)


def with_database(data_dir: Path) -> None:
    clock = UnitClock.media(lambda: 0.0, NOW - dt.timedelta(hours=1))
    store = Store(data_dir / "counterunit.db", EventContext("unit-77", "c", "b", clock))
    try:
        store.record("login", 0, {"staff_id": "s-7", "session_id": "s1", "name": "Wang Fang"})
        store.record("transaction_started", 10, {"txn_id": "abc-t1", "staff_id": "s-7"})
        store.record("transaction_ended", 70, {"txn_id": "abc-t1", "duration_s": 60.0})
        store.record("rating", 75, {"txn_id": "abc-t1", "outcome": "rated", "rating": 5})
        store.record("alert_raised", 80, {"alert": "off_seat", "level": 2})
    finally:
        store.close()


def screen(report: StatusReport) -> str:
    out = io.StringIO()
    render(report, Console(file=out, width=100, color_system=None))
    return out.getvalue()


Setup = Callable[[Path], None]


@pytest.mark.parametrize(("setup", "alive", "exit_code", "daemon_state", "says"), [
    (lambda d: write_status(d, unit_doc(2), sync_doc(5)), None, 0, "running",
     ["daemon alive", "Wang Fang (s-7)", "abc-t3 for 1 minute and 35 seconds",
      "customer present", "running, updated 5 seconds ago",
      "HQ unreachable: connection refused", "(7 failures in a row)", "next try in 40 seconds",
      "abc-t2: 25% of 12.0 MiB", "never"]),
    # Daemon stopped 5 minutes ago: the screen says so and shows the state it last had.
    (lambda d: write_status(d, unit_doc(300)), {SYNC_PID}, 1, "stopped",
     ["DAEMON NOT ALIVE", f"NOT RUNNING: pid {DAEMON_PID} is gone; last status 5 minutes ago",
      "Counter (as last reported, 5 minutes ago)", "Wang Fang",
      # No sync.json: sync configured but never ran.
      "never ran (no status/sync.json)"]),
    # Hung: the pid exists but the file is old.
    (lambda d: write_status(d, unit_doc(60), sync_doc(600, next_try_utc=None)), None, 1,
     "hung", ["NOT RESPONDING: last status a minute ago", f"pid {DAEMON_PID} still exists",
              "NOT RESPONDING: last status 10", f"pid {SYNC_PID} still exists"]),
    # Never ran: nothing but a config.
    (lambda d: None, None, 1, "never ran",
     ["never ran (no status/unit.json)", "no counter state",
      "counterunit.db not found (the daemon", "unknown (no database yet)"]),
    # A half-written or foreign file.
    (lambda d: (d / "status").mkdir() or (d / "status" / "unit.json").write_text("{oops"),
     None, 1, "unreadable", ["status file unreadable: not a JSON object"]),
    # Fresh, nobody logged in, off seat with an alert, camera stalled.
    (lambda d: write_status(d, unit_doc(1, staff=None, seat_present=False,
                                        customer_present=None, transaction=None,
                                        last_frame_age_s=42.0, absence={
                                            "absence_id": "a1", "alert_level": 2,
                                            "since_utc": (NOW - dt.timedelta(minutes=6)
                                                          ).isoformat()})),
     None, 0, "running",
     ["nobody logged in", "seat empty", "customer unknown yet",
      "for 6 minutes, alert level 2", "no frame for 42 seconds", "transaction none open"]),
])
def test_screen_and_exit_code(tmp_path: Path, setup: Setup, alive: set[int] | None,
                              exit_code: int, daemon_state: str, says: list[str]) -> None:
    setup(tmp_path)
    report = build_report(config(tmp_path), probes(alive))
    assert (report.daemon.state, report.exit_code) == (daemon_state, exit_code)
    text = screen(report)
    flat = " ".join(text.split())  # column padding varies with the longest label
    for phrase in says:
        assert phrase in flat, f"{phrase!r} not in:\n{text}"
    assert "Traceback" not in text
    assert len(text.splitlines()) <= 42


def test_database_sections_on_screen(tmp_path: Path) -> None:
    with_database(tmp_path)
    write_status(tmp_path, unit_doc(2))
    text = " ".join(screen(build_report(config(tmp_path, sync=False), probes())).split())
    assert "not configured (no [sync] section" in text
    assert "5 events (1 alert), 0 clips (0 Bytes)" in text
    assert "transactions 1" in text and "1 rated (average 5.00), 0 unrated" in text
    assert "alerts 1 (1 open)" in text
    assert "schema 2" in text
    assert "Last 5 events" in text and "alert_raised" in text and "name=Wang Fang" in text
    assert "16.0 GiB free of 64.0 GiB (75% used)" in text
    assert "pose_landmark_full e9a5c5cb17f7 missing" in text
    assert "HQ cert" not in text  # no [sync], no identity folder: nothing to say


def test_json_has_the_same_facts(tmp_path: Path) -> None:
    with_database(tmp_path)
    write_status(tmp_path, unit_doc(2), sync_doc(5))
    doc = json.loads(json.dumps(report_dict(build_report(config(tmp_path), probes()))))
    assert (doc["alive"], doc["exit_code"], doc["daemon"]["state"]) == (True, 0, "running")
    assert doc["unit"]["staff"]["name"] == "Wang Fang"
    assert doc["unit"]["transaction"]["txn_id"] == "abc-t3"
    assert doc["sync_live"]["uploading"] == {"clip_id": "abc-t2", "sent": 3 << 20,
                                             "size": 12 << 20}
    assert doc["db"]["backlog"]["events"] == 5 and doc["db"]["today"]["transactions"] == 1
    assert doc["disk"]["free"] == 16 * GIB
    assert doc["certificate"]["problem"] == "not enrolled"
    assert doc["now_utc"] == NOW.isoformat()


def test_a_failing_source_costs_its_section_only(tmp_path: Path) -> None:
    write_status(tmp_path, unit_doc(2))

    def broken(_: Path) -> Versions:
        raise RuntimeError("manifest exploded")

    p = probes()
    report = build_report(config(tmp_path), Probes(p.now, p.pid_alive, p.clock_synced,
                                                   p.disk_usage, broken))
    assert report.versions is None and report.alive
    assert report.problems == ("versions: RuntimeError: manifest exploded",)
    assert "problem: versions: RuntimeError: manifest exploded" in screen(report)


def test_missing_data_dir_is_a_line(tmp_path: Path) -> None:
    def no_disk(path: Path) -> Usage:
        raise FileNotFoundError(2, "No such file or directory")

    p = probes()
    report = build_report(config(tmp_path / "nowhere"),
                          Probes(p.now, p.pid_alive, p.clock_synced, no_disk, p.versions))
    assert report.disk.problem == f"data folder {tmp_path / 'nowhere'} not found"
    assert "data folder" in screen(report)


@pytest.mark.parametrize(("tz", "start"), [
    ("UTC", dt.datetime(2026, 11, 22, 0, 0, tzinfo=dt.UTC)),
    ("Asia/Shanghai", dt.datetime(2026, 11, 21, 16, 0, tzinfo=dt.UTC)),
    ("America/New_York", dt.datetime(2026, 11, 22, 5, 0, tzinfo=dt.UTC)),
])
def test_today_starts_at_local_midnight(tz: str, start: dt.datetime) -> None:
    from zoneinfo import ZoneInfo

    assert day_start(NOW, ZoneInfo(tz)) == start


# ---- the command line -------------------------------------------------------------------

def write_config(tmp_path: Path, data_dir: Path) -> Path:
    path = tmp_path / "unit.toml"
    path.write_text(f'[unit]\ndata_dir = "{data_dir}"\n[camera]\ntype = "file"\n'
                    'path = "cam.mp4"\n')
    return path


def test_cli_config_error_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "unit.toml"
    bad.write_text('[unit]\ndata_dir = "/x"\nsurprise = 1\n[camera]\ntype = "file"\n'
                   'path = "c.mp4"\n')
    assert status_main(["status", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unit.surprise: unknown key" in err and "Traceback" not in err
    assert status_main(["status", "--config", str(tmp_path / "absent.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_cli_live_daemon_exits_0_and_json(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import os

    data = tmp_path / "data"
    write_status(data, {**unit_doc(0), "written_utc": dt.datetime.now(dt.UTC).isoformat(),
                        "pid": os.getpid()})
    cfg = write_config(tmp_path, data)
    assert status_main(["status", "--config", str(cfg)]) == 0
    assert "daemon alive" in capsys.readouterr().out
    assert status_main(["status", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["daemon"]["pid"] == os.getpid()


def test_cli_stale_daemon_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    write_status(data, {**unit_doc(0), "written_utc": (
        dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat(), "pid": None})
    assert status_main(["status", "--config", str(write_config(tmp_path, data))]) == 1
    assert "NOT RUNNING?: last status 5 minutes ago" in capsys.readouterr().out


def test_cli_rejects_a_bad_event_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        status_main(["status", "--events", "many"])
    assert exc.value.code == 2
    assert "from 0 to 100" in capsys.readouterr().err


@pytest.mark.parametrize(("days", "says"), [
    (200, "valid until 2027-06-10 (200 days left)"),
    (10, "(10 days left)"),
    (-1, "(EXPIRED)"),
])
def test_certificate_expiry_reported_by_sync(tmp_path: Path, days: int, says: str) -> None:
    """The identity folder is root-only; the expiry the sync process reports stands in."""
    write_status(tmp_path, unit_doc(2), sync_doc(5, config_etag="v7", cert_not_after_utc=(
        NOW + dt.timedelta(days=days, hours=1)).isoformat()))
    report = build_report(config(tmp_path), probes())
    assert report.certificate is not None and report.certificate.problem == "not enrolled"
    flat = " ".join(screen(report).split())
    assert "HQ cert valid until" in flat and says in flat
    assert "config from HQ, version v7" in flat
