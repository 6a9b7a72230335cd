"""``counterunit queue-sim`` in a real subprocess: serial on a pty it creates, HTTP on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from hal.queue.base import QueueReading
from hal.queue.serial_feed import SerialQueueFeed

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "firmware.cli", "queue-sim", *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV)


def test_http_sim_serves_the_snapshot() -> None:
    proc = start("http", "--listen", "127.0.0.1:0", "--waiting", "A=4", "--call", "A031@3",
                 "--interactive")
    try:
        assert proc.stdout is not None
        # The address is announced once the --call asked for is on the board.
        lines = iter(proc.stdout.readline, "")
        url = next(ln for ln in lines if ln.startswith("queue snapshot at ")).split(" at ")[1]
        url = url.strip()
        with urllib.request.urlopen(url, timeout=5) as resp:
            doc = json.loads(resp.read())
        assert doc == {"protocol": 1, "services": [{"service": "A", "waiting": 4}],
                       "calls": [{"call_id": 1, "ticket": "A031", "counter": "3"}]}
    finally:
        proc.communicate("quit\n", timeout=10)
    assert proc.returncode == 0


def test_serial_sim_creates_a_pty_for_the_unit(tmp_path: Path) -> None:
    link = tmp_path / "queue"
    proc = start("serial", "--port", str(link), "--heartbeat", "0.1", "--interactive")
    try:
        assert proc.stdout is not None
        assert "unit side of the line" in proc.stdout.readline()
        feed = SerialQueueFeed(str(link), clock=time.monotonic, reconnect_s=0.02)
        feed.start()
        try:
            deadline = time.monotonic() + 5
            got: list[QueueReading] = []
            while not any(r.kind == "alive" for r in got):
                assert time.monotonic() < deadline
                feed.wait_for_reading(0.1)
                got += feed.readings()
            assert proc.stdin is not None
            proc.stdin.write("q B 9\n")
            proc.stdin.flush()
            while not any(r.kind == "waiting" for r in got):
                assert time.monotonic() < deadline
                feed.wait_for_reading(0.1)
                got += feed.readings()
        finally:
            feed.stop()
        assert next((r.service, r.waiting) for r in got if r.kind == "waiting") == ("B", 9)
    finally:
        proc.communicate("quit\n", timeout=10)
    assert proc.returncode == 0 and not link.exists()
