"""VIDIOC_QUERYCAP: what a V4L2 node says it can do (an ioctl and its decoding).

Apart from node discovery (hal/camera/v4l2/nodes.py) so that doctor's host
(firmware/doctor/host.py ``Host.querycap``) can call the ioctl without importing
discovery, which itself takes a host.
"""

from __future__ import annotations

import fcntl
import os
import struct
from dataclasses import dataclass
from pathlib import Path

# struct v4l2_capability: driver[16] card[32] bus_info[32] version capabilities
# device_caps reserved[3] -> 104 bytes; VIDIOC_QUERYCAP = _IOR('V', 0, that struct).
CAPABILITY_SIZE = 104
VIDIOC_QUERYCAP = (2 << 30) | (CAPABILITY_SIZE << 16) | (ord("V") << 8) | 0
CAP_VIDEO_CAPTURE = 0x00000001
CAP_VIDEO_OUTPUT = 0x00000002
CAP_VIDEO_CAPTURE_MPLANE = 0x00001000
CAP_VIDEO_M2M_MPLANE = 0x00004000
CAP_VIDEO_M2M = 0x00008000
CAP_META_CAPTURE = 0x00800000
CAP_DEVICE_CAPS = 0x80000000


@dataclass(frozen=True, slots=True)
class QueryCap:
    """The useful part of VIDIOC_QUERYCAP: driver, card name, this node's capabilities."""

    driver: str
    card: str
    caps: int


def querycap(path: Path) -> bytes:
    """The raw VIDIOC_QUERYCAP answer of a video node; OSError if it has none."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        buf = bytearray(CAPABILITY_SIZE)
        fcntl.ioctl(fd, VIDIOC_QUERYCAP, buf, True)
        return bytes(buf)
    finally:
        os.close(fd)


def decode_querycap(buf: bytes) -> QueryCap:
    """Decode a v4l2_capability; a node's own caps are device_caps when the driver sets them."""
    if len(buf) < CAPABILITY_SIZE:
        raise ValueError(f"v4l2_capability is {CAPABILITY_SIZE} bytes, got {len(buf)}")

    def text(raw: bytes) -> str:
        return raw.split(b"\0", 1)[0].decode("utf-8", "replace")

    capabilities, device_caps = struct.unpack_from("<II", buf, 84)
    caps = device_caps if capabilities & CAP_DEVICE_CAPS else capabilities
    return QueryCap(text(buf[0:16]), text(buf[16:48]), caps)


def classify(caps: int) -> tuple[bool, str]:
    """(delivers camera frames, what the node is) from its capability bits."""
    if caps & (CAP_VIDEO_M2M | CAP_VIDEO_M2M_MPLANE) or (
        caps & (CAP_VIDEO_CAPTURE | CAP_VIDEO_CAPTURE_MPLANE) and caps & CAP_VIDEO_OUTPUT
    ):
        return False, "codec/ISP (memory-to-memory), not a camera"
    if caps & (CAP_VIDEO_CAPTURE | CAP_VIDEO_CAPTURE_MPLANE):
        return True, "capture"
    if caps & CAP_META_CAPTURE:
        return False, "metadata node, not the image"
    if caps & CAP_VIDEO_OUTPUT:
        return False, "video output, not a camera"
    return False, f"no capture capability (caps 0x{caps:08x})"
