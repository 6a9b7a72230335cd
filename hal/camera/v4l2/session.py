"""One open span of a V4L2 camera: packets read without blocking, then passed or re-encoded.

The device is opened non-blocking (AVFMT_FLAG_NONBLOCK), so a read that finds
no frame queued returns EAGAIN instead of sitting in ``VIDIOC_DQBUF``: that is
what lets a camera that goes quiet count as lost after ``frame_timeout_s``, and
``stop()`` end captures() within a poll interval, without a reader thread that
would have to be abandoned inside FFmpeg.

``PassthroughSession`` (H.264 from the camera) hands the camera's Annex-B
access units to the recorder untouched and decodes them only to feed analysis;
``ReencodeSession`` (MJPEG, raw YUYV) decodes each frame once, for analysis
and for libx264 (``hal.camera.x264.X264Stream``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import av
import av.error
from av.video.frame import VideoFrame

from hal.camera.base import CameraError, Capture, Frame, Packet, StreamInfo
from hal.camera.h264 import is_annexb, is_idr, parameter_sets
from hal.camera.live import ClockMap, DeviceLost
from hal.camera.x264 import EPS, X264Stream, analysis_size, fit_within, next_grid_point, why


class SessionOwner(Protocol):
    """What a session reads from its camera (V4l2Camera), and the one thing it writes
    back: the earliest time a reopened session may stamp. A Protocol, so that the
    session does not import the camera that imports it."""

    _pts_floor: float

    @property
    def name(self) -> str: ...
    @property
    def device(self) -> Path: ...
    @property
    def input_format(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def fps(self) -> float: ...
    @property
    def analysis_fps(self) -> float: ...
    @property
    def analysis_width(self) -> int: ...
    @property
    def record_bitrate(self) -> int: ...
    @property
    def keyframe_interval_s(self) -> float: ...
    @property
    def encoder_preset(self) -> str: ...
    @property
    def frame_timeout_s(self) -> float: ...
    @property
    def poll_s(self) -> float: ...
    @property
    def _stop(self) -> threading.Event: ...
    @property
    def _clock(self) -> Callable[[], float]: ...

log = logging.getLogger(__name__)

# How long start() reads an H.264 camera for a keyframe carrying SPS/PPS. UVC
# cameras start on one; a long GOP set by another program could delay it.
KEYFRAME_WAIT_S = 10.0
# Packets start() may find undecodable before the first MJPEG/raw frame decodes
# (some cameras send a torn first frame).
FIRST_FRAME_TRIES = 10
# The decoder FFmpeg's v4l2 demuxer sets up for each ``input_format``.
DECODER_OF = {"h264": "h264", "mjpeg": "mjpeg", "yuyv422": "rawvideo"}


class PacketReader:
    """Packets of one stream from a non-blocking demuxer.

    ``next()`` returns the next packet, None once ``stop`` is set, and raises
    DeviceLost on a read error, at end of stream, or after ``frame_timeout_s``
    of real time without a packet.
    """

    def __init__(
        self,
        container: Any,
        stream: Any,
        stop: threading.Event,
        *,
        frame_timeout_s: float,
        poll_s: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._container = container
        self._stream = stream
        self._stop = stop
        self._timeout = frame_timeout_s
        self._poll = poll_s
        self._now = now
        self._packets: Iterator[Any] | None = None
        self._last = now()

    def next(self) -> Any:
        while not self._stop.is_set():
            if self._packets is None:
                self._packets = iter(self._container.demux(self._stream))
            try:
                packet = next(self._packets)
            except StopIteration:
                self._packets = None
                raise DeviceLost("the stream ended") from None
            except av.error.BlockingIOError:
                # PyAV's demux generator ends on any error; a new one resumes reading.
                self._packets = None
                if self._now() - self._last > self._timeout:
                    raise DeviceLost(f"no frame for {self._timeout:.1f} s") from None
                self._stop.wait(self._poll)
                continue
            except av.error.FFmpegError as exc:
                self._packets = None
                raise DeviceLost(why(exc)) from None
            if packet.size == 0:
                continue  # demux's flush packets at end of stream
            self._last = self._now()
            return packet
        return None


class AnalysisGrid:
    """Which frames go to analysis: one per ``period``, on a grid from the first one."""

    def __init__(self, period: float) -> None:
        self.period = period
        self._t0: float | None = None
        self._next = -math.inf

    def due(self, t: float) -> bool:
        if t < self._next - EPS:
            return False
        self._t0 = t if self._t0 is None else self._t0
        self._next = self._t0 + next_grid_point(t - self._t0, self.period)
        return True


class _Session:
    """What both session kinds share: the reader, the clock map and the analysis grid."""

    info: StreamInfo

    def __init__(self, cam: SessionOwner, container: Any) -> None:
        self.cam = cam
        self._container = container
        if not container.streams.video:
            raise CameraError(f"{cam.name}: the device offers no video stream")
        self._stream = container.streams.video[0]
        self._decoder = self._stream.codec_context
        self._reader = PacketReader(
            container, self._stream, cam._stop,
            frame_timeout_s=cam.frame_timeout_s, poll_s=cam.poll_s,
        )
        self._map = ClockMap(self._floored_clock)
        self._period = 1.0 / cam.fps
        self._grid = AnalysisGrid(1.0 / cam.analysis_fps)
        self._last_dev: float | None = None
        self._first: list[Capture] = []  # what start() read while waiting for a keyframe
        self._bad_frames = 0

    def _floored_clock(self) -> float:
        # A reopened camera's times must not fall before what was already
        # recorded: the device clock may have run ahead of the unit clock.
        return max(self.cam._clock(), self.cam._pts_floor)

    def _expect_codec(self, wanted: str) -> None:
        got = self._decoder.name
        if got != wanted:
            raise CameraError(
                f"{self.cam.name}: asked for {self.cam.input_format} but the device delivers "
                f"{got}; see `v4l2-ctl -d {self.cam.device} --list-formats-ext`"
            )

    def _start_packet(self) -> Any:
        """The next packet while starting: a loss here is a start failure."""
        try:
            packet = self._reader.next()
        except DeviceLost as exc:
            raise CameraError(f"{self.cam.name}: opened but delivers no frames ({exc})") from None
        if packet is None:
            raise CameraError(f"{self.cam.name}: stopped while starting")
        return packet

    def _device_time(self, packet: Any) -> float:
        """Seconds on the device's clock; kept strictly increasing for the muxer and x264."""
        if packet.pts is not None and packet.time_base:
            t = float(packet.pts * packet.time_base)
        else:
            t = (self._last_dev or 0.0) + self._period
        if self._last_dev is not None and t <= self._last_dev:
            t = self._last_dev + self._period
        self._last_dev = t
        return t

    def _decode(self, packet: Any) -> list[VideoFrame]:
        try:
            return list(self._decoder.decode(packet))
        except av.error.FFmpegError as exc:
            # A torn frame (USB bandwidth) costs that frame, not the session.
            self._bad_frames += 1
            if self._bad_frames == 1:
                log.warning("%s: undecodable frame skipped (%s)", self.cam.name, why(exc))
            return []

    def _analysis(self, frame: VideoFrame, t: float) -> Frame | None:
        if not self._grid.due(t):
            return None
        w, h = analysis_size(frame.width, frame.height, self.cam.analysis_width)
        return Frame(frame.to_ndarray(width=w, height=h, format="rgb24"), t)

    def captures(self) -> Iterator[Capture]:
        for cap in self._captures_in_order():
            if cap.packets:
                self.cam._pts_floor = cap.packets[-1].pts + self._period
            yield cap

    def _captures_in_order(self) -> Iterator[Capture]:
        while self._first:
            yield self._first.pop(0)
        while True:
            packet = self._reader.next()
            if packet is None:
                return
            yield from self._process(packet)

    def _process(self, packet: Any) -> Iterator[Capture]:
        raise NotImplementedError

    def close(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            self._stream = self._decoder = None
            with contextlib.suppress(Exception):  # the device may be gone already
                container.close()


class PassthroughSession(_Session):
    """H.264 from the camera: recorded as delivered, decoded only for analysis.

    Every packet is decoded, because P-frames need their references, but only
    frames on the analysis grid are scaled and converted to RGB.
    """

    def __init__(self, cam: SessionOwner, container: Any) -> None:
        super().__init__(cam, container)
        self._expect_codec(DECODER_OF["h264"])
        budget = max(2, math.ceil(cam.fps * KEYFRAME_WAIT_S))
        for _ in range(budget):
            packet = self._start_packet()
            data = bytes(packet)
            if not is_annexb(data):
                raise CameraError(f"{cam.name}: the camera's H.264 is not Annex-B; "
                                  "use input_format = 'mjpeg'")
            extradata = parameter_sets(data) if is_idr(data) else None
            if extradata is None:
                continue  # nothing before a keyframe with SPS/PPS can be decoded or recorded
            self._first.extend(self._captures(packet, data))
            break
        else:
            raise CameraError(
                f"{cam.name}: no H.264 keyframe with SPS/PPS within {KEYFRAME_WAIT_S:.0f} s "
                "of frames; use input_format = 'mjpeg'"
            )
        self.info = StreamInfo(kind="video", codec="h264", extradata=extradata,
                               width=self._decoder.width, height=self._decoder.height,
                               fps=cam.fps)

    def _process(self, packet: Any) -> Iterator[Capture]:
        yield from self._captures(packet, bytes(packet))

    def _captures(self, packet: Any, data: bytes) -> list[Capture]:
        t = self._map(self._device_time(packet))
        out = Packet("video", data, t, self._period, is_idr(data))
        frame = None
        for decoded in self._decode(packet):
            ft = self._map(decoded.time) if decoded.time is not None else t
            frame = self._analysis(decoded, ft) or frame
        newest = max(t, frame.t) if frame is not None else t
        return [Capture(newest, frame, (out,))]


class ReencodeSession(_Session):
    """MJPEG or raw frames: each decoded once, for analysis and for libx264."""

    def __init__(self, cam: SessionOwner, container: Any) -> None:
        super().__init__(cam, container)
        self._expect_codec(DECODER_OF[cam.input_format])
        for _ in range(FIRST_FRAME_TRIES):
            packet = self._start_packet()
            dev = self._device_time(packet)
            frames = self._decode(packet)
            if frames:
                break
        else:
            raise CameraError(f"{cam.name}: {FIRST_FRAME_TRIES} frames in a row undecodable")
        first = frames[0]
        width, height = fit_within(first.width, first.height, cam.width, cam.height)
        self._encoder = X264Stream(
            cam.name, width, height, cam.fps, bitrate=cam.record_bitrate,
            keyframe_interval_s=cam.keyframe_interval_s, preset=cam.encoder_preset,
        )
        self.info = self._encoder.info
        self._origin = dev  # media time 0: the encoder's keyframe grid starts here
        self._base = self._map(dev)
        self._first.extend(self._encode(f, dev) for f in frames)

    def _process(self, packet: Any) -> Iterator[Capture]:
        dev = self._device_time(packet)
        for frame in self._decode(packet):
            yield self._encode(frame, dev)

    def _encode(self, frame: VideoFrame, dev: float) -> Capture:
        media_t = dev - self._origin
        t = self._base + media_t
        analysis = self._analysis(frame, t)
        packets = self._encoder.encode(frame, media_t, self._base, self._period)
        return Capture(t, analysis, packets)
