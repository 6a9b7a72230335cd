"""``counterunit hq serve --workers 2``: one port, two worker processes, a supervisor that
restarts a killed worker, housekeeping moving with the lease, and SIGTERM stopping all."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import requests

from tests.helpers.hq.alert_receivers import free_port
from tests.helpers.hq.procs import children, start_worker, stop, wait_up

T = TypeVar("T")


def _until(what: str, probe: Callable[[], T | None], deadline_s: float = 60.0) -> T:
    deadline = time.monotonic() + deadline_s
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {deadline_s:.0f} s: {what}")
        time.sleep(0.05)


def _holder(data: Path) -> int | None:
    """The pid holding the housekeeping lease, read from events.db (None: nobody)."""
    with contextlib.closing(sqlite3.connect(data / "events.db", timeout=10)) as conn:
        try:
            row = conn.execute("SELECT holder FROM hq_leases WHERE name = 'housekeeping' "
                               "AND expires_utc != ''").fetchone()
        except sqlite3.OperationalError:  # no table yet
            return None
    return int(row[0].rsplit(":", 1)[1]) if row and row[0] else None


def _two(pid: int, without: int | None = None) -> list[int] | None:
    got = children(pid)
    return got if len(got) == 2 and without not in got else None


def _held_by(data: Path, pids: list[int], not_pid: int | None) -> int | None:
    h = _holder(data)
    return h if h in pids and h != not_pid else None


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody has reaped yet (its parent is gone)."""
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True


def _ok(url: str, ca: Path) -> bool:
    return requests.get(f"{url}/v1/openapi.json", verify=str(ca), timeout=30).status_code == 200


def test_two_workers_share_a_port_restart_and_stop_together(tmp_path: Path) -> None:
    data, log, port = tmp_path / "hq", tmp_path / "hq.log", free_port()
    sup = start_worker(data, port, log, "--workers", "2", "--housekeeping-lease-s", "3")
    try:
        wait_up(sup, data, port, log)
        url, ca = f"https://127.0.0.1:{port}", data / "ca" / "ca.pem"
        pids = _until("two workers", lambda: _two(sup.pid))
        holder = _until("a lease holder among the workers",
                        lambda: _held_by(data, pids, None))
        # Every request on the shared port is answered, by whichever worker accepts.
        assert all(_ok(url, ca) for _ in range(6))
        # Kill the holder: the supervisor starts a new worker, the other takes the lease.
        os.kill(holder, signal.SIGKILL)
        survivor = next(p for p in pids if p != holder)
        new = _until("a replacement worker", lambda: _two(sup.pid, without=holder), 120)
        assert survivor in new
        assert _until("the lease moved", lambda: _held_by(data, new, holder)) in new
        assert all(_ok(url, ca) for _ in range(4))
        # SIGTERM: every worker stops, then the supervisor, cleanly.
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(60) == 0
        assert all(_gone(pid) for pid in new)
        assert _holder(data) is None  # released on the clean stop, not left to lapse
        text = log.read_text()
        assert "HQ worker 0 started" in text and "starting it again" in text
        assert "all 2 workers stopped" in text
    finally:
        stop(sup)


def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    data, log, port = tmp_path / "hq", tmp_path / "hq.log", free_port()
    sup = start_worker(data, port, log, "--workers", "2")
    try:
        wait_up(sup, data, port, log)
        pids = _until("two workers", lambda: _two(sup.pid))
        _until("both workers serving", lambda: log.read_text().count("HQ serving") == 2
               or None)
        sup.send_signal(signal.SIGKILL)  # no chance to stop them itself
        sup.wait(10)
        _until("no orphaned worker serving the port",
               lambda: all(_gone(p) for p in pids) or None)
        assert log.read_text().count("HQ stopped") == 2  # each shut down cleanly
    finally:
        stop(sup)
