"""V4L2 video nodes: what each /dev/video* is (a camera, a metadata node, a codec).

A USB camera usually shows two nodes (image and metadata) and a Raspberry Pi
shows a dozen codec and ISP nodes, so "there is a /dev/video0" says little;
the driver's VIDIOC_QUERYCAP capabilities say which node delivers frames. When
the node cannot be opened, udev's record (ID_V4L_CAPABILITIES, from v4l_id)
is the fallback.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path

from hal.camera.v4l2.caps import classify, decode_querycap
from hal.diagnostics import DiagnosticHost


@dataclass(frozen=True, slots=True)
class VideoNode:
    """One /dev/video* node. ``capture`` None: could not tell (see ``kind``)."""

    path: str  # as the installer types it: /dev/video0
    name: str
    capture: bool | None
    kind: str
    links: tuple[str, ...] = ()  # stable names in /dev/v4l/by-id and by-path


def _udev_capture(host: DiagnosticHost, sys_dir: Path) -> bool | None:
    """udev's ID_V4L_CAPABILITIES for the node, if udev recorded it."""
    try:
        majmin = (sys_dir / "dev").read_text().strip()
        record = host.path(f"/run/udev/data/c{majmin}").read_text()
    except OSError:
        return None
    m = re.search(r"^E:ID_V4L_CAPABILITIES=(.*)$", record, re.M)
    return None if m is None else ":capture:" in m.group(1)


def _links(host: DiagnosticHost) -> dict[str, list[str]]:
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


def find_video_nodes(host: DiagnosticHost) -> list[VideoNode]:
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
