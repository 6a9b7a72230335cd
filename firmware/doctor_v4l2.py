"""V4L2 video nodes: what each /dev/video* is (a camera, a metadata node, a codec).

A USB camera usually shows two nodes (image and metadata) and a Raspberry Pi
shows a dozen codec and ISP nodes, so "there is a /dev/video0" says little;
the driver's VIDIOC_QUERYCAP capabilities say which node delivers frames. When
the node cannot be opened, udev's record (ID_V4L_CAPABILITIES, from v4l_id)
is the fallback.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from firmware.doctor_host import Host

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


@dataclass(frozen=True, slots=True)
class VideoNode:
    """One /dev/video* node. ``capture`` None: could not tell (see ``kind``)."""

    path: str  # as the installer types it: /dev/video0
    name: str
    capture: bool | None
    kind: str
    links: tuple[str, ...] = ()  # stable names in /dev/v4l/by-id and by-path


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


def _udev_capture(host: Host, sys_dir: Path) -> bool | None:
    """udev's ID_V4L_CAPABILITIES for the node, if udev recorded it."""
    try:
        majmin = (sys_dir / "dev").read_text().strip()
        record = host.path(f"/run/udev/data/c{majmin}").read_text()
    except OSError:
        return None
    m = re.search(r"^E:ID_V4L_CAPABILITIES=(.*)$", record, re.M)
    return None if m is None else ":capture:" in m.group(1)


def _links(host: Host) -> dict[str, list[str]]:
    """Resolved node name -> stable symlinks pointing at it."""
    out: dict[str, list[str]] = {}
    for folder in ("by-id", "by-path"):
        base = host.path(f"/dev/v4l/{folder}")
        if not base.is_dir():
            continue
        for link in sorted(base.iterdir()):
            out.setdefault(os.path.basename(os.path.realpath(link)), []).append(
                f"/dev/v4l/{folder}/{link.name}")
    return out


def _node_number(name: str) -> int:
    digits = name.removeprefix("video")
    return int(digits) if digits.isdigit() else 1 << 30


def find_video_nodes(host: Host) -> list[VideoNode]:
    """Every /dev/video* with its sysfs name and what it delivers, in number order."""
    sys_class = host.path("/sys/class/video4linux")
    names = {p.name for p in host.path("/dev").glob("video*")}
    if sys_class.is_dir():
        names |= {p.name for p in sys_class.iterdir() if p.name.startswith("video")}
    links = _links(host)
    nodes = []
    for name in sorted(names, key=_node_number):
        sys_dir = sys_class / name
        try:
            label = (sys_dir / "name").read_text().strip()
        except OSError:
            label = "?"
        dev = host.path(f"/dev/{name}")
        capture: bool | None
        if not dev.exists():
            capture, kind = None, "no device node (udev did not create it)"
        else:
            try:
                info = decode_querycap(host.querycap(dev))
                capture, kind = classify(info.caps)
                if label == "?":
                    label = info.card
            except OSError as exc:
                capture = _udev_capture(host, sys_dir)
                why = errno.errorcode.get(exc.errno or 0, str(exc))
                kind = (f"cannot query ({why})" if capture is None else
                        f"{'capture' if capture else 'not capture'} (per udev; open failed: {why})")
        nodes.append(VideoNode(f"/dev/{name}", label, capture, kind, tuple(links.get(name, ()))))
    return nodes


def describe(node: VideoNode) -> str:
    """One line: '/dev/video0 "USB Camera": capture'."""
    return f'{node.path} "{node.name}": {node.kind}'
