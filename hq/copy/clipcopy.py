"""Copying the clips of an embedded HQ's folder into the target clip store, and checking
every copied clip's bytes against its sha256 afterwards.

Each clip goes through the target store's ``import_clip`` (the ClipStore contract: the
digest checked while writing, nothing left behind on a mismatch, an identical clip
already there a no-op), so the copy works unchanged for any store that implements it.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hq.storage.errors import ChecksumMismatch, ClipConflict, ClipNotFound
from hq.storage.models import StoredClip, parse_utc


@dataclass
class ClipsResult:
    """What the clips' copy did; ``bad`` names each clip not copied and why."""

    source_clips: int = 0
    stored: int = 0
    skipped: int = 0
    verified: int = 0
    bad: list[str] = field(default_factory=list)


def source_clips(clips_root: Path) -> list[StoredClip]:
    """The completed clips of a local clip store folder (its ``clips.sqlite``), read
    without opening the store (which would tidy its partial uploads)."""
    db = clips_root / "clips.sqlite"
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT unit_id, clip_id, upload_id, size, sha256, completed_utc "
                            "FROM clips ORDER BY unit_id, clip_id").fetchall()
    return [StoredClip(u, c, int(size), sha, parse_utc(done), clips_root / "clips" / up)
            for u, c, up, size, sha, done in rows]


def copy_clips(clips: list[StoredClip], target: Any, result: ClipsResult, *,
               budget: list[int] | None = None,
               progress: Callable[[int], None] = lambda n: None) -> None:
    """Import each clip into ``target`` (a ClipStore); a bad clip is named in
    ``result.bad`` and the others go on."""
    result.source_clips = len(clips)
    for clip in clips:
        if budget is not None and budget[0] <= 0:
            return
        name = f"{clip.unit_id}/{clip.clip_id}"
        try:
            assert clip.path is not None
            with clip.path.open("rb") as source:
                stored = target.import_clip(clip, source)
        except FileNotFoundError:
            result.bad.append(f"{name}: its file {clip.path} is missing from the source")
        except ChecksumMismatch as exc:
            result.bad.append(f"{name}: bytes do not match its sha256 ({exc})")
        except ClipConflict as exc:
            result.bad.append(f"{name}: the target holds another clip under this id ({exc})")
        else:
            if stored:
                result.stored += 1
                if budget is not None:
                    budget[0] -= 1
            else:
                result.skipped += 1
        progress(1)


def verify_clips(clips: list[StoredClip], target: Any, result: ClipsResult, *,
                 progress: Callable[[int], None] = lambda n: None) -> None:
    """Read every clip back from ``target`` and check its sha256; problems go to ``bad``
    (a clip already named there is not checked again)."""
    named = {b.split(":", 1)[0] for b in result.bad}
    for clip in clips:
        name = f"{clip.unit_id}/{clip.clip_id}"
        if name in named:
            progress(1)
            continue
        try:
            held = target.open_clip(clip.clip_id, clip.unit_id)
        except ClipNotFound:
            result.bad.append(f"{name}: not in the target clip store")
            progress(1)
            continue
        h = hashlib.sha256()
        for block in (target.read_range(held, 0, held.size - 1) if held.size else ()):
            h.update(block)
        if h.hexdigest() != clip.sha256 or held.size != clip.size:
            result.bad.append(f"{name}: the target's copy hashes to {h.hexdigest()}, "
                              f"not {clip.sha256}")
        else:
            result.verified += 1
        progress(1)
