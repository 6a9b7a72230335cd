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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import av
import av.error
from av.container import InputContainer
from av.video.frame import VideoFrame

from hal.camera.base import CameraError, Capture, Frame
from hal.camera.live import CameraPlumbing, require_at_least, require_positive
from hal.camera.x264 import EPS, X264Stream, analysis_size, fit_within, next_grid_point, why

if TYPE_CHECKING:
    from hal.camera.config import FileCameraConfig

__all__ = ["FileCamera", "analysis_size", "fit_within"]

log = logging.getLogger(__name__)

_FALLBACK_FPS = 25.0
_TRUNCATION_TOLERANCE_S = 0.5


class FileCamera(CameraPlumbing):
    """A ``Camera`` that reads a video file; see the module docstring.

    The recorded stream is the source scaled down (never up) to fit
    ``record_width x record_height``, at the source's frame rate, with a
    keyframe every ``keyframe_interval_s`` of media time. ``encoder_preset``
    and ``encoder_threads`` (0 = one per core) tune libx264; "veryfast" ran a
    720p30 source at ~5.8x real time on a 2-core x86 test machine.
    """

    @classmethod
    def from_config(cls, cfg: FileCameraConfig, clock: Callable[[], float]) -> FileCamera:
        """From its ``[camera]`` section; nothing opens until start()."""
        return cls(
            cfg.path, analysis_fps=cfg.analysis_fps, analysis_width=cfg.analysis_width,
            record_width=cfg.record_width, record_height=cfg.record_height,
            record_bitrate=cfg.record_bitrate, keyframe_interval_s=cfg.keyframe_interval_s,
            realtime=cfg.realtime, clock=clock,
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

    def _release(self) -> None:
        if self._container is not None:
            self._container.close()
            log.info("file camera %s stopped", self.path)
        self._container = None
        self._frames = None
        self._first = None
        self._encoder = None

    def captures(self) -> Iterator[Capture]:
        """One capture per source frame, then one holding the encoder's last packets.

        Raises CameraError if the file turns out corrupt part-way, after
        delivering every packet encoded up to that point.
        """
        return super().captures()

    def _started(self) -> bool:
        return not (self._container is None or self._encoder is None or self._frames is None)

    def _run(self) -> Iterator[Capture]:
        assert self._encoder is not None and self._frames is not None
        return self._replay(self._encoder, self._frames)

    def _source_frames(self, rest: Iterator[VideoFrame]) -> Iterator[VideoFrame]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from rest

    def _replay(self, enc: X264Stream, rest: Iterator[VideoFrame]) -> Iterator[Capture]:
        frame_period = 1.0 / self._fps
        origin: float | None = None  # media time of the first frame
        base = 0.0  # added to media time: 0 in replay, the start clock in real time
        last_t = -math.inf
        next_analysis = 0.0
        failure: CameraError | None = None
        frames = self._source_frames(rest)
        while not self._stop.is_set():
            try:
                frame = next(frames)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                failure = CameraError(f"{self.path}: corrupt video data ({why(exc)})")
                break
            raw_t = frame.time if frame.time is not None else last_t + frame_period
            if origin is None:
                origin = raw_t
                base = self._clock() if self._realtime else 0.0
            media_t = raw_t - origin
            if media_t <= last_t:  # broken or repeated timestamps: keep time moving
                media_t = last_t + frame_period
            last_t = media_t
            if self._realtime and not self._wait_until(base + media_t):
                break
            t = base + media_t

            analysis: Frame | None = None
            if media_t >= next_analysis - EPS:
                w, h = analysis_size(frame.width, frame.height, self._analysis_width)
                analysis = Frame(frame.to_ndarray(width=w, height=h, format="rgb24"), t)
                next_analysis = next_grid_point(media_t, self._analysis_period)

            duration = frame.duration * frame.time_base if frame.duration and frame.time_base else 0
            packets = enc.encode(frame, media_t, base, float(duration) or frame_period)
            yield Capture(t=t, frame=analysis, packets=packets)

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
        tail = enc.flush(base)
        if tail:
            yield Capture(t=base + max(last_t, 0.0), frame=None, packets=tail)
        if failure is not None:
            raise failure

    def _wait_until(self, target: float) -> bool:
        """Sleep until ``clock() >= target``; False if stop() was called meanwhile."""
        while True:
            remaining = target - self._clock()
            if remaining <= 0:
                return not self._stop.is_set()
            # Bounded waits so a clock that is not wall time (tests, suspend) is re-read.
            if self._stop.wait(min(remaining, 0.05)):
                return False
