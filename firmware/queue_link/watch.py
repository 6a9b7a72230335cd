"""Is the queue feed alive? Pure: stale after ``stale_after_s`` without a valid reading.

One ``queue_feed_lost`` per outage and one ``queue_feed_restored`` per recovery, however
long the outage and however many retries fail in it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from firmware.machine.model import Emit


@dataclass(frozen=True, slots=True)
class FeedWatch:
    started_at: float
    last_seen: float | None = None
    lost_since: float | None = None

    @property
    def lost(self) -> bool:
        return self.lost_since is not None


def seen(w: FeedWatch, t: float) -> tuple[FeedWatch, list[Emit]]:
    """A valid reading at ``t``."""
    out: list[Emit] = []
    if w.lost_since is not None:
        out.append(Emit("queue_feed_restored", t, {"lost_s": round(t - w.lost_since, 3)}))
    return replace(w, last_seen=t, lost_since=None), out


def check(w: FeedWatch, now: float, stale_after_s: float, detail: str
          ) -> tuple[FeedWatch, list[Emit]]:
    """Time passed: the feed goes stale ``stale_after_s`` after the last reading (or start)."""
    since = w.last_seen if w.last_seen is not None else w.started_at
    if w.lost_since is None and now - since >= stale_after_s:
        return replace(w, lost_since=now), [Emit("queue_feed_lost", now, {
            "last_seen_s_ago": round(now - since, 3) if w.last_seen is not None else None,
            "stale_after_s": stale_after_s, "detail": detail})]
    return w, []
