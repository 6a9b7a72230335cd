"""Camera health: frames stopping (or the back-end failing) is one ``camera_failed``
episode, frames coming back is ``camera_recovered``; and heartbeats that keep the loop
turning while a camera read hangs.

The decision is pure (:class:`CameraHealth`, driven by the unit's clock); the episode
is kept in a small marker file so that a restart (systemd's watchdog restarts a unit
whose frames stopped) neither repeats ``camera_failed`` nor forgets to send
``camera_recovered``.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from firmware.status.publish import write_json_atomic
from hal.camera.base import Capture

DEFAULT_STALL_S = 3.0
HEARTBEAT_S = 0.25
MARKER = "camera-failed.json"
Change = Literal["failed", "recovered"]


def stall_after(watchdog_s: float | None) -> float:
    """How long without an analysis frame counts as a failed camera: well inside the
    watchdog interval, so the event is recorded before systemd restarts the unit."""
    return DEFAULT_STALL_S if watchdog_s is None else min(DEFAULT_STALL_S, 0.4 * watchdog_s)


@dataclass
class CameraHealth:
    """One camera's state; ``observe`` after every capture, ``fail`` when it raises."""

    stall_s: float = DEFAULT_STALL_S
    failed: bool = False
    reason: str = ""
    last_frame_t: float | None = None
    failed_at: float | None = None

    def observe(self, now: float, got_frame: bool) -> Change | None:
        """The change this capture makes, if any (each at most once per episode)."""
        if got_frame:
            self.last_frame_t = now
            if self.failed:
                self.failed = False
                return "recovered"
            return None
        if self.last_frame_t is None:
            self.last_frame_t = now  # the stall is counted from the first capture
        if not self.failed and now - self.last_frame_t > self.stall_s:
            return self.fail(now, f"no frame for {now - self.last_frame_t:.1f} s")
        return None

    def fail(self, now: float, reason: str) -> Change | None:
        """The back-end raised or frames stopped: 'failed' unless already failed."""
        if self.failed:
            return None
        self.failed, self.reason, self.failed_at = True, reason, now
        return "failed"


class EpisodeMarker:
    """The open episode on disk (written atomically, removed on recovery)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / MARKER

    def load(self) -> str | None:
        """The reason of an episode still open from an earlier run, or None."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return str(doc.get("reason", "")) if isinstance(doc, dict) else None

    def open(self, reason: str) -> None:
        write_json_atomic(self.path, {"reason": reason})

    def close(self) -> None:
        self.path.unlink(missing_ok=True)


_END = object()


def with_heartbeats(captures: Iterator[Capture], clock: Callable[[], float],
                    every_s: float = HEARTBEAT_S) -> Iterator[Capture]:
    """``captures`` read on their own thread, with a frame-less capture every ``every_s``
    while none arrives, so a camera whose read hangs is noticed. Times never go back
    (a file camera resuming after a stall would). The back-end's exception is re-raised.

    The reader thread is a daemon: a read that never returns cannot hold up shutdown.
    """
    q: queue.Queue[object] = queue.Queue(maxsize=64)

    def read() -> None:
        try:
            for cap in captures:
                q.put(cap)
        except BaseException as exc:  # handed to the loop's thread, which decides
            q.put(exc)
        else:
            q.put(_END)

    threading.Thread(target=read, name="camera-reader", daemon=True).start()
    last_t = float("-inf")
    while True:
        try:
            item = q.get(timeout=every_s)
        except queue.Empty:
            last_t = max(last_t, clock())
            yield Capture(t=last_t, frame=None, packets=())
            continue
        if item is _END:
            return
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, Capture)
        if item.t < last_t:
            item = replace(item, t=last_t)
        last_t = item.t
        yield item
