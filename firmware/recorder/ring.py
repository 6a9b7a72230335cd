"""Time-based ring of encoded packets: the pre-roll of every clip.

Encoded packets, not raw frames, are kept (a few hundred kB per second at
720p instead of tens of MB), in memory so the SD card is not worn by video
that is usually never recorded. Video is held as GOPs (a keyframe and the
packets depending on it) because a clip can only start at a keyframe.
"""

from __future__ import annotations

import heapq
import logging
from collections import deque
from collections.abc import Iterable

from hal.camera.base import Packet

log = logging.getLogger(__name__)


class PacketRing:
    """Keeps at least ``seconds`` of video (from a keyframe) and the audio alongside it.

    Not thread-safe: one owner adds and reads. Packets of one kind must arrive
    in pts order; a packet that goes back in time is dropped and counted.
    """

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError(f"ring length must be > 0 seconds, got {seconds}")
        self.seconds = seconds
        self._gops: deque[list[Packet]] = deque()
        self._audio: deque[Packet] = deque()
        self._newest: float | None = None
        self._last_pts: dict[str, float] = {}
        self.dropped = 0  # packets refused: out of order, or video with no keyframe before it

    @property
    def newest(self) -> float | None:
        """Largest pts held so far (either kind), or None when nothing arrived yet."""
        return self._newest

    @property
    def keyframes(self) -> list[float]:
        """Pts of the keyframes held, oldest first."""
        return [gop[0].pts for gop in self._gops]

    def __len__(self) -> int:
        return sum(len(g) for g in self._gops) + len(self._audio)

    def add(self, packets: Iterable[Packet]) -> None:
        """Append packets in arrival order, then forget what fell out of the window."""
        for p in packets:
            last = self._last_pts.get(p.kind)
            if last is not None and p.pts <= last:
                self.dropped += 1
                continue
            if p.kind == "video":
                if p.keyframe:
                    self._gops.append([p])
                elif self._gops:
                    self._gops[-1].append(p)
                else:  # nothing to decode it against
                    self.dropped += 1
                    continue
            else:
                self._audio.append(p)
            self._last_pts[p.kind] = p.pts
            self._newest = p.pts if self._newest is None else max(self._newest, p.pts)
        self._evict()

    def _evict(self) -> None:
        if self._newest is None:
            return
        horizon = self._newest - self.seconds
        # Keep the last keyframe at or before the horizon: it is where a clip
        # reaching back the full window has to start.
        while len(self._gops) >= 2 and self._gops[1][0].pts <= horizon:
            self._gops.popleft()
        if len(self._gops) == 1 and self._gops[0][-1].pts < horizon:
            # One GOP entirely older than the window: the source stopped sending
            # keyframes or stalled. Holding it would only grow memory.
            log.warning("packet ring: no keyframe for %.1f s; dropping stale GOP", self.seconds)
            self._gops.clear()
        audio_cut = self._gops[0][0].pts if self._gops else horizon
        while self._audio and self._audio[0].pts < audio_cut:
            self._audio.popleft()

    def nearest_keyframe(self, t: float) -> float | None:
        """Pts of the held keyframe closest to ``t`` (the earlier one on a tie)."""
        best: float | None = None
        for pts in self.keyframes:
            if best is None or abs(pts - t) < abs(best - t):
                best = pts
        return best

    def since(self, t: float) -> list[Packet]:
        """Packets from the keyframe nearest ``t``: its GOP onwards and audio from its pts.

        The result is ordered by pts (video first on equal pts), ready to mux.
        Empty when no keyframe is held.
        """
        start = self.nearest_keyframe(t)
        if start is None:
            return []
        video = [p for gop in self._gops if gop[0].pts >= start for p in gop]
        audio = [p for p in self._audio if p.pts >= start]
        # merge is stable between the two inputs, so video wins ties.
        return list(heapq.merge(video, audio, key=lambda p: p.pts))
