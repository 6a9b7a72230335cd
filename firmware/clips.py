"""Clips on disk and clip rows in the store, kept in step (including after a crash).

Order matters for crash safety: the row is committed as "open" BEFORE the file
exists, and marked closed (with its sha256 and upload entry) only AFTER the
writer has fsynced and renamed it. So at start-up every file a crash left
behind has a row saying so, and ``recover`` salvages it or records it as cut.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from firmware.recorder import Recorder, salvage
from firmware.store import Store
from hal.camera.base import Packet, StreamInfo
from sync.schema import EventEnvelope

log = logging.getLogger(__name__)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ClipBook:
    """Starts, stops and commits clips; recovers the ones a crash left open."""

    def __init__(self, store: Store, clips_dir: Path, ring_seconds: float,
                 video_info: StreamInfo, audio_info: StreamInfo,
                 on_event: Callable[[EventEnvelope], None] | None = None) -> None:
        self.store = store
        self.clips_dir = clips_dir
        self.recorder = Recorder(clips_dir, ring_seconds, video_info, audio_info)
        self.on_event = on_event

    def path_for(self, clip_id: str, from_t: float) -> Path:
        day = self.store.ctx.clock.utc_at(from_t).strftime("%Y/%m/%d")
        return self.clips_dir / day / f"{clip_id}.mp4"

    def feed(self, packets: list[Packet]) -> None:
        self.recorder.feed(packets)

    def start(self, clip_id: str, kind: str, from_t: float) -> None:
        path = self.path_for(clip_id, from_t)
        self.store.clip_opened(clip_id, kind, path, from_t)
        self.recorder.start_clip(clip_id, from_t, path)

    def stop(self, clip_id: str, until_t: float) -> None:
        self.recorder.stop_clip(clip_id, until_t)

    def commit_closed(self, now: float) -> list[EventEnvelope]:
        """Record clips the recorder finished since the last call."""
        out = []
        for clip_id, c in self.recorder.closed():
            out.append(self.store.clip_finished(
                clip_id, state="closed", path=c.path, t=now, duration_s=round(c.duration, 3),
                size=c.size, sha256=c.sha256))
        self._tell(out)
        return out

    def close_all(self, now: float) -> list[EventEnvelope]:
        """Close every open clip now (shutdown) and record them."""
        self.recorder.close_all(now)
        return self.commit_closed(now)

    def recover(self, now: float) -> list[EventEnvelope]:
        """Settle clips a crash left open: commit, salvage, or record as cut."""
        out = []
        for row in self.store.open_clips():
            final = Path(row["path"])
            partial = final.with_name(final.name + ".partial")
            if final.exists():
                # Crashed between rename and commit: the file is complete.
                env = self.store.clip_finished(
                    row["clip_id"], state="closed", path=final, t=now, duration_s=None,
                    size=final.stat().st_size, sha256=_sha256(final),
                    note="committed at start-up")
            elif partial.exists():
                res = salvage(partial, final)
                env = self.store.clip_finished(
                    row["clip_id"], state=res.status, path=res.path, t=now,
                    duration_s=res.duration, size=res.size, sha256=res.sha256,
                    note=res.error or "salvaged after an unclean stop")
            else:
                env = self.store.clip_finished(
                    row["clip_id"], state="cut", path=None, t=now, duration_s=None, size=None,
                    sha256=None, note="no file was found after an unclean stop")
            log.warning("clip %s left open by an unclean stop: %s", row["clip_id"],
                        env.data["state"])
            out.append(env)
        self._tell(out)
        return out

    def _tell(self, events: list[EventEnvelope]) -> None:
        if self.on_event is not None:
            for env in events:
                self.on_event(env)
