"""What the camera back-end tests check alike: time order, clips that play, reconnecting.

The live back-ends (Pi, USB, OAK) are tested against stand-ins of their
vendor APIs; these helpers hold the checks that mean the same for each of them.
"""

from __future__ import annotations

import itertools
import json
import logging
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from firmware.recorder import Recorder
from hal.camera.base import Camera, Capture, Packet, StreamInfo


class CameraWrapper:
    """A real camera passed through; a test subclass changes only ``captures()``."""

    def __init__(self, inner: Camera) -> None:
        self.inner = inner

    @property
    def video_info(self) -> StreamInfo:
        return self.inner.video_info

    def start(self) -> None:
        self.inner.start()

    def stop(self) -> None:
        self.inner.stop()


class FakeClock:
    """Unit clock that moves only when read; far from any device's epoch on purpose."""

    def __init__(self, t: float = 5000.0) -> None:
        self.t = t
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            self.t += 0.001  # strictly increasing, like monotonic
            return self.t


def take(cam: Camera, n: int) -> list[Capture]:
    """Start ``cam``, take ``n`` captures, stop it."""
    cam.start()
    try:
        return list(itertools.islice(cam.captures(), n))
    finally:
        cam.stop()


def packets_of(caps: list[Capture]) -> list[Packet]:
    return [p for c in caps for p in c.packets]


def is_idle(cap: Capture) -> bool:
    """A frame-less, packet-less capture: the loop ticking while the device is away."""
    return cap.frame is None and not cap.packets


def assert_in_time_order(caps: list[Capture]) -> None:
    times = [c.t for c in caps]
    assert times == sorted(times), "capture times went backwards"


def record_clip(info: StreamInfo, packets: list[Packet], root: Path, name: str) -> Path:
    """Mux ``packets`` into one clip with the recorder, as the unit does; its path."""
    rec = Recorder(root, 10.0, info)
    rec.start_clip(name, packets[0].pts, path=f"{name}.mp4")
    rec.feed(packets)
    rec.stop_clip(name, packets[-1].pts)
    rec.close_all(packets[-1].pts + 1)
    (_, clip), = rec.closed()
    return Path(clip.path)


def probe_video(path: Path) -> dict[str, Any]:
    """ffprobe's view of the one video stream of ``path``, frames counted by decoding."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_streams",
         "-of", "json", str(path)], check=True, capture_output=True, text=True)
    [stream] = json.loads(out.stdout)["streams"]
    return dict(stream)


def assert_clip_plays(info: StreamInfo, packets: list[Packet], root: Path, name: str,
                      size: tuple[int, int]) -> None:
    """The packets make an H.264 clip of ``size`` that decodes (all but at most one frame)."""
    stream = probe_video(record_clip(info, packets, root, name))
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", *size)
    assert int(stream["nb_read_frames"]) >= len(packets) - 1


def says(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    """The records whose message contains ``text``."""
    return [r for r in caplog.records if text in r.getMessage()]


def through_unplug(cam: Camera, caplog: pytest.LogCaptureFixture, away: Callable[[], bool],
                   replug: Callable[[], None]) -> tuple[list[Capture], int]:
    """Iterate a started ``cam`` whose device will be lost (the stand-in is set up for it).

    After three idle captures following the "camera lost" log, ``replug()`` is
    called (while ``away()``); three analysis frames after "camera back" the
    camera is stopped. Returns every capture and the index where it came back.
    """
    seen: list[Capture] = []
    reopened_at = idle_after_loss = 0
    with caplog.at_level(logging.INFO, logger="hal.camera"):
        for cap in cam.captures():
            seen.append(cap)
            if is_idle(cap) and says(caplog, "camera lost"):
                idle_after_loss += 1
            if idle_after_loss >= 3 and away():
                replug()
            if not reopened_at and says(caplog, "camera back"):
                reopened_at = len(seen) - 1
            if reopened_at and sum(c.frame is not None for c in seen[reopened_at:]) >= 3:
                cam.stop()
    return seen, reopened_at


def assert_logged_once(caplog: pytest.LogCaptureFixture, lost: str = "camera lost",
                       back: str = "camera back") -> tuple[logging.LogRecord, logging.LogRecord]:
    """The loss and the recovery were each logged exactly once; their records."""
    lost_records, back_records = says(caplog, lost), says(caplog, back)
    assert len(lost_records) == 1 and len(back_records) == 1, (
        [r.getMessage() for r in lost_records], [r.getMessage() for r in back_records])
    return lost_records[0], back_records[0]
