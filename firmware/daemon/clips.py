"""Clips on disk and clip rows in the store, kept in step (including after a crash).

Order matters for crash safety: the row is committed as "open" BEFORE the file
exists, and marked closed (with its sha256 and upload entry) only AFTER the
writer has fsynced and renamed it. So at start-up every file a crash left
behind has a row saying so, and ``recover`` salvages it or records it as cut.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from firmware.recorder import Recorder, RecorderError, salvage
from firmware.store import Store
from hal.camera.base import Packet, StreamInfo
from sync.schema import EventEnvelope

log = logging.getLogger(__name__)


class ClipBook:
    """Starts, stops and commits clips; recovers the ones a crash left open."""

    def __init__(self, store: Store, clips_dir: Path, ring_seconds: float,
                 video_info: StreamInfo, audio_info: StreamInfo,
                 on_event: Callable[[EventEnvelope], None] | None = None) -> None:
        self.store = store
        self.clips_dir = clips_dir
        self.recorder = Recorder(clips_dir, ring_seconds, video_info, audio_info)
        self.on_event = on_event
        self._paths: dict[str, Path] = {}

    def path_for(self, clip_id: str, from_t: float) -> Path:
        day = self.store.ctx.clock.utc_at(from_t).strftime("%Y/%m/%d")
        return self.clips_dir / day / f"{clip_id}.mp4"

    def feed(self, packets: list[Packet]) -> None:
        self.recorder.feed(packets)

    def start(self, clip_id: str, kind: str, from_t: float) -> None:
        """Open a clip; a recording failure is recorded, never raised into the loop."""
        path = self.path_for(clip_id, from_t)
        self.store.clip_opened(clip_id, kind, path, from_t)
        self._paths[clip_id] = path
        try:
            self.recorder.start_clip(clip_id, from_t, path=path)
        except RecorderError as exc:
            log.error("clip %s could not start: %s", clip_id, exc)
            self._tell([self._settle(clip_id, self._paths.pop(clip_id), from_t, str(exc))])

    def stop(self, clip_id: str, until_t: float) -> None:
        """Let a clip run to ``until_t``; one that already failed has been settled."""
        if clip_id in self.recorder.open_clips:
            self.recorder.stop_clip(clip_id, until_t)

    def commit_closed(self, now: float) -> list[EventEnvelope]:
        """Record clips the recorder finished since the last call."""
        out = []
        for clip_id, c in self.recorder.closed():
            self._paths.pop(clip_id, None)
            out.append(self.store.clip_finished(
                clip_id, state="closed", path=c.path, t=now, duration_s=round(c.duration, 3),
                size=c.size, sha256=c.sha256))
        for clip_id, reason in self.recorder.failed():
            # The writer gave up (disk full, I/O error): keep what already plays.
            out.append(self._settle(clip_id, self._paths.pop(clip_id), now, reason))
        self._tell(out)
        return out

    def close_all(self, now: float) -> list[EventEnvelope]:
        """Close every open clip now (shutdown) and record them."""
        self.recorder.close_all(now)
        return self.commit_closed(now)

    def recover(self, now: float) -> list[EventEnvelope]:
        """Settle clips a crash left open: salvage what plays, record the rest as cut."""
        out = [self._settle(row["clip_id"], Path(row["path"]), now,
                            "left open by an unclean stop")
               for row in self.store.open_clips()]
        self._tell(out)
        return out

    def _settle(self, clip_id: str, final: Path, now: float, why: str) -> EventEnvelope:
        partial = final.with_name(final.name + ".partial")
        res = salvage(partial, final)
        state = "salvaged" if res.status == "salvaged" else "cut"
        note = f"{why}: " + (res.error or ("no file was found" if res.status == "missing"
                                           else "complete fragments kept"))
        log.warning("clip %s %s -> %s", clip_id, why, state)
        return self.store.clip_finished(
            clip_id, state=state, path=res.path, t=now, duration_s=res.duration,
            size=res.size, sha256=res.sha256 if state == "salvaged" else None, note=note)

    def _tell(self, events: list[EventEnvelope]) -> None:
        if self.on_event is not None:
            for env in events:
                self.on_event(env)
