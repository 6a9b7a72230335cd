"""Write one clip: encoded packets muxed as they are into a fragmented MP4.

The file is written as ``<final>.partial`` with ``frag_keyframe+empty_moov``:
the header holds no samples and every keyframe starts a self-contained
``moof``+``mdat`` fragment. Each fragment is pushed to the OS as soon as the
muxer emits it and fsynced, so a power cut loses at most the fragment being
filled; ``salvage`` recovers the rest. Only a clip closed normally is renamed
to its final name, which is what tells the store it is complete.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
from av.audio.codeccontext import AudioCodecContext
from av.container import OutputContainer
from av.stream import Stream

from firmware.recorder.durable import fsync_dir, makedirs_durable, sha256_file
from hal.camera.base import Packet, StreamInfo

log = logging.getLogger(__name__)

MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
# A fragment also ends after this long without a keyframe. The one being filled is
# what a power cut loses, and the muxer holds a finished one ~0.3 s for the lagging
# audio: half-second fragments keep the loss under 1 s (keyframe-only: up to ~1.3 s)
# for twice the fsyncs (docs/powercut.md has the cost).
FRAGMENT_S = 0.5
PARTIAL_SUFFIX = ".partial"
_VIDEO_TIME_BASE = Fraction(1, 90_000)
_MUXABLE = {"h264", "aac", "opus"}


class RecorderError(RuntimeError):
    """A clip cannot be written or recovered; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class ClosedClip:
    """A finished clip on disk. Times are seconds on the capture clock."""

    path: Path
    sha256: str
    size: int
    start_pts: float
    end_pts: float
    duration: float


def partial_path(final_path: Path) -> Path:
    """Where a clip lives while it is being written."""
    return final_path.with_name(final_path.name + PARTIAL_SUFFIX)


class ClipWriter:
    """Mux packets of one clip without re-encoding; see the module docstring.

    Timestamps are rebased so the clip starts at 0 at its first video
    keyframe. Video before that keyframe, audio before it, and packets that go
    back in time are skipped (and counted in ``skipped``).
    """

    def __init__(
        self, final_path: str | Path, video_info: StreamInfo, audio_info: StreamInfo | None
    ) -> None:
        self.final_path = Path(final_path)
        self.partial_path = partial_path(self.final_path)
        for info in (video_info, audio_info):
            if info is not None and info.codec not in _MUXABLE:
                raise RecorderError(f"{self.final_path}: cannot mux codec {info.codec!r}")
        for existing in (self.final_path, self.partial_path):
            if existing.exists():
                # Never overwrite a clip: it may be evidence not yet uploaded.
                raise RecorderError(f"{existing}: already exists, refusing to overwrite")
        self.skipped = 0
        self.fragments = 0
        self._origin: float | None = None
        self._end: float | None = None
        self._last_ticks: dict[str, int] = {}
        self._synced = 0
        try:
            makedirs_durable(self.final_path.parent)
            self._file = open(self.partial_path, "xb", buffering=0)  # noqa: SIM115 (closed in close/abort)
        except OSError as exc:
            raise RecorderError(f"{self.partial_path}: cannot create ({exc.strerror})") from None
        try:
            self._container, self._streams = self._open_container(video_info, audio_info)
            self._sync()
            fsync_dir(self.final_path.parent)
        except BaseException:
            self._file.close()
            raise
        log.debug("clip %s opened", self.partial_path)

    def _open_container(
        self, video: StreamInfo, audio: StreamInfo | None
    ) -> tuple[OutputContainer, dict[str, Stream]]:
        try:
            out = av.open(
                self._file,
                "w",
                format="mp4",
                # flush_packets: hand each fragment to our file as soon as it is
                # muxed instead of waiting for the I/O buffer to fill.
                options={"movflags": MOVFLAGS, "flush_packets": "1",
                         "frag_duration": str(round(FRAGMENT_S * 1_000_000))},
            )
            streams = {"video": _add_stream(out, video)}
            if audio is not None:
                streams["audio"] = _add_stream(out, audio)
            out.start_encoding()
        except av.error.FFmpegError as exc:
            raise RecorderError(f"{self.partial_path}: cannot start clip ({exc})") from None
        return out, streams

    @property
    def start_pts(self) -> float | None:
        """Capture-clock time of the first keyframe written, once there is one."""
        return self._origin

    def write(self, packets: list[Packet] | tuple[Packet, ...]) -> None:
        """Mux packets in arrival order; fsync whenever a fragment reached the file."""
        for p in packets:
            self._write_one(p)

    def _write_one(self, p: Packet) -> None:
        if self._origin is None:
            if p.kind != "video" or not p.keyframe:
                self.skipped += 1
                return
            self._origin = p.pts
            # Once per clip: where its time 0 lies on the capture clock (the power-cut
            # harness measures what salvage kept against it).
            log.info("clip %s starts at keyframe %.3f", self.final_path.name, p.pts)
        stream = self._streams.get(p.kind)
        if stream is None or p.pts < self._origin:
            self.skipped += 1
            return
        tb = stream.time_base
        assert tb is not None
        ticks = round((p.pts - self._origin) / tb)
        if ticks <= self._last_ticks.get(p.kind, -1):
            self.skipped += 1
            return
        self._last_ticks[p.kind] = ticks
        pkt = av.Packet(p.data)
        pkt.stream = stream
        pkt.time_base = tb
        pkt.pts = pkt.dts = ticks
        pkt.duration = max(1, round(p.duration / tb))
        pkt.is_keyframe = p.keyframe
        try:
            self._container.mux(pkt)
            self._sync()
        except (av.error.FFmpegError, OSError) as exc:
            raise RecorderError(f"{self.partial_path}: write failed ({exc})") from None
        if p.kind == "video":
            end = p.pts + p.duration
            self._end = end if self._end is None else max(self._end, end)

    def _sync(self) -> None:
        """fsync if the muxer wrote since the last sync: that is one fragment (or the header)."""
        pos = self._file.tell()
        if pos > self._synced:
            os.fsync(self._file.fileno())
            if self._synced:
                self.fragments += 1
            self._synced = pos

    def close(self) -> ClosedClip:
        """Finish the file, make it durable, give it its final name and hash it."""
        try:
            self._container.close()  # writes the last fragment and the mfra index
            os.fsync(self._file.fileno())
            self._file.close()
            os.rename(self.partial_path, self.final_path)
            fsync_dir(self.final_path.parent)
            digest = sha256_file(self.final_path)
            size = self.final_path.stat().st_size
        except (av.error.FFmpegError, OSError) as exc:
            self._file.close()
            raise RecorderError(f"{self.partial_path}: cannot finish clip ({exc})") from None
        start = self._origin if self._origin is not None else 0.0
        end = self._end if self._end is not None else start
        log.debug("clip %s closed: %.2f s, %d bytes", self.final_path, end - start, size)
        return ClosedClip(self.final_path, digest, size, start, end, end - start)

    def abort(self) -> None:
        """Stop writing and leave the partial file for salvage; never raises."""
        with contextlib.suppress(OSError):
            self._file.close()
        log.warning("clip %s abandoned; left for salvage", self.partial_path)


def _add_stream(out: OutputContainer, info: StreamInfo) -> Stream:
    """A stream that takes pre-encoded packets for ``info`` without opening an encoder.

    PyAV opens an encoder for plain ``add_stream``; a stream made from a
    template is not opened, so a throwaway stream serves as the template and
    the real parameters (notably extradata) are set on the copy.
    """
    scratch = av.open(io.BytesIO(), "w", format="mp4")
    try:
        if info.kind == "video":
            rate = Fraction(info.fps).limit_denominator(1001) if info.fps > 0 else None
            template = scratch.add_stream(
                info.codec, rate=rate, width=info.width, height=info.height
            )
            stream = out.add_stream_from_template(template)
            stream.time_base = _VIDEO_TIME_BASE
        else:
            template = scratch.add_stream(info.codec, rate=info.sample_rate)
            stream = out.add_stream_from_template(template)
            ctx = stream.codec_context
            assert isinstance(ctx, AudioCodecContext)
            ctx.layout = "mono" if info.channels <= 1 else "stereo"
            stream.time_base = Fraction(1, info.sample_rate)
        stream.codec_context.time_base = stream.time_base
        if info.extradata:
            stream.codec_context.extradata = info.extradata
    finally:
        scratch.close()
    return stream
