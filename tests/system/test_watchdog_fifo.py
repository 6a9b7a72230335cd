"""A hung camera stops the watchdog: the real daemon reading a FIFO whose feeder stops.

The write end stays open (as a stuck camera driver would), so PyAV blocks in
read and no frame arrives; the daemon must then stop pinging within one
watchdog interval, so systemd restarts it. While frames flow it keeps pinging.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

WATCHDOG_S = 2.0


def test_pings_stop_once_the_camera_hangs(
        tmp_path: Path, scene_video: Callable[[str], tuple[Path, object]]) -> None:
    video, _ = scene_video("passer_by")
    stream = tmp_path / "scene.ts"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(video), "-c", "copy",
                    "-f", "mpegts", str(stream)], check=True)
    fifo = tmp_path / "cam.fifo"
    os.mkfifo(fifo)
    config = tmp_path / "unit.toml"
    config.write_text(
        f'[unit]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[camera]\ntype = "file"\npath = "{fifo}"\nrealtime = true\n'
        '[microphone]\ntype = "silent"\n'
        f'[keypad]\nurl = "{tmp_path / "nokp"}"\n[badge]\nurl = "{tmp_path / "nob"}"\n')
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(0.2)

    # The feeder writes ~12 s of the stream, then stops but keeps the FIFO open.
    data = stream.read_bytes()
    fed_enough = threading.Event()
    release = threading.Event()

    def feed() -> None:
        with fifo.open("wb") as out:
            out.write(data[: len(data) * 12 // 30])
            out.flush()
            fed_enough.set()
            release.wait(120)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    env = {**os.environ, "NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": str(int(WATCHDOG_S * 1e6))}
    proc = subprocess.Popen([sys.executable, "-m", "firmware.cli", "run", "--config", str(config)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pings: list[float] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                msg = sock.recv(4096)
            except TimeoutError:
                msg = b""
            if msg == b"WATCHDOG=1":
                pings.append(time.monotonic())
            # Done once the pings have been silent for five intervals after the feed.
            if fed_enough.is_set() and pings and time.monotonic() - pings[-1] > 5 * WATCHDOG_S:
                break
        still_running = proc.poll() is None
    finally:
        release.set()
        proc.kill()
        out, _ = proc.communicate(timeout=30)
        sock.close()
    assert still_running, out[-3000:]  # hung, not exited: only the watchdog can help
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert len(pings) >= 5, f"the daemon pinged only {len(pings)} times while fed:\n{out[-3000:]}"
    # While frames flowed, no gap came near the interval systemd would act on.
    assert max(gaps) < WATCHDOG_S, gaps
