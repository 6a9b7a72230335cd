"""File camera: replays any video file as if it were a camera.

The file is decoded with PyAV; every source frame is re-encoded with libx264 so
the recorded stream looks exactly like a hardware camera's (H.264, fixed
keyframe interval, no B-frames, SPS/PPS in extradata), and a low-resolution RGB
frame is handed to analysis at ``analysis_fps``. With ``realtime=False`` the file
runs as fast as the machine allows and all times are media seconds from 0,
which makes replays deterministic; with ``realtime=True`` frames are paced by
their timestamps against ``clock`` and times are ``clock`` values.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import av.error
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter

from hal.camera.base import CameraError, Capture, Frame, Packet, StreamInfo
from hal.camera.file.h264_copy import (
    SourcePacket,
    camera_like,
    decode_keeping_packets,
    packets_up_to,
)
from hal.camera.file.prefetch import prefetched
from hal.camera.live import CameraPlumbing, require_at_least, require_positive
from hal.camera.x264 import EPS, X264Stream, analysis_size, fit_within, next_grid_point, why

if TYPE_CHECKING:
    from hal.camera.config import FileCameraConfig

__all__ = ["FileCamera", "analysis_size", "fit_within"]

log = logging.getLogger(__name__)

_FALLBACK_FPS = 25.0
# Frames a replay decodes ahead of the unit (each ~2 MB at 720p). The unit's cost per
# frame swings (a model pass or none): 8 lets the decoder run ahead through a busy
# stretch and cover the quick frames after it, where 4 left the loop waiting on it.
DECODE_AHEAD = 8
Timed = tuple[VideoFrame, float, "np.ndarray | None"]

Ended = tuple[CameraError | None, float, float]  # failure, last media time, clock base
_TRUNCATION_TOLERANCE_S = 0.5


class FileCamera(CameraPlumbing):
    """A ``Camera`` that reads a video file; see the module docstring.

    The recorded stream is the source scaled down (never up) to fit
    ``record_width x record_height``, at the source's frame rate, with a
    keyframe every ``keyframe_interval_s`` of media time. ``encoder_preset``
    and ``encoder_threads`` (0 = one per core) tune libx264; "veryfast" ran a
    720p30 source at ~5.8x real time on a 2-core x86 test machine.

    ``copy_h264`` records the file's own packets instead when the whole file
    is camera-like (``hal.camera.file.h264_copy``; replay sets it): the recording
    is then the source stream itself and no encoder runs. A file that is not
    is re-encoded, and the reason is logged once.
    """

    @classmethod
    def from_config(cls, cfg: FileCameraConfig, clock: Callable[[], float]) -> FileCamera:
        """From its ``[camera]`` section; nothing opens until start()."""
        return cls(
            cfg.path, analysis_fps=cfg.analysis_fps, analysis_width=cfg.analysis_width,
            record_width=cfg.record_width, record_height=cfg.record_height,
            record_bitrate=cfg.record_bitrate, keyframe_interval_s=cfg.keyframe_interval_s,
            realtime=cfg.realtime, clock=clock, copy_h264=cfg.copy_h264,
        )

    def __init__(
        self,
        path: str | Path,
        *,
        analysis_fps: float = 5.0,
        analysis_width: int = 640,
        record_width: int = 1280,
        record_height: int = 720,
        record_bitrate: int = 512_000,
        keyframe_interval_s: float = 1.0,
        realtime: bool = False,
        clock: Callable[[], float] = time.monotonic,
        encoder_preset: str = "veryfast",
        encoder_threads: int = 0,
        copy_h264: bool = False,
    ) -> None:
        require_positive(analysis_fps=analysis_fps, record_bitrate=record_bitrate,
                         keyframe_interval_s=keyframe_interval_s)
        require_at_least(16, analysis_width=analysis_width, record_width=record_width,
                         record_height=record_height)
        self.path = Path(path)
        super().__init__(str(self.path))
        self._analysis_period = 1.0 / analysis_fps
        self._analysis_width = analysis_width
        self._record_max = (record_width, record_height)
        self._bitrate = record_bitrate
        self._kf_interval = keyframe_interval_s
        self._realtime = realtime
        self._clock = clock
        self._preset = encoder_preset
        self._threads = encoder_threads
        self._copy_wanted = copy_h264
        self._kept: deque[SourcePacket] | None = None  # copying: packets awaiting their frame
        self._time_base: Fraction | None = None
        self._origin: float | None = None  # raw time of the first frame
        # One scaler for every analysis frame: a new one per frame costs more than the scaling.
        self._scaler = VideoReformatter()
        self._scale_threads = True  # False once PyAV turned ``threads=`` down (too old)
        self._container: InputContainer | None = None
        self._frames: Iterator[VideoFrame] | None = None
        self._first: VideoFrame | None = None
        self._encoder: X264Stream | None = None
        self._fps = _FALLBACK_FPS
        self._declared_s: float | None = None  # duration the container claims

    def start(self) -> None:
        """Open the file, decode its first frame and set up the encoder.

        Decoding one frame here means a corrupt file fails now, with a clear
        message, rather than half-way through someone's replay.
        """
        if self._container is not None:
            return
        if not self.path.exists():
            raise CameraError(f"{self.path}: no such file")
        # A FIFO is allowed: a stream piped in (tests stall a camera this way).
        if not (self.path.is_file() or self.path.is_fifo()):
            raise CameraError(f"{self.path}: not a regular file")
        try:
            container = av.open(str(self.path), mode="r")
        except av.error.FFmpegError as exc:
            raise CameraError(f"{self.path}: not a readable video file ({why(exc)})") from None
        except OSError as exc:
            raise CameraError(f"{self.path}: cannot open ({exc.strerror or exc})") from None
        try:
            self._open_stream(container)
        except BaseException:
            container.close()
            raise
        self._container = container
        self._stop.clear()
        info = self.video_info
        log.info(
            "file camera %s started: recording %dx%d h264 at %.2f fps",
            self.path,
            info.width,
            info.height,
            info.fps,
        )

    def _open_stream(self, container: InputContainer) -> None:
        if not container.streams.video:
            raise CameraError(f"{self.path}: no video stream in file")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        reason = self._copy_refusal()
        if reason is None:
            self._kept = deque()
            self._time_base = stream.time_base
            frames: Iterator[VideoFrame] = decode_keeping_packets(container, stream, self._kept)
        else:
            self._kept = None
            frames = container.decode(stream)
        try:
            first = next(frames)
        except StopIteration:
            raise CameraError(f"{self.path}: video stream holds no decodable frame") from None
        except av.error.FFmpegError as exc:
            raise CameraError(f"{self.path}: corrupt video data ({why(exc)})") from None
        rate = stream.average_rate or stream.guessed_rate
        self._fps = float(rate) if rate else _FALLBACK_FPS
        if stream.duration and stream.time_base:
            self._declared_s = float(stream.duration * stream.time_base)
        elif container.duration:
            self._declared_s = container.duration / av.time_base
        self._frames = frames
        self._first = first
        if self._kept is not None:
            ctx = stream.codec_context
            self._encoder = None
            self._info = StreamInfo(kind="video", codec="h264", extradata=ctx.extradata,
                                    width=ctx.width, height=ctx.height, fps=self._fps)
            log.info("file camera %s: recording the file's own H.264 (camera-like)", self.path)
            return
        width, height = fit_within(first.width, first.height, *self._record_max)
        self._encoder = X264Stream(
            str(self.path),
            width,
            height,
            self._fps,
            bitrate=self._bitrate,
            keyframe_interval_s=self._kf_interval,
            preset=self._preset,
            threads=self._threads,
        )
        self._info = self._encoder.info

    def _copy_refusal(self) -> str | None:
        """None when the file's packets are recorded as they are; else why not (logged)."""
        if not self._copy_wanted:
            return "not asked for"
        reason: str | None = "not a regular file"
        if self.path.is_file():
            reason = camera_like(self.path, self._record_max, self._kf_interval)
        if reason is not None:
            log.info("file camera %s: re-encoding the recording: %s", self.path, reason)
        return reason

    def _release(self) -> None:
        if self._container is not None:
            self._container.close()
            log.info("file camera %s stopped", self.path)
        self._container = None
        self._frames = None
        self._first = None
        self._encoder = None
        self._kept = None

    def captures(self) -> Iterator[Capture]:
        """One capture per source frame, then one holding the encoder's last packets.

        Raises CameraError if the file turns out corrupt part-way, after
        delivering every packet encoded up to that point.
        """
        return super().captures()

    def _started(self) -> bool:
        return not (self._container is None or self._frames is None
                    or (self._encoder is None and self._kept is None))

    def _run(self) -> Iterator[Capture]:
        assert self._frames is not None
        return self._replay(self._encoder, self._frames)

    def _source_frames(self, rest: Iterator[VideoFrame]) -> Iterator[VideoFrame]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from rest

    def _timeline(self, rest: Iterator[VideoFrame]) -> Iterator[Timed]:
        """Each source frame with its media time, and its analysis image when one is due.

        Depends on the frames alone (not on the clock), so a replay can run it
        ahead on another thread. Raises CameraError on corrupt data.
        """
        frame_period = 1.0 / self._fps
        last_t = -math.inf
        next_analysis = 0.0
        frames = self._source_frames(rest)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                return
            except av.error.FFmpegError as exc:
                raise CameraError(f"{self.path}: corrupt video data ({why(exc)})") from None
            raw_t = frame.time if frame.time is not None else last_t + frame_period
            if self._origin is None:
                self._origin = raw_t
            media_t = raw_t - self._origin
            if media_t <= last_t:  # broken or repeated timestamps: keep time moving
                media_t = last_t + frame_period
            last_t = media_t
            image = None
            if media_t >= next_analysis - EPS:
                w, h = analysis_size(frame.width, frame.height, self._analysis_width)
                image = self._analysis_image(frame, w, h)
                next_analysis = next_grid_point(media_t, self._analysis_period)
            yield frame, media_t, image

    def _analysis_image(self, frame: VideoFrame, width: int, height: int) -> np.ndarray:
        """The frame scaled to the analysis size as RGB, on the calling thread.

        swscale's own slice threads (its default) cost more in wake-ups than
        they save on a frame this small, and the decode already runs beside the
        analysis: one thread gives the same pixels for about 0.5 s less CPU per
        2 minutes of 720p. A PyAV too old for ``threads=`` keeps its default.
        """
        if self._scale_threads:
            try:
                return self._scaler.reformat(frame, format="rgb24", width=width, height=height,
                                             threads=1).to_ndarray()
            except TypeError:
                self._scale_threads = False
        return self._scaler.reformat(frame, format="rgb24", width=width,
                                     height=height).to_ndarray()

    def _replay(self, enc: X264Stream | None, rest: Iterator[VideoFrame]) -> Iterator[Capture]:
        frame_period = 1.0 / self._fps
        self._origin = None  # media time of the first frame, set by _timeline
        timeline = self._timeline(rest)
        if not self._realtime:
            # As fast as possible: decode and scale the next frames meanwhile.
            timeline = prefetched(timeline, DECODE_AHEAD, name="file-camera-decode")
        try:
            failure, last_t, base = yield from self._captures_of(enc, timeline, frame_period)
        finally:
            close = getattr(timeline, "close", None)
            if close is not None:
                close()  # stops the decoding thread before the container closes
        stopped = self._stop.is_set()
        if failure is None and not stopped and self._declared_s is not None:
            reached = max(last_t, 0.0) + frame_period
            # A cut file often decodes cleanly up to the cut; only the length it
            # claims gives it away. Tolerance covers rounding in the headers.
            if reached + _TRUNCATION_TOLERANCE_S + 2 * frame_period < self._declared_s:
                failure = CameraError(
                    f"{self.path}: truncated: video ends at {reached:.1f} s "
                    f"but the file declares {self._declared_s:.1f} s"
                )
        origin = self._origin
        tail = enc.flush(base) if enc is not None else self._copied(None, origin, base,
                                                                     frame_period)
        if tail:
            yield Capture(t=base + max(last_t, 0.0), frame=None, packets=tail)
        if failure is not None:
            raise failure

    def _captures_of(self, enc: X264Stream | None, timeline: Iterator[Timed],
                     frame_period: float) -> Generator[Capture, None, Ended]:
        """Captures from the timeline; returns the failure (or None), last media time, base.

        ``base`` is added to media time: 0 in replay, the start clock in real time.
        """
        base = 0.0
        last_t = -math.inf
        while not self._stop.is_set():
            try:
                frame, media_t, image = next(timeline)
            except StopIteration:
                break
            except CameraError as exc:
                return exc, last_t, base
            origin = self._origin
            assert origin is not None
            if last_t == -math.inf:
                base = self._clock() if self._realtime else 0.0
            last_t = media_t
            if self._realtime and not self._wait_until(base + media_t):
                break
            t = base + media_t
            analysis = None if image is None else Frame(image, t)

            if enc is None:
                packets = self._copied(frame, origin, base, frame_period)
            else:
                duration = (frame.duration * frame.time_base
                            if frame.duration and frame.time_base else 0)
                packets = enc.encode(frame, media_t, base, float(duration) or frame_period)
            yield Capture(t=t, frame=analysis, packets=packets)
        return None, last_t, base

    def _copied(self, frame: VideoFrame | None, origin: float | None, base: float,
                frame_period: float) -> tuple[Packet, ...]:
        """The source packets up to ``frame`` (every one left, for None): copying."""
        kept, tb = self._kept, self._time_base
        assert kept is not None and tb is not None
        if origin is None:
            return ()
        last = frame.pts if frame is not None and frame.pts is not None else None
        return packets_up_to(kept, last if last is not None else 2**62, tb, origin, base,
                             frame_period)

    def _wait_until(self, target: float) -> bool:
        """Sleep until ``clock() >= target``; False if stop() was called meanwhile."""
        while True:
            remaining = target - self._clock()
            if remaining <= 0:
                return not self._stop.is_set()
            # Bounded waits so a clock that is not wall time (tests, suspend) is re-read.
            if self._stop.wait(min(remaining, 0.05)):
                return False
