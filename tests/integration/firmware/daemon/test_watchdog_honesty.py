"""Watchdog honesty: the unit pings systemd only while real camera frames arrive.

The notify socket is the test's own; the camera is the real file camera wrapped
so that, part-way through, it only sends frame-less heartbeats (what a back-end
yields while its device is unplugged). The hung-camera case (no captures at all)
runs against the real daemon in tests/system/test_watchdog_fifo.py.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmware.config.unit import parse_config
from firmware.system.clock import MediaClock
from firmware.system.notify import Notifier
from firmware.wiring.runner import open_unit
from hal.camera.base import Camera, Capture
from tests.helpers.unit.camera_checks import CameraWrapper

WATCHDOG_S = 2.0


class HeartbeatOnlyCamera(CameraWrapper):
    """Passes the real camera through until ``stall_at``, then sends heartbeats only."""

    def __init__(self, inner: Camera, *, stall_at: float, heartbeats_s: float,
                 on_stall: Callable[[], object]) -> None:
        super().__init__(inner)
        self.stall_at = stall_at
        self.heartbeats_s = heartbeats_s
        self.on_stall = on_stall
        self.stalled = False

    def captures(self) -> Iterator[Capture]:
        t = 0.0
        for cap in self.inner.captures():
            if cap.t >= self.stall_at:
                break
            t = cap.t
            yield cap
        self.stalled = True
        self.on_stall()
        end = t + self.heartbeats_s
        while t < end:
            t += 0.5
            yield Capture(t, None, ())


class Listener:
    """Drains the notify socket in a thread, as systemd would (its queue holds ~10)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.got: list[bytes] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                msg = self.sock.recv(4096)
            except OSError:
                return
            self.got.append(msg)
            if msg == b"STOPPING=1":
                return


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(60)
    yield path, sock
    sock.close()


def test_pings_while_frames_flow_and_stops_once_only_heartbeats_come(
        tmp_path: Path, scene_video: Callable[[str], tuple[Path, object]],
        notify_socket: tuple[str, socket.socket]) -> None:
    address, sock = notify_socket
    video, _ = scene_video("passer_by")
    cfg = parse_config({
        "unit": {"data_dir": tmp_path / "data"},
        "camera": {"type": "file", "path": video, "realtime": False},
        "keypad": None, "badge": None,
    })
    unit = open_unit(cfg, media_time=True, media_clock=MediaClock())
    notifier = Notifier(address)
    notifier.watchdog_s = WATCHDOG_S
    unit.notifier = notifier
    listener = Listener(sock)
    marker = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    # The loop sends synchronously, so a marker sent at the switch sits between
    # the last healthy ping and the first heartbeat in the socket's queue.
    camera = HeartbeatOnlyCamera(unit.devices.camera, stall_at=12.0, heartbeats_s=20.0,
                                 on_stall=lambda: marker.sendto(b"STALL", address))
    unit.devices.camera = camera
    try:
        unit.run()
    finally:
        unit.store.close()
        marker.close()
    listener.thread.join(30)
    cut = listener.got.index(b"STALL")
    before_stall, after_stall = listener.got[:cut], listener.got[cut + 1:]

    pings = [m for m in before_stall if m == b"WATCHDOG=1"]
    # Healthy: one ping per half interval over 12 s of frames.
    assert len(pings) >= 12 / (WATCHDOG_S / 2) - 1, before_stall
    assert camera.stalled
    # 20 s of heartbeats, ten watchdog intervals: not one ping, so systemd would
    # restart the unit one interval after the last frame.
    assert b"WATCHDOG=1" not in after_stall, after_stall
    assert after_stall[-1:] == [b"STOPPING=1"]
