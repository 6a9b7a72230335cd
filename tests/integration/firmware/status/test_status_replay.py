"""``counterunit status`` over the data a real unit left: a replay of a composed scene.

The replay runs the same loop as the daemon (file camera, real models, state
machine, store, recorder, status file) in its own process, so when it is done
the daemon's pid is gone: exactly a unit whose daemon stopped.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from firmware.cli.status import main as status_main
from firmware.config.unit import load_config
from firmware.status.publish import read_json, write_json_atomic
from firmware.status.render import render
from firmware.status.report import build_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def replayed(scene_video: Callable[[str], tuple[Path, Any]],
             tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(data dir, status config) after a replay with a staff login and a rating."""
    from hal.badge.uid import hash_badge_uid

    tmp = tmp_path_factory.mktemp("status-replay")
    video, truth = scene_video("arrive_leave")
    ((_, end),) = truth.intervals["customer"]
    roster = tmp / "roster.toml"
    roster.write_text('[[staff]]\nstaff_id = "s-7"\nname = "Wang Fang"\nstaff_number = "B7"\n'
                      f'badge_uid_sha256 = ["{hash_badge_uid("0A0B0C0D", "salt-1")}"]\n')
    base = tmp / "replay.toml"
    base.write_text(f'[camera]\ntype = "file"\npath = "{video}"\n'
                    f'[roster]\npath = "{roster}"\nuid_salt = "salt-1"\n')
    script = tmp / "script.jsonl"
    from firmware.config.unit import ZoneConfig

    hold = ZoneConfig.model_fields["exit_hold_s"].default
    prompt_at = end + hold + 1  # the prompt follows the confirmed departure (exit hold)
    script.write_text(f'{{"t": 1.0, "badge": "0A0B0C0D"}}\n{{"t": {prompt_at}, "key": 4}}\n')
    out = tmp / "data"
    proc = subprocess.run(
        [sys.executable, "-m", "firmware.cli", "replay", str(video), "--config", str(base),
         "--script", str(script), "--out", str(out), "--json"],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    cfg = tmp / "unit.toml"
    cfg.write_text(f'[unit]\ndata_dir = "{out}"\n[camera]\ntype = "file"\npath = "{video}"\n'
                   '[sync]\nhq_url = "https://hq.example:8443"\n')
    return out, cfg


def unacked(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM outbox WHERE acked_utc IS NULL "
                                "AND kind = 'event'").fetchone()[0])
    finally:
        conn.close()


def test_status_after_the_daemon_stopped(replayed: tuple[Path, Path],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    data, cfg = replayed
    assert status_main(["status", "--config", str(cfg)]) == 1  # its pid is gone
    text = " ".join(capsys.readouterr().out.split())  # column padding varies
    assert "DAEMON NOT ALIVE" in text and "NOT RUNNING: pid" in text
    assert "Wang Fang (s-7)" in text
    assert "transactions 1" in text and "1 rated (average 4.00)" in text
    events = unacked(data / "counterunit.db")
    assert events > 0 and f"backlog {events} events, 1 clip (" in text
    assert "unsynced 1 (" in text
    assert "never ran (no status/sync.json)" in text
    assert "transaction_started" in text and "clip_closed" in text
    assert "Traceback" not in text


def test_json_from_the_replay(replayed: tuple[Path, Path],
                              capsys: pytest.CaptureFixture[str]) -> None:
    _, cfg = replayed
    assert status_main(["status", "--config", str(cfg), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["daemon"]["state"] == "stopped" and doc["daemon"]["pid_alive"] is False
    assert doc["unit"]["staff"]["staff_id"] == "s-7"
    assert doc["unit"]["seat_present"] is True
    assert doc["db"]["schema_version"] == doc["db"]["schema_current"]
    assert doc["db"]["clips"]["count"] == 1 and doc["db"]["clips"]["bytes"] > 0
    assert doc["db"]["backlog"]["clips"] == 1
    assert [e["type"] for e in doc["db"]["events"]][-1] == "login"


def test_real_status_document_read_as_alive(replayed: tuple[Path, Path]) -> None:
    """The document the unit wrote, as if its writer were this live process, just now."""
    data, cfg = replayed
    path = data / "status" / "unit.json"
    doc = read_json(path)
    assert doc is not None
    try:
        write_json_atomic(path, {**doc, "pid": os.getpid(),
                                 "written_utc": dt.datetime.now(dt.UTC).isoformat()})
        report = build_report(load_config(cfg))
    finally:
        write_json_atomic(path, doc)
    assert report.alive and report.exit_code == 0
    out = io.StringIO()
    render(report, Console(file=out, width=100, color_system=None))
    assert "daemon alive" in out.getvalue() and "Counter (as last" not in out.getvalue()
