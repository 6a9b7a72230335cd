"""The recorder: one packet ring for pre-roll, any number of overlapping clips.

The daemon feeds every encoded packet (video and audio, in arrival order) and
says when clips start and stop, in capture-clock seconds. A clip starts at the
keyframe nearest its requested start (from the ring when that lies in the
past), and ends at the first video packet at or after its requested end, so
its length matches the request within about half a keyframe interval.

Single-threaded by design: call every method from the daemon's loop.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from firmware.recorder.ring import PacketRing
from firmware.recorder.salvage import SalvageResult, salvage
from firmware.recorder.writer import ClipWriter, ClosedClip, RecorderError
from hal.camera.base import Packet, StreamInfo

log = logging.getLogger(__name__)

__all__ = ["ClosedClip", "Recorder", "RecorderError", "SalvageResult", "salvage"]

_CLIP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(slots=True)
class _Clip:
    clip_id: str
    writer: ClipWriter
    start_t: float
    end_t: float | None = None
    started: bool = False  # ring content written; live packets go straight in
    video_done: bool = False  # a video packet at/after end_t arrived
    audio_done: bool = False  # an audio packet at/after end_t arrived
    last_video: float | None = None


class Recorder:
    """Pre-roll ring plus open clips; see the module docstring.

    ``ring_seconds`` must cover the longest pre-roll plus one keyframe interval.
    ``audio_grace_s``: after the video reaches a clip's end, how long to wait
    for audio (which lags by the AAC encoder's delay) before closing anyway.
    """

    def __init__(
        self,
        clips_dir: str | Path,
        ring_seconds: float,
        video_info: StreamInfo,
        audio_info: StreamInfo | None = None,
        *,
        audio_grace_s: float = 0.5,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.clips_dir = Path(clips_dir)
        self._ring = PacketRing(ring_seconds)
        self._video_info = video_info
        self._audio_info = audio_info
        self._grace = audio_grace_s
        self._wall_clock = wall_clock
        self._open: dict[str, _Clip] = {}
        self._closed: list[tuple[str, ClosedClip]] = []
        self._failed: list[tuple[str, str]] = []

    @property
    def open_clips(self) -> list[str]:
        """Ids of clips still being written."""
        return list(self._open)

    def clip_path(self, clip_id: str) -> Path:
        """Default location: ``clips_dir/YYYY/MM/DD/<clip_id>.mp4``, UTC date of the wall clock."""
        day = time.strftime("%Y/%m/%d", time.gmtime(self._wall_clock()))
        return self.clips_dir / day / f"{clip_id}.mp4"

    def start_clip(self, clip_id: str, start_t: float, *, path: str | Path | None = None) -> Path:
        """Open a clip reaching back to ``start_t``; returns its final path.

        ``path`` (relative to ``clips_dir``, or absolute) overrides the default
        location. Raises RecorderError for a bad or duplicate id, or when the
        file cannot be created.
        """
        if not _CLIP_ID.match(clip_id):
            raise RecorderError(f"clip id {clip_id!r}: use letters, digits, '.', '_' or '-'")
        if clip_id in self._open:
            raise RecorderError(f"clip {clip_id!r} is already open")
        final = self.clips_dir / path if path is not None else self.clip_path(clip_id)
        writer = ClipWriter(final, self._video_info, self._audio_info)
        clip = _Clip(clip_id, writer, start_t)
        self._open[clip_id] = clip
        log.info("clip %s started at %.3f -> %s", clip_id, start_t, final)
        self._try_start(clip)
        return final

    def stop_clip(self, clip_id: str, end_t: float) -> None:
        """Let the clip run to ``end_t``; it closes when the video gets there."""
        clip = self._open.get(clip_id)
        if clip is None:
            raise RecorderError(f"clip {clip_id!r} is not open")
        clip.end_t = end_t
        if clip.started and clip.last_video is not None and clip.last_video >= end_t:
            clip.video_done = True  # already past the end: nothing more to wait for
        self._maybe_close(clip)

    def feed(self, packets: Iterable[Packet]) -> None:
        """Add packets to the ring and to every open clip."""
        for p in packets:
            self._ring.add((p,))
            for clip in list(self._open.values()):
                if clip.started:
                    self._offer(clip, (p,))
                else:
                    self._try_start(clip)

    def closed(self) -> list[tuple[str, ClosedClip]]:
        """Clips finished since the last call, for the caller to commit."""
        out, self._closed = self._closed, []
        return out

    def failed(self) -> list[tuple[str, str]]:
        """(clip id, reason) of clips abandoned since the last call; their partial files
        stay on disk for ``salvage``."""
        out, self._failed = self._failed, []
        return out

    def close_all(self, now: float) -> None:
        """Close every open clip at once (shutdown); unstarted ones get whatever the ring has."""
        for clip in list(self._open.values()):
            if not clip.started:
                self._begin(clip)
            clip.end_t = now if clip.end_t is None else min(clip.end_t, now)
            self._close(clip)

    def _try_start(self, clip: _Clip) -> None:
        """Start once the keyframe nearest ``start_t`` is known: one at or after it is held."""
        keyframes = self._ring.keyframes
        if keyframes and keyframes[-1] >= clip.start_t:
            self._begin(clip)

    def _begin(self, clip: _Clip) -> None:
        clip.started = True
        self._offer(clip, self._ring.since(clip.start_t))

    def _offer(self, clip: _Clip, packets: Iterable[Packet]) -> None:
        accepted = []
        for p in packets:
            if clip.end_t is not None and p.pts >= clip.end_t:
                if p.kind == "video":
                    clip.video_done = True
                else:
                    clip.audio_done = True
                continue
            if p.kind == "video":
                clip.last_video = p.pts
            accepted.append(p)
        try:
            clip.writer.write(accepted)
        except RecorderError as exc:
            self._fail(clip, str(exc))
            return
        self._maybe_close(clip)

    def _maybe_close(self, clip: _Clip) -> None:
        if clip.end_t is None or not clip.video_done or clip.clip_id not in self._open:
            return
        audio_settled = (
            self._audio_info is None
            or clip.audio_done
            or (self._ring.newest is not None and self._ring.newest >= clip.end_t + self._grace)
        )
        if audio_settled:
            self._close(clip)

    def _close(self, clip: _Clip) -> None:
        del self._open[clip.clip_id]
        try:
            result = clip.writer.close()
        except RecorderError as exc:
            self._failed.append((clip.clip_id, str(exc)))
            log.error("clip %s failed to close: %s", clip.clip_id, exc)
            return
        self._closed.append((clip.clip_id, result))
        log.info(
            "clip %s closed: %.2f s, %d bytes, sha256 %s",
            clip.clip_id,
            result.duration,
            result.size,
            result.sha256[:12],
        )

    def _fail(self, clip: _Clip, reason: str) -> None:
        self._open.pop(clip.clip_id, None)
        clip.writer.abort()
        self._failed.append((clip.clip_id, reason))
        log.error("clip %s abandoned: %s", clip.clip_id, reason)
