"""Recording a video file's own H.264 packets when they already look like a camera's.

A unit's own clips, and footage from a camera that encodes H.264 itself, need
no re-encoding to be recorded again: libx264 would only spend most of a
replay's time making an equivalent stream. The file camera copies the packets
instead when the whole file passes ``camera_like`` (checked by demuxing it
once, without decoding, before the replay starts), otherwise it re-encodes as
before. Camera-like means what the recorder relies on: H.264 with extradata,
no frame reordering (pts == dts, strictly increasing), already within the
recording size, a keyframe first and then at least every keyframe interval.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from hal.camera.base import Packet
from hal.camera.x264 import fit_within

# Slack on the keyframe spacing: one frame late still keeps the recorder's plan.
_LATE_FRAMES = 1.5


@dataclass(frozen=True, slots=True)
class SourcePacket:
    """A demuxed packet kept until the frame it carries comes out of the decoder."""

    pts: int
    data: bytes
    keyframe: bool
    duration: int


def camera_like(path: Path, record_max: tuple[int, int], keyframe_interval_s: float) -> (
    str | None
):
    """None when ``path``'s first video stream can be recorded as it is; else the reason."""
    try:
        with av.open(str(path), mode="r") as container:
            return _check(container, record_max, keyframe_interval_s)
    except (av.error.FFmpegError, OSError) as exc:
        return f"cannot scan it ({exc})"


def _check(container: InputContainer, record_max: tuple[int, int], interval: float) -> (
    str | None
):
    if not container.streams.video:
        return "no video stream"
    stream = container.streams.video[0]
    ctx = stream.codec_context
    if ctx.name != "h264":
        return f"codec {ctx.name}, not h264"
    if not ctx.extradata:
        return "no H.264 parameter sets in the container"
    if (ctx.width, ctx.height) != fit_within(ctx.width, ctx.height, *record_max):
        return f"{ctx.width}x{ctx.height} is larger than the recording size"
    tb = stream.time_base
    rate = stream.average_rate or stream.guessed_rate
    if tb is None or not rate:
        return "no time base or frame rate"
    limit = interval + _LATE_FRAMES / float(rate)
    last_pts: int | None = None
    last_key: float | None = None
    for pkt in container.demux(stream):
        if pkt.size == 0:
            continue
        if pkt.pts is None or pkt.dts is None or pkt.pts != pkt.dts:
            return "frames are reordered (B-frames)"
        if last_pts is not None and pkt.pts <= last_pts:
            return "timestamps do not increase"
        t = float(pkt.pts * tb)
        if last_key is None and not pkt.is_keyframe:
            return "does not start with a keyframe"
        if pkt.is_keyframe:
            last_key = t
        elif last_key is not None and t - last_key > limit:
            return f"keyframes further apart than {interval:g} s"
        last_pts = pkt.pts
    if last_pts is None:
        return "no packets"
    return None


def decode_keeping_packets(container: InputContainer, stream: VideoStream,
                           kept: deque[SourcePacket]) -> Iterator[VideoFrame]:
    """Decoded frames of ``stream``; each demuxed packet is appended to ``kept`` first."""
    for pkt in container.demux(stream):
        if pkt.size:
            assert pkt.pts is not None  # camera_like checked every packet
            kept.append(SourcePacket(pkt.pts, bytes(pkt), pkt.is_keyframe, pkt.duration or 0))
        yield from pkt.decode()  # the final empty packet flushes the decoder


def packets_up_to(kept: deque[SourcePacket], pts: int, tb: Fraction, origin: float,
                  base: float, frame_period: float) -> tuple[Packet, ...]:
    """The kept packets up to the decoded frame at ``pts``, as recorder Packets.

    Times are computed as the file camera times its frames (``base`` plus
    media time from ``origin``), so a packet lands exactly on its frame.
    """
    out = []
    while kept and kept[0].pts <= pts:
        p = kept.popleft()
        out.append(Packet(kind="video", data=p.data, pts=base + (float(p.pts * tb) - origin),
                          duration=float(p.duration * tb) or frame_period, keyframe=p.keyframe))
    return tuple(out)
