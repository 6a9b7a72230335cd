"""What must hold after a power cut: the store and the clips, checked as the next boot
would find them.

The store is checked on a copy (opening the real file would let this process, not the
daemon, recover the WAL). Clip times are on the capture clock, which for the file
camera in real time is CLOCK_MONOTONIC, the clock the harness notes the cut on.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import av
import av.error

SALVAGE_BOUND_S = 1.0
_ORIGIN = re.compile(rb"clip (\S+)\.mp4 starts at keyframe ([0-9.]+)")


@dataclass(frozen=True)
class StoreView:
    """The store as the next boot opens it."""

    integrity: str
    uuids: frozenset[str]
    events_without_outbox: int
    clips: dict[str, dict[str, object]]


def read_store(db: Path) -> StoreView | None:
    """Open a copy of ``db`` (and its WAL) and read what matters; None if there is no db."""
    if not db.exists():
        return None
    with tempfile.TemporaryDirectory(prefix="powercut-check-") as tmp:
        copy = Path(tmp) / db.name
        shutil.copyfile(db, copy)
        wal = db.with_name(db.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        conn = sqlite3.connect(copy)
        conn.row_factory = sqlite3.Row
        try:
            integrity = "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"events", "outbox", "clips"} <= tables:
                return StoreView(integrity, frozenset(), 0, {})
            uuids = frozenset(r[0] for r in conn.execute("SELECT uuid FROM events"))
            orphans = conn.execute(
                "SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM outbox o "
                "WHERE o.kind = 'event' AND o.ref = e.uuid)").fetchone()[0]
            clips = {r["clip_id"]: dict(r) for r in conn.execute("SELECT * FROM clips")}
        finally:
            conn.close()
    return StoreView(integrity, uuids, int(orphans), clips)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def decode_seconds(path: Path) -> float:
    """Decode every video and audio packet; the video's length in seconds. Raises if any
    packet does not decode or there is no video frame."""
    with av.open(str(path)) as c:
        if not c.streams.video or not c.streams.audio:
            raise ValueError("needs a video and an audio stream")
        first = last = None
        for frame in c.decode(*c.streams):
            if isinstance(frame, av.VideoFrame) and frame.time is not None:
                first = frame.time if first is None else first
                last = frame.time
        if first is None or last is None:
            raise ValueError("no video frame")
        return last - first


def origins(log: bytes) -> dict[str, float]:
    """Capture-clock time of each clip's first keyframe, from the daemon's log."""
    return {m.group(1).decode(): float(m.group(2)) for m in _ORIGIN.finditer(log)}


@dataclass
class Tally:
    """Running totals over all cuts, and the first few failures in words."""

    cuts: int = 0
    lost: set[str] = field(default_factory=set)  # committed events missing after a cut
    integrity_errors: int = 0
    torn_events: int = 0  # an event whose outbox entry did not survive with it
    clips_playable: int = 0
    clips_unplayable: int = 0
    salvaged_within: int = 0
    salvaged_late: int = 0
    crashes: int = 0  # boots in which a program exited before the cut
    empty_at_cut: int = 0  # opened, no keyframe written yet: nothing to salvage
    worst_salvage_loss_s: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def lost_events(self) -> int:
        return len(self.lost)

    def fail(self, what: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(what)

    @property
    def ok(self) -> bool:
        return not (self.lost_events or self.integrity_errors or self.torn_events
                    or self.clips_unplayable or self.salvaged_late or self.crashes)


@dataclass
class ClipWatch:
    """Clips across boots: which were verified, which a cut left open and when."""

    verified: dict[str, str] = field(default_factory=dict)  # clip_id -> sha256
    open_at_cut: dict[str, tuple[float | None, float]] = field(default_factory=dict)
    origin: dict[str, float] = field(default_factory=dict)


def check_after_cut(view: StoreView | None, committed: set[str], data: Path,
                    watch: ClipWatch, tally: Tally, cut_at: float, label: str) -> None:
    """Count what this cut broke: lost events, integrity, clips (see ``Tally``)."""
    if view is None:
        if committed:
            tally.lost |= committed
            tally.fail(f"{label}: the database is gone; {len(committed)} committed events lost")
        return
    if view.integrity != "ok":
        tally.integrity_errors += 1
        tally.fail(f"{label}: integrity_check: {view.integrity[:200]}")
    lost = committed - view.uuids
    tally.lost |= lost
    if lost - tally.lost:
        tally.fail(f"{label}: {len(lost)} committed event(s) lost, e.g. {sorted(lost)[0]}")
    if view.events_without_outbox:
        tally.torn_events += view.events_without_outbox
        tally.fail(f"{label}: {view.events_without_outbox} event(s) without outbox entry")
    for clip_id, row in view.clips.items():
        state = row["state"]
        if state == "open":
            if clip_id not in watch.open_at_cut:
                watch.open_at_cut[clip_id] = (watch.origin.get(clip_id), cut_at)
            continue
        if state in ("closed", "salvaged") and row.get("deleted_utc") is None:
            _check_file(clip_id, row, data, watch, tally, label)
        if clip_id in watch.open_at_cut:
            _check_salvage(clip_id, row, watch, tally, label)


def _check_file(clip_id: str, row: dict[str, object], data: Path, watch: ClipWatch,
                tally: Tally, label: str) -> None:
    path = Path(str(row["path"]))
    want = str(row["sha256"])
    if watch.verified.get(clip_id) == want and path.exists():
        return
    try:
        got = sha256(path)
        if got != want:
            raise ValueError(f"sha256 {got[:12]} is not the committed {want[:12]}")
        decode_seconds(path)
    except (OSError, ValueError, av.error.FFmpegError) as exc:
        tally.clips_unplayable += 1
        tally.fail(f"{label}: {row['state']} clip {clip_id} does not play: {exc}")
        watch.verified[clip_id] = want  # counted once
        return
    tally.clips_playable += 1
    watch.verified[clip_id] = want


def _check_salvage(clip_id: str, row: dict[str, object], watch: ClipWatch, tally: Tally,
                   label: str) -> None:
    origin, cut_at = watch.open_at_cut.pop(clip_id)
    origin = origin if origin is not None else watch.origin.get(clip_id)
    if origin is None:
        tally.empty_at_cut += 1
        return
    duration = float(str(row["duration_s"] or 0.0))
    loss = cut_at - (origin + duration)
    tally.worst_salvage_loss_s = max(tally.worst_salvage_loss_s, loss)
    if loss <= SALVAGE_BOUND_S:
        tally.salvaged_within += 1
    else:
        tally.salvaged_late += 1
        tally.fail(f"{label}: clip {clip_id} ({row['state']}) keeps {duration:.2f} s, "
                   f"{loss:.2f} s short of the cut")
