"""STAND-IN for ``av.open(device, format="video4linux2", ...)``: a USB camera that is not here.

Not a real camera and not FFmpeg's v4l2 demuxer: a faithful imitation of what
that demuxer gives PyAV, for testing ``hal.camera.v4l2.camera``. ``CameraRig.open``
takes the place of ``av.open`` and

- checks the arguments as the real demuxer reads them: the format name
  ("video4linux2" or its alias "v4l2"), the options ``input_format`` (a decoder
  or pixel format name), ``video_size`` ("WxH") and ``framerate`` ("N" or
  "N/D"), and ``fflags`` carrying AVFMT_FLAG_NONBLOCK (0x4);
- fails like the real one: a missing node raises av.error.FileNotFoundError,
  a format the camera does not offer EINVAL, a second open while one is
  streaming EBUSY;
- serves a REAL stream: packets FFmpeg's own demuxer cut from data encoded by
  PyAV (raw Annex-B H.264 with SPS/PPS before every IDR, as UVC cameras send;
  MJPEG; packed YUYV), decoded by that real container's own decoder, one
  packet per frame, stamped like kernel buffers (microseconds, time base
  1/1000000, monotonic origin far from 0), looping the clip;
- reads like a non-blocking V4L2 fd: av.error.BlockingIOError (EAGAIN) when no
  frame is queued (``eagain_every``), ENODEV after an unplug, or end of stream.

If the camera is asked to size frames it cannot make, it sends its own size,
as V4L2 drivers do.
"""

from __future__ import annotations

import errno
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, NoReturn

import av
import av.error
from av.video.stream import VideoStream

DEVICE_TIME_BASE = Fraction(1, 1_000_000)
NONBLOCK = 0x4


@dataclass(frozen=True)
class Source:
    """One format the stand-in camera offers: a data file and how FFmpeg reads it."""

    path: Path
    ffmpeg_format: str
    options: dict[str, str]
    packets: tuple[tuple[bytes, bool], ...]  # (data, keyframe flag) as FFmpeg demuxed them


def _demuxed(path: Path, fmt: str, options: dict[str, str]) -> tuple[tuple[bytes, bool], ...]:
    with av.open(str(path), format=fmt, options=options) as c:
        return tuple((bytes(p), p.is_keyframe) for p in c.demux(video=0) if p.size)


def camera_sources(video: Path, out: Path, fps: int, keyint: int) -> dict[str, Source]:
    """Encode ``video`` the three ways a UVC camera sends frames; keyed by input_format."""
    with av.open(str(video)) as src:
        frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    height, width = frames[0].shape[:2]
    rate = {"framerate": str(fps)}
    made: dict[str, Source] = {}
    specs: dict[str, tuple[str, str, str, dict[str, str]]] = {
        "h264": ("h264", "libx264", "yuv420p", {
            "preset": "ultrafast", "tune": "zerolatency",
            "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0:repeat-headers=1"}),
        "mjpeg": ("mjpeg", "mjpeg", "yuvj422p", {}),
    }
    for name, (fmt, codec, pix, opts) in specs.items():
        path = out / f"camera.{name}"
        with av.open(str(path), "w", format=fmt) as mux:
            stream = mux.add_stream(codec, rate=fps, options=opts)
            assert isinstance(stream, VideoStream)
            stream.width, stream.height, stream.pix_fmt = width, height, pix
            for img in frames:
                frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format=pix)
                mux.mux(stream.encode(frame))
            mux.mux(stream.encode(None))
        made[name] = Source(path, fmt, rate, _demuxed(path, fmt, rate))
    raw = out / "camera.yuyv422"
    with raw.open("wb") as f:
        for img in frames:
            frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuyv422")
            f.write(bytes(frame.planes[0]))
    raw_opts = {"video_size": f"{width}x{height}", "pixel_format": "yuyv422", **rate}
    made["yuyv422"] = Source(raw, "rawvideo", raw_opts, _demuxed(raw, "rawvideo", raw_opts))
    return made


def _fail(code: int, path: str) -> NoReturn:
    """Raise what PyAV raises when FFmpeg returns AVERROR(code)."""
    av.error.err_check(-code, path)
    raise AssertionError(f"err_check did not raise for errno {code}")


@dataclass
class CameraRig:
    """The simulated camera and its cable; tests drive it, the back-end only calls ``open``.

    ``node`` is the device path given to the back-end: a symlink to /dev/null,
    the way /dev/v4l/by-id links point at /dev/videoN, so the back-end's check
    for a character device sees a real one. ``unplug`` removes it as udev would.
    """

    node: Path
    sources: dict[str, Source]
    fps: int
    device_start_us: int = 12_345_000_000
    eagain_every: int = 0  # EAGAIN before every n-th frame read (0: frames always queued)
    unplug_after: int | None = None  # frames served (over all opens) before the cable comes off
    unplug_mode: Literal["error", "eof", "quiet"] = "error"
    calls: list[dict[str, Any]] = field(default_factory=list)
    served: int = 0  # frames delivered over all opens
    reads: int = 0  # read attempts, EAGAIN included
    eagains: int = 0
    open_now: int = 0  # containers open at this moment
    stalled: bool = False  # "quiet": attached but no frames come
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.replug()

    @property
    def attached(self) -> bool:
        return self.node.is_symlink()

    def unplug(self) -> None:
        """The cable comes off: the node disappears and reads fail (or stop, or go quiet)."""
        if self.unplug_mode == "quiet":
            self.stalled = True
        elif self.attached:
            self.node.unlink()

    def replug(self, gap_s: float = 3.0) -> None:
        """The camera is back; its clock ran on while it was away."""
        if not self.attached:
            self.node.symlink_to("/dev/null")
        self.device_start_us += round(gap_s * 1e6)
        self.stalled = False
        self.unplug_after = None

    def open(
        self,
        file: str,
        mode: str | None = None,
        *,
        format: str | None = None,
        options: dict[str, str] | None = None,
        container_options: dict[str, str] | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> StandinContainer:
        """Stands in for ``av.open`` with the v4l2 demuxer; see the module docstring."""
        options = dict(options or {})
        fflags = (container_options or {}).get("fflags", "0")
        self.calls.append({"file": file, "mode": mode, "format": format, "options": options,
                           "container_options": container_options, "timeout": timeout})
        assert mode in (None, "r"), f"the v4l2 demuxer only reads, got mode {mode!r}"
        assert format in ("video4linux2", "v4l2"), f"not the v4l2 demuxer's name: {format!r}"
        unknown = set(options) - {"input_format", "pixel_format", "video_size", "framerate",
                                  "standard", "channel", "list_formats", "timestamps", "ts",
                                  "use_libv4l2"}
        assert not unknown, f"options the v4l2 demuxer does not have: {unknown}"
        assert re.fullmatch(r"[+]?(0x)?[0-9a-f]+", fflags), f"fflags {fflags!r}"
        nonblocking = bool(int(fflags.lstrip("+"), 0) & NONBLOCK)
        if not Path(file).exists():
            _fail(errno.ENOENT, file)
        wanted = options.get("input_format", "")
        if wanted not in av.codecs_available and not _is_pixel_format(wanted):
            _fail(errno.EINVAL, file)  # "No such input format"
        size = options.get("video_size")
        if size is not None and not re.fullmatch(r"\d+x\d+", size):
            _fail(errno.EINVAL, file)
        Fraction(options.get("framerate", "1"))  # av_parse_video_rate: "15", "30000/1001"
        if wanted not in self.sources:  # "Cannot find a proper format"
            _fail(errno.EINVAL, file)
        with self.lock:
            if self.open_now:
                _fail(errno.EBUSY, file)
            self.open_now += 1
        return StandinContainer(self, self.sources[wanted], nonblocking)

    def next_read(self, nonblocking: bool) -> Literal["frame", "eagain", "gone", "eof"]:
        """What the next read from the device finds."""
        with self.lock:
            self.reads += 1
            if self.unplug_after is not None and self.served >= self.unplug_after:
                self.unplug_after = None
                self.unplug()
            if not self.attached:
                return "eof" if self.unplug_mode == "eof" else "gone"
            if self.stalled or (self.eagain_every and self.reads % self.eagain_every == 0):
                if not nonblocking:
                    raise AssertionError("a blocking read here would hang the unit for good")
                self.eagains += 1
                return "eagain"
            self.served += 1
            return "frame"


def _is_pixel_format(name: str) -> bool:
    try:
        av.VideoFormat(name)
    except ValueError:
        return False
    return True


class StandinContainer:
    """The open device: real streams (and decoder) of ``source``, packets per ``rig``."""

    def __init__(self, rig: CameraRig, source: Source, nonblocking: bool) -> None:
        self._rig = rig
        self._source = source
        self.nonblocking = nonblocking
        self._real = av.open(str(source.path), format=source.ffmpeg_format,
                             options=source.options)
        self.streams = self._real.streams
        self._next = 0  # index into the source's packets
        self.closed = False

    def demux(self, *streams: Any) -> Iterator[av.Packet]:
        """Like PyAV's: packets until an error (which ends the generator) or end of stream."""
        if self.closed:
            raise AssertionError("demux() on a closed container")
        while True:
            what = self._rig.next_read(self.nonblocking)
            if what == "eagain":
                _fail(errno.EAGAIN, "")
            if what == "gone":  # VIDIOC_DQBUF after the USB device went away
                _fail(errno.ENODEV, "")
            if what == "eof":
                flush = av.Packet()
                yield flush  # PyAV's flush packet, then the generator ends
                return
            data, key = self._source.packets[self._next % len(self._source.packets)]
            self._next += 1
            packet = av.Packet(data)
            packet.time_base = DEVICE_TIME_BASE
            us = self._rig.device_start_us + round((self._rig.served - 1) * 1e6 / self._rig.fps)
            packet.pts = packet.dts = us
            packet.is_keyframe = key
            yield packet

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._real.close()
            with self._rig.lock:
                self._rig.open_now -= 1
