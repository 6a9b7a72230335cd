"""``import_clip`` of LocalClipStore: a finished clip's bytes stored as they are (``hq copy``).

Kept apart from the tus upload path in hq/storage/clips/uploads.py: an import has its
digest and size up front, writes the bytes in one pass, and records the clip with its
original completion time. The class is a mixin; LocalClipStore provides the attributes below.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from sync.durable import fsync_dir

from ..errors import ChecksumMismatch, ClipConflict
from ..models import StoredClip, check_clip_id, check_sha256, check_unit_id
from ..models import utc_text as _utc_text

log = logging.getLogger("hq.storage.clips.store")  # one logger for the store, whichever module


class ClipImporter:
    """Adds ``import_clip`` to a store that has the attributes declared here."""

    _conn: sqlite3.Connection
    _lock: threading.Lock
    _partial: Path
    _clips: Path
    _immediate: Callable[[], contextlib.AbstractContextManager[None]]

    def import_clip(self, clip: StoredClip, source: BinaryIO) -> bool:
        """Store a finished clip's bytes (``hq copy``) under ``clip``'s unit_id/clip_id,
        its sha256 checked while writing. True when stored; False when an identical clip
        (same sha256) is already there (re-runs are no-ops). ChecksumMismatch (nothing left
        behind) on a wrong digest; ClipConflict when another digest is stored.

        The bytes go to ``partial/`` first (a crash leaves a stray file that the next open
        removes), and become a clip with its upload row in one step, as an upload does;
        the clip keeps the completion time it had where it came from.
        """
        check_unit_id(clip.unit_id)
        check_clip_id(clip.clip_id)
        check_sha256(clip.sha256)
        if self._stored_as(clip):
            return False
        upload_id = secrets.token_hex(16)
        part = self._partial / upload_id
        h, size = hashlib.sha256(), 0
        try:
            with part.open("xb") as out:
                while block := source.read(1 << 20):
                    h.update(block)
                    size += len(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            if h.hexdigest() != clip.sha256 or size != clip.size:
                raise ChecksumMismatch(
                    f"clip {clip.clip_id} of {clip.unit_id}: its {size} bytes hash to "
                    f"{h.hexdigest()}, not the {clip.size} bytes of sha256 {clip.sha256} "
                    "recorded for it; not stored")
            with self._lock:
                if self._stored_as(clip, locked=True):  # another copy got there first
                    part.unlink()
                    return False
                final = self._clips / upload_id
                os.replace(part, final)
                fsync_dir(self._clips)
                done = _utc_text(clip.completed_utc)
                try:
                    with self._immediate():
                        self._conn.execute(
                            "INSERT INTO uploads (upload_id, unit_id, clip_id, length, sha256, "
                            "state, created_utc, finished_utc) VALUES (?, ?, ?, ?, ?, "
                            "'complete', ?, ?)", [upload_id, clip.unit_id, clip.clip_id, size,
                                                  clip.sha256, done, done])
                        self._conn.execute(
                            "INSERT INTO clips (unit_id, clip_id, upload_id, size, sha256, "
                            "completed_utc) VALUES (?, ?, ?, ?, ?, ?)",
                            [clip.unit_id, clip.clip_id, upload_id, size, clip.sha256, done])
                except BaseException:
                    final.unlink()
                    raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
        log.info("clip %s of %s imported: %d bytes", clip.clip_id, clip.unit_id, size)
        return True

    def _stored_as(self, clip: StoredClip, *, locked: bool = False) -> bool:
        """Whether ``clip`` is stored with its digest already; ClipConflict on another."""
        with contextlib.nullcontext() if locked else self._lock:
            row = self._conn.execute("SELECT sha256, size FROM clips WHERE unit_id = ? AND "
                                     "clip_id = ?", [clip.unit_id, clip.clip_id]).fetchone()
        if row is None:
            return False
        if row["sha256"] != clip.sha256 or row["size"] != clip.size:
            raise ClipConflict(f"clip {clip.clip_id} of {clip.unit_id} is already stored "
                               f"with sha256 {row['sha256']}, not {clip.sha256}")
        return True
