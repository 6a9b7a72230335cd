"""The real daemon, its file camera reading a FIFO whose feeder stalls then resumes:
one ``camera_failed`` with a reason while no frame comes, one ``camera_recovered`` when
frames return, each logged once."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _camera_events(db: Path) -> list[tuple[str, dict]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            rows = conn.execute("SELECT type, data FROM events WHERE type LIKE 'camera_%' "
                                "ORDER BY rowid").fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet
    return [(t, json.loads(d)) for t, d in rows]


def _wait(cond: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)  # polling a condition with a deadline, not waiting a thread out


def test_stall_is_one_failure_and_resume_one_recovery(
        tmp_path: Path, scene_video: Callable[[str], tuple[Path, object]]) -> None:
    video, _ = scene_video("passer_by")
    stream = tmp_path / "scene.ts"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(video), "-t", "10",
                    "-c", "copy", "-f", "mpegts", str(stream)], check=True)
    fifo = tmp_path / "cam.fifo"
    os.mkfifo(fifo)
    data_dir = tmp_path / "data"
    config = tmp_path / "unit.toml"
    config.write_text(
        f'[unit]\ndata_dir = "{data_dir}"\n'
        f'[camera]\ntype = "file"\npath = "{fifo}"\nrealtime = true\n'
        '[microphone]\ntype = "silent"\n'
        f'[keypad]\nurl = "{tmp_path / "nokp"}"\n[badge]\nurl = "{tmp_path / "nob"}"\n')
    db = data_dir / "counterunit.db"
    data = stream.read_bytes()
    resume = threading.Event()

    def feed() -> None:  # half, stall with the FIFO held open, then the rest
        with fifo.open("wb") as out:
            out.write(data[: len(data) // 2])
            out.flush()
            resume.wait(120)
            out.write(data[len(data) // 2:])

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    proc = subprocess.Popen([sys.executable, "-m", "firmware.cli", "run", "--config", str(config)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait(lambda: any(t == "camera_failed" for t, _ in _camera_events(db))
              or proc.poll() is not None, "camera_failed")
        assert proc.poll() is None, "the daemon must keep running while the camera hangs"
        resume.set()
        _wait(lambda: proc.poll() is not None, "the stream to end")
    finally:
        resume.set()
        if proc.poll() is None:
            proc.kill()
        out, _ = proc.communicate(timeout=30)
    events = _camera_events(db)
    assert [t for t, _ in events] == ["camera_failed", "camera_recovered"], (events, out[-3000:])
    assert events[0][1]["reason"].startswith("no frame for "), events
    assert out.count("camera failed") == 1 and out.count("camera recovered") == 1, out[-3000:]
    assert not (data_dir / "camera-failed.json").exists(), "the episode is closed on disk"
    snap = events[1][1]["snapshot_id"]  # what the camera sees again, stamped
    assert (data_dir / "clips" / "snapshots" / f"{snap}.jpg").stat().st_size > 1000
