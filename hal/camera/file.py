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
import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.error
from av.container import InputContainer
from av.video.codeccontext import VideoCodecContext
from av.video.frame import PictureType, VideoFrame

from hal.camera.base import CameraError, Capture, Frame, Packet, StreamInfo

log = logging.getLogger(__name__)

# 90 kHz is the MPEG clock: fine enough for any frame rate, and what MP4 muxers expect.
_ENCODER_TIME_BASE = Fraction(1, 90_000)
_FALLBACK_FPS = 25.0
# A frame counts as "on" a grid point if it is this close (float rounding of pts * tb).
_EPS = 1e-6
_TRUNCATION_TOLERANCE_S = 0.5


def fit_within(src_w: int, src_h: int, max_w: int, max_h: int) -> tuple[int, int]:
    """Largest even size with the source aspect that fits ``max_w x max_h``; never upscales.

    Even sizes because yuv420p halves both dimensions for chroma.
    """
    scale = min(1.0, max_w / src_w, max_h / src_h)
    w = max(2, int(src_w * scale) // 2 * 2)
    h = max(2, int(src_h * scale) // 2 * 2)
    return w, h


def analysis_size(src_w: int, src_h: int, analysis_width: int) -> tuple[int, int]:
    """Analysis frame size: ``analysis_width`` wide (never wider than the source), same aspect."""
    w = min(analysis_width, src_w)
    h = max(1, round(src_h * w / src_w))
    return w, h


class FileCamera:
    """A ``Camera`` that reads a video file; see the module docstring.

    The recorded stream is the source scaled down (never up) to fit
    ``record_width x record_height``, at the source's frame rate, with a
    keyframe every ``keyframe_interval_s`` of media time. ``encoder_preset``
    and ``encoder_threads`` (0 = one per core) tune libx264; "veryfast" ran a
    720p30 source at ~5.8x real time on a 2-core x86 test machine.
    """

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
        if analysis_fps <= 0:
            raise ValueError(f"analysis_fps must be > 0, got {analysis_fps}")
        if analysis_width < 16 or record_width < 16 or record_height < 16:
            raise ValueError("analysis_width, record_width and record_height must be >= 16")
        if record_bitrate <= 0:
            raise ValueError(f"record_bitrate must be > 0, got {record_bitrate}")
        if keyframe_interval_s <= 0:
            raise ValueError(f"keyframe_interval_s must be > 0, got {keyframe_interval_s}")
        self.path = Path(path)
        self._analysis_period = 1.0 / analysis_fps
        self._analysis_width = analysis_width
        self._record_max = (record_width, record_height)
        self._bitrate = record_bitrate
        self._kf_interval = keyframe_interval_s
        self._realtime = realtime
        self._clock = clock
        self._preset = encoder_preset
        self._threads = encoder_threads

        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._iterating = False
        self._container: InputContainer | None = None
        self._frames: Iterator[VideoFrame] | None = None
        self._first: VideoFrame | None = None
        self._encoder: VideoCodecContext | None = None
        self._info: StreamInfo | None = None
        self._fps = _FALLBACK_FPS
        self._declared_s: float | None = None  # duration the container claims

    @property
    def video_info(self) -> StreamInfo:
        """H.264 parameters of the recorded stream; valid after start()."""
        if self._info is None:
            raise CameraError(f"{self.path}: video_info is only known after start()")
        return self._info

    def start(self) -> None:
        """Open the file, decode its first frame and set up the encoder.

        Decoding one frame here means a corrupt file fails now, with a clear
        message, rather than half-way through someone's replay.
        """
        if self._container is not None:
            return
        if not self.path.exists():
            raise CameraError(f"{self.path}: no such file")
        if not self.path.is_file():
            raise CameraError(f"{self.path}: not a regular file")
        try:
            container = av.open(str(self.path), mode="r")
        except av.error.FFmpegError as exc:
            raise CameraError(f"{self.path}: not a readable video file ({_why(exc)})") from None
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
            raise CameraError(f"{self.path}: corrupt video data ({_why(exc)})") from None
        rate = stream.average_rate or stream.guessed_rate
        self._fps = float(rate) if rate else _FALLBACK_FPS
        if stream.duration and stream.time_base:
            self._declared_s = float(stream.duration * stream.time_base)
        elif container.duration:
            self._declared_s = container.duration / av.time_base
        self._frames = frames
        self._first = first
        self._encoder = self._make_encoder(first.width, first.height)
        extradata = self._encoder.extradata
        self._info = StreamInfo(
            kind="video",
            codec="h264",
            extradata=extradata,
            width=self._encoder.width,
            height=self._encoder.height,
            fps=self._fps,
        )

    def _make_encoder(self, src_w: int, src_h: int) -> VideoCodecContext:
        width, height = fit_within(src_w, src_h, *self._record_max)
        enc = av.CodecContext.create("libx264", "w")
        assert isinstance(enc, VideoCodecContext)
        enc.width = width
        enc.height = height
        enc.pix_fmt = "yuv420p"
        enc.time_base = _ENCODER_TIME_BASE
        enc.framerate = Fraction(self._fps).limit_denominator(1001)
        enc.bit_rate = self._bitrate
        enc.max_b_frames = 0
        # Keyframes are forced by time (see captures()); the GOP limit is only a
        # backstop in case a frame is ever not forced, and scenecut stays off so
        # fragments keep their planned length.
        enc.gop_size = max(1, math.ceil(self._fps * self._kf_interval * 2))
        enc.thread_count = self._threads
        # zerolatency: no lookahead and no B-frames, so every frame comes out as
        # a packet immediately and pts == dts, which keeps ring and muxing simple.
        enc.options = {
            "preset": self._preset,
            "tune": "zerolatency",
            "forced-idr": "1",
            "x264-params": "scenecut=0",
        }
        enc.flags |= av.codec.context.Flags.global_header
        try:
            enc.open()
        except av.error.FFmpegError as exc:
            raise CameraError(f"{self.path}: cannot open the H.264 encoder ({_why(exc)})") from None
        return enc

    def stop(self) -> None:
        """Ask captures() to end and release the file; safe to call twice."""
        self._stop.set()
        with self._lock:
            if not self._iterating:
                self._release()

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
        with self._lock:
            if self._container is None or self._encoder is None or self._frames is None:
                raise CameraError(f"{self.path}: call start() before captures()")
            if self._iterating:
                raise CameraError(f"{self.path}: captures() is already being iterated")
            self._iterating = True
        try:
            yield from self._run(self._encoder, self._frames)
        finally:
            with self._lock:
                self._iterating = False
                self._release()

    def _source_frames(self, rest: Iterator[VideoFrame]) -> Iterator[VideoFrame]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from rest

    def _run(self, enc: VideoCodecContext, rest: Iterator[VideoFrame]) -> Iterator[Capture]:
        frame_period = 1.0 / self._fps
        origin: float | None = None  # media time of the first frame
        base = 0.0  # added to media time: 0 in replay, the start clock in real time
        last_t = -math.inf
        next_analysis = 0.0
        next_key = 0.0
        durations: dict[int, float] = {}
        failure: CameraError | None = None
        frames = self._source_frames(rest)
        while not self._stop.is_set():
            try:
                frame = next(frames)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                failure = CameraError(f"{self.path}: corrupt video data ({_why(exc)})")
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
            if media_t >= next_analysis - _EPS:
                w, h = analysis_size(frame.width, frame.height, self._analysis_width)
                analysis = Frame(frame.to_ndarray(width=w, height=h, format="rgb24"), t)
                next_analysis = (math.floor(media_t / self._analysis_period + _EPS) + 1) * (
                    self._analysis_period
                )

            key = media_t >= next_key - _EPS
            if key:
                next_key = (math.floor(media_t / self._kf_interval + _EPS) + 1) * self._kf_interval
            pts = round(media_t / _ENCODER_TIME_BASE)
            duration = frame.duration * frame.time_base if frame.duration and frame.time_base else 0
            durations[pts] = float(duration) or frame_period
            out = frame.reformat(width=enc.width, height=enc.height, format="yuv420p")
            out.pts = pts
            out.time_base = _ENCODER_TIME_BASE
            # Decoded frames carry the source's picture types, and libx264 obeys
            # them, so every frame's type is set: ours, not the source's, GOP.
            out.pict_type = PictureType.I if key else PictureType.NONE
            packets = self._encode(enc, out, base, durations)
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
        tail = self._encode(enc, None, base, durations)
        if tail:
            yield Capture(t=base + max(last_t, 0.0), frame=None, packets=tail)
        if failure is not None:
            raise failure

    def _encode(
        self,
        enc: VideoCodecContext,
        frame: VideoFrame | None,
        base: float,
        durations: dict[int, float],
    ) -> tuple[Packet, ...]:
        try:
            encoded = enc.encode(frame)
        except av.error.FFmpegError as exc:
            raise CameraError(f"{self.path}: H.264 encoding failed ({_why(exc)})") from None
        out = []
        for p in encoded:
            ticks = p.pts if p.pts is not None else 0
            out.append(
                Packet(
                    kind="video",
                    data=bytes(p),
                    pts=base + float(ticks * _ENCODER_TIME_BASE),
                    duration=durations.pop(ticks, 1.0 / self._fps),
                    keyframe=p.is_keyframe,
                )
            )
        return tuple(out)

    def _wait_until(self, target: float) -> bool:
        """Sleep until ``clock() >= target``; False if stop() was called meanwhile."""
        while True:
            remaining = target - self._clock()
            if remaining <= 0:
                return not self._stop.is_set()
            # Bounded waits so a clock that is not wall time (tests, suspend) is re-read.
            if self._stop.wait(min(remaining, 0.05)):
                return False


def _why(exc: av.error.FFmpegError) -> str:
    """The FFmpeg reason without PyAV's call-site noise."""
    return exc.strerror or str(exc)
