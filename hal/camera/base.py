"""Camera interface: low-resolution frames for analysis, encoded packets for recording.

A camera yields ``Capture`` items in time order. Each carries at most one
analysis frame and the encoded main-stream packets produced since the previous
capture, so a single consumer sees analysis and recording on one clock, and a
replay is deterministic. Hardware back-ends (picamera2, depthai, V4L2) fill the
same structure from their own queues.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

PacketKind = Literal["video", "audio"]


class CameraError(RuntimeError):
    """The camera cannot be opened or stopped delivering; the message says why."""


@dataclass(frozen=True, slots=True)
class Frame:
    """A low-resolution RGB frame (H x W x 3, uint8) and its capture time in seconds."""

    image: np.ndarray
    t: float


@dataclass(frozen=True, slots=True)
class Packet:
    """One encoded packet of a recorded stream; times are seconds on the capture clock."""

    kind: PacketKind
    data: bytes
    pts: float
    duration: float
    keyframe: bool


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a muxer needs to write a stream of packets without re-encoding."""

    kind: PacketKind
    codec: str  # "h264", "aac", "opus"
    extradata: bytes | None = None
    width: int = 0
    height: int = 0
    fps: float = 0.0
    sample_rate: int = 0
    channels: int = 0


@dataclass(frozen=True, slots=True)
class Capture:
    """What the camera produced up to time ``t``: maybe a frame, maybe packets."""

    t: float
    frame: Frame | None
    packets: tuple[Packet, ...]


class Camera(Protocol):
    """A camera back-end, chosen by ``camera.type`` in config."""

    @property
    def video_info(self) -> StreamInfo:
        """Codec parameters of the main (recorded) stream; valid after start()."""
        ...

    def start(self) -> None:
        """Open the device or file (idempotent); raises CameraError with a clear message."""
        ...

    def stop(self) -> None:
        """Release the device; safe to call twice."""
        ...

    def captures(self) -> Iterator[Capture]:
        """Captures in time order until the source ends or stop() is called."""
        ...
