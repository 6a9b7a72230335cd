"""The daemon as systemd runs it: READY, SIGTERM closes clips, SIGKILL loses nothing."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.tools.probe import probe_clip
from tests.conftest import wait_for
from tests.helpers.unit.daemon_proc import DaemonProcess
from vision.compose.scenes import Appearance, SceneSpec, compose

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


@pytest.fixture
def daemon(tmp_path: Path, long_visit: Path) -> Iterator[DaemonProcess]:
    d = DaemonProcess(tmp_path, long_visit)
    yield d
    d.stop()


def open_clip_bytes(d: DaemonProcess) -> int:
    rows = d.query("SELECT path FROM clips WHERE state = 'open'")
    if not rows:
        return 0
    partial = Path(rows[0][0] + ".partial")
    return partial.stat().st_size if partial.exists() else 0


def test_ready_then_sigterm_closes_the_open_clip(daemon: DaemonProcess) -> None:
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


def test_sigkill_mid_transaction_then_restart(daemon: DaemonProcess) -> None:
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
