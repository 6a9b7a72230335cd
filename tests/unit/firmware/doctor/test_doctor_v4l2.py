"""V4L2 node discovery for doctor: capability decoding and a fake /dev + /sys + /run root.

The fake root holds the same files the kernel and udev provide (sysfs ``name``
and ``dev``, udev's ``/run/udev/data`` record, /dev/v4l/by-id links); the
VIDIOC_QUERYCAP answer comes from a stand-in returning the packed struct.
"""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import pytest

from firmware.doctor.host import Host
from hal.camera.v4l2.caps import (
    CAP_DEVICE_CAPS,
    CAP_META_CAPTURE,
    CAP_VIDEO_CAPTURE,
    CAP_VIDEO_CAPTURE_MPLANE,
    CAP_VIDEO_M2M,
    CAP_VIDEO_M2M_MPLANE,
    CAP_VIDEO_OUTPUT,
    VIDIOC_QUERYCAP,
    classify,
    decode_querycap,
    querycap,
)
from hal.camera.v4l2.nodes import find_video_nodes


def capability(card: str, caps: int, device_caps: int | None = None) -> bytes:
    """A packed struct v4l2_capability as the kernel fills it."""
    overall = caps | (CAP_DEVICE_CAPS if device_caps is not None else 0)
    return struct.pack("<16s32s32sIII12x", b"uvcvideo", card.encode(), b"usb-0000:01:00.0-1",
                       0x60100, overall, device_caps or 0)


def test_ioctl_number_matches_the_kernel_header() -> None:
    # _IOR('V', 0, struct v4l2_capability) from <linux/videodev2.h>
    assert VIDIOC_QUERYCAP == 0x80685600


@pytest.mark.parametrize("buf,driver,card,caps", [
    (capability("HD Webcam", CAP_VIDEO_CAPTURE), "uvcvideo", "HD Webcam", CAP_VIDEO_CAPTURE),
    # With DEVICE_CAPS set, the node's own caps win over the whole device's.
    (capability("HD Webcam", CAP_VIDEO_CAPTURE | CAP_META_CAPTURE, CAP_META_CAPTURE),
     "uvcvideo", "HD Webcam", CAP_META_CAPTURE),
])
def test_decode_querycap(buf: bytes, driver: str, card: str, caps: int) -> None:
    got = decode_querycap(buf)
    assert (got.driver, got.card, got.caps) == (driver, card, caps)


def test_decode_querycap_refuses_a_short_buffer() -> None:
    with pytest.raises(ValueError, match="104 bytes"):
        decode_querycap(b"\0" * 50)


@pytest.mark.parametrize("caps,capture,kind", [
    (CAP_VIDEO_CAPTURE, True, "capture"),
    (CAP_VIDEO_CAPTURE_MPLANE, True, "capture"),
    (CAP_META_CAPTURE, False, "metadata node"),
    (CAP_VIDEO_M2M_MPLANE, False, "memory-to-memory"),
    (CAP_VIDEO_M2M, False, "memory-to-memory"),
    (CAP_VIDEO_CAPTURE | CAP_VIDEO_OUTPUT, False, "memory-to-memory"),
    (CAP_VIDEO_OUTPUT, False, "video output"),
    (0, False, "no capture capability"),
])
def test_classify(caps: int, capture: bool, kind: str) -> None:
    got_capture, got_kind = classify(caps)
    assert got_capture is capture and kind in got_kind


def test_real_ioctl_on_a_non_video_device_raises() -> None:
    with pytest.raises(OSError) as info:
        querycap(Path("/dev/null"))
    assert info.value.errno in (errno.ENOTTY, errno.EINVAL)


def make_node(root: Path, name: str, label: str | None, majmin: str, node: bool = True,
              udev_caps: str | None = None) -> None:
    sys_dir = root / "sys/class/video4linux" / name
    sys_dir.mkdir(parents=True)
    if label is not None:
        (sys_dir / "name").write_text(label + "\n")
    (sys_dir / "dev").write_text(majmin + "\n")
    if node:
        (root / "dev").mkdir(exist_ok=True)
        (root / "dev" / name).touch()
    if udev_caps is not None:
        (root / "run/udev/data").mkdir(parents=True, exist_ok=True)
        (root / f"run/udev/data/c{majmin}").write_text(
            f"E:ID_V4L_VERSION=2\nE:ID_V4L_CAPABILITIES={udev_caps}\n")


def test_find_video_nodes_on_a_fake_root(tmp_path: Path) -> None:
    make_node(tmp_path, "video0", "HD Webcam", "81:0")
    make_node(tmp_path, "video1", "HD Webcam", "81:1")
    make_node(tmp_path, "video10", "bcm2835-codec-decode", "81:10")
    make_node(tmp_path, "video2", "Arducam", "81:2", udev_caps=":capture:")  # open fails
    make_node(tmp_path, "video3", None, "81:3", node=False)  # udev made no node
    byid = tmp_path / "dev/v4l/by-id"
    byid.mkdir(parents=True)
    os.symlink("../../video0", byid / "usb-HD_Webcam-video-index0")
    answers = {
        "video0": capability("HD Webcam", CAP_VIDEO_CAPTURE | CAP_META_CAPTURE, CAP_VIDEO_CAPTURE),
        "video1": capability("HD Webcam", CAP_VIDEO_CAPTURE | CAP_META_CAPTURE, CAP_META_CAPTURE),
        "video10": capability("bcm2835-codec", CAP_VIDEO_M2M_MPLANE),
    }
    asked: list[str] = []

    def fake_querycap(path: Path) -> bytes:
        asked.append(path.name)
        if path.name not in answers:
            raise PermissionError(errno.EACCES, "Permission denied")
        return answers[path.name]

    nodes = find_video_nodes(Host(root=tmp_path, querycap=fake_querycap))
    assert [(n.path, n.name, n.capture) for n in nodes] == [
        ("/dev/video0", "HD Webcam", True),
        ("/dev/video1", "HD Webcam", False),
        ("/dev/video2", "Arducam", True),
        ("/dev/video3", "?", None),
        ("/dev/video10", "bcm2835-codec-decode", False),
    ]
    assert nodes[0].links == ("/dev/v4l/by-id/usb-HD_Webcam-video-index0",)
    assert "metadata" in nodes[1].kind
    assert "per udev" in nodes[2].kind and "EACCES" in nodes[2].kind
    assert "no device node" in nodes[3].kind
    assert sorted(asked) == ["video0", "video1", "video10", "video2"]


def test_no_video4linux_at_all(tmp_path: Path) -> None:
    assert find_video_nodes(Host(root=tmp_path)) == []
