"""The daemon as systemd runs it: READY, SIGTERM closes clips, SIGKILL loses nothing."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.probe import probe_clip
from tests.conftest import wait_for
from vision.scenes import Appearance, SceneSpec, compose

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def long_visit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Staff seated; one customer from 2 s to 58 s: the kill lands mid-transaction."""
    spec = SceneSpec(60, appearances=(
        Appearance("astronaut", "seat", 0, 60, enter_s=0.0),
        Appearance("messi", "customer", 2, 58),
    ))
    path = tmp_path_factory.mktemp("video") / "long_visit.mp4"
    compose(spec, path)
    return path


class Daemon:
    """`counterunit run` in a subprocess with a notify socket the test owns."""

    def __init__(self, tmp: Path, video: Path) -> None:
        self.data = tmp / "data"
        self.config = tmp / "unit.toml"
        self.config.write_text(
            f'[unit]\ndata_dir = "{self.data}"\n'
            f'[camera]\ntype = "file"\npath = "{video}"\nrealtime = true\n'
            "[microphone]\ntype = \"silent\"\n"
            f'[keypad]\nurl = "{tmp / "no-keypad"}"\n[badge]\nurl = "{tmp / "no-badge"}"\n')
        self.sock_path = str(tmp / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.sock.settimeout(60)
        self.proc: subprocess.Popen[str] | None = None

    @property
    def db(self) -> Path:
        return self.data / "counterunit.db"

    def start(self) -> None:
        env = {**os.environ, "NOTIFY_SOCKET": self.sock_path, "WATCHDOG_USEC": "2000000"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "firmware.cli", "run", "--config", str(self.config)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def notifications(self, until: bytes) -> list[bytes]:
        got: list[bytes] = []
        while not got or until not in got[-1]:
            got.append(self.sock.recv(4096))
        return got

    def query(self, sql: str) -> list[tuple]:
        if not self.db.exists():
            return []
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []  # schema not there yet
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.sock.close()


@pytest.fixture
def daemon(tmp_path: Path, long_visit: Path) -> Iterator[Daemon]:
    d = Daemon(tmp_path, long_visit)
    yield d
    d.stop()


def open_clip_bytes(d: Daemon) -> int:
    rows = d.query("SELECT path FROM clips WHERE state = 'open'")
    if not rows:
        return 0
    partial = Path(rows[0][0] + ".partial")
    return partial.stat().st_size if partial.exists() else 0


def test_ready_then_sigterm_closes_the_open_clip(daemon: Daemon) -> None:
    daemon.start()
    assert b"READY=1" in daemon.notifications(b"READY=1")[-1]
    wait_for(lambda: open_clip_bytes(daemon) > 60_000, 60, "a clip being written")
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGTERM)
    out, _ = daemon.proc.communicate(timeout=30)
    assert daemon.proc.returncode == 0, out
    assert any(b"STOPPING=1" in n for n in daemon.notifications(b"STOPPING=1"))
    ((state, path, sha),) = daemon.query("SELECT state, path, sha256 FROM clips")
    assert state == "closed" and sha and not Path(path + ".partial").exists()
    probe = probe_clip(Path(path))
    assert probe.ok and probe.video == "h264" and probe.audio == "aac", probe
    (reason,) = daemon.query("SELECT end_reason FROM transactions")[0]
    assert reason == "shutdown"
    assert "Traceback" not in out


def test_sigkill_mid_transaction_then_restart(daemon: Daemon) -> None:
    daemon.start()
    daemon.notifications(b"READY=1")
    wait_for(lambda: open_clip_bytes(daemon) > 150_000, 60, "three fragments on disk")
    committed = {row[0] for row in daemon.query("SELECT uuid FROM events")}
    assert daemon.query("SELECT type FROM events WHERE type = 'transaction_started'")
    assert daemon.proc is not None
    daemon.proc.kill()
    daemon.proc.wait(30)

    conn = sqlite3.connect(daemon.db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()

    daemon.start()  # recovery runs before READY
    daemon.notifications(b"READY=1")
    daemon.proc.send_signal(signal.SIGTERM)
    out, _ = daemon.proc.communicate(timeout=30)
    assert daemon.proc.returncode == 0, out

    after = {row[0] for row in daemon.query("SELECT uuid FROM events")}
    assert committed <= after, "a committed event went missing"
    clips = daemon.query("SELECT clip_id, state, path, note FROM clips ORDER BY opened_utc")
    first_id, state, path, note = clips[0]
    assert state in ("salvaged", "cut"), clips
    if state == "salvaged":
        probe = probe_clip(Path(path))
        assert probe.ok and probe.duration and probe.duration >= 2.0, probe
    else:
        assert Path(path).exists(), "a cut clip keeps its bytes"
    assert "unclean stop" in note
    ended = daemon.query(
        f"SELECT end_reason FROM transactions WHERE clip_id = '{first_id}'")
    assert ended == [("interrupted",)]
    assert daemon.query(f"SELECT type FROM events WHERE type = 'clip_{state}'")
