"""libx264 set up to look like a hardware camera's encoder, shared by software back-ends.

Every back-end that has to encode its own main stream (the file camera, a V4L2
camera delivering MJPEG or raw frames) uses ``X264Stream`` so recordings look
alike: H.264, no B-frames, pts == dts, a keyframe every ``keyframe_interval_s``
of media time, and SPS/PPS in ``StreamInfo.extradata`` (Annex-B, which the MP4
muxer converts to avcC itself).
"""

from __future__ import annotations

import math
from fractions import Fraction

import av
import av.error
from av.video.codeccontext import VideoCodecContext
from av.video.frame import PictureType, VideoFrame

from hal.camera.base import CameraError, Packet, StreamInfo

# 90 kHz is the MPEG clock: fine enough for any frame rate, and what MP4 muxers expect.
TIME_BASE = Fraction(1, 90_000)
# A frame counts as "on" a grid point if it is this close (float rounding of pts * tb).
EPS = 1e-6


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


def next_grid_point(t: float, period: float) -> float:
    """The first multiple of ``period`` strictly after ``t`` (with float slack)."""
    return (math.floor(t / period + EPS) + 1) * period


class X264Stream:
    """One libx264 encoder; ``encode`` takes media-time frames and returns Packets.

    ``source`` names the device or file in error messages. Packet times are
    ``base + media_t``. Raises CameraError when libx264 cannot be opened.
    """

    def __init__(
        self,
        source: str,
        width: int,
        height: int,
        fps: float,
        *,
        bitrate: int,
        keyframe_interval_s: float,
        preset: str = "veryfast",
        threads: int = 0,
    ) -> None:
        self._source = source
        self._fps = fps
        self._kf_interval = keyframe_interval_s
        self._next_key = 0.0
        self._durations: dict[int, float] = {}
        enc = av.CodecContext.create("libx264", "w")
        assert isinstance(enc, VideoCodecContext)
        enc.width = width
        enc.height = height
        enc.pix_fmt = "yuv420p"
        enc.time_base = TIME_BASE
        enc.framerate = Fraction(fps).limit_denominator(1001)
        enc.bit_rate = bitrate
        enc.max_b_frames = 0
        # Keyframes are forced by time (see encode()); the GOP limit is only a
        # backstop in case a frame is ever not forced, and scenecut stays off so
        # fragments keep their planned length.
        enc.gop_size = max(1, math.ceil(fps * keyframe_interval_s * 2))
        enc.thread_count = threads
        # zerolatency: no lookahead and no B-frames, so every frame comes out as
        # a packet immediately and pts == dts, which keeps ring and muxing simple.
        enc.options = {
            "preset": preset,
            "tune": "zerolatency",
            "forced-idr": "1",
            "x264-params": "scenecut=0",
        }
        enc.flags |= av.codec.context.Flags.global_header
        try:
            enc.open()
        except av.error.FFmpegError as exc:
            raise CameraError(f"{source}: cannot open the H.264 encoder ({why(exc)})") from None
        self._enc = enc

    @property
    def info(self) -> StreamInfo:
        """What the muxer needs for this encoder's packets."""
        return StreamInfo(
            kind="video",
            codec="h264",
            extradata=self._enc.extradata,
            width=self._enc.width,
            height=self._enc.height,
            fps=self._fps,
        )

    def encode(
        self, frame: VideoFrame, media_t: float, base: float, duration: float | None = None
    ) -> tuple[Packet, ...]:
        """Encode ``frame`` shown at ``media_t``; a keyframe when the interval is due."""
        enc = self._enc
        key = media_t >= self._next_key - EPS
        if key:
            self._next_key = next_grid_point(media_t, self._kf_interval)
        pts = round(media_t / TIME_BASE)
        self._durations[pts] = duration or 1.0 / self._fps
        out = frame.reformat(width=enc.width, height=enc.height, format="yuv420p")
        out.pts = pts
        out.time_base = TIME_BASE
        # Decoded frames carry the source's picture types, and libx264 obeys
        # them, so every frame's type is set: ours, not the source's, GOP.
        out.pict_type = PictureType.I if key else PictureType.NONE
        return self._packets(out, base)

    def flush(self, base: float) -> tuple[Packet, ...]:
        """Whatever the encoder still holds (nothing, with zerolatency, but be sure)."""
        return self._packets(None, base)

    def _packets(self, frame: VideoFrame | None, base: float) -> tuple[Packet, ...]:
        try:
            encoded = self._enc.encode(frame)
        except av.error.FFmpegError as exc:
            raise CameraError(f"{self._source}: H.264 encoding failed ({why(exc)})") from None
        out = []
        for p in encoded:
            ticks = p.pts if p.pts is not None else 0
            out.append(
                Packet(
                    kind="video",
                    data=bytes(p),
                    pts=base + float(ticks * TIME_BASE),
                    duration=self._durations.pop(ticks, 1.0 / self._fps),
                    keyframe=p.is_keyframe,
                )
            )
        return tuple(out)


def why(exc: av.error.FFmpegError) -> str:
    """The FFmpeg reason without PyAV's call-site noise."""
    return exc.strerror or str(exc)
