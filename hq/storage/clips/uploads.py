"""The tus side of LocalClipStore: uploads spooled in ``partial/`` until verified.

Creation (with the per-unit quota of unfinished uploads), HEAD, PATCH with an fsync per
chunk, the sha256 check at the declared length, the move of a verified upload into
``clips/``, expiry of abandoned uploads and the recovery of what a crash interrupted. The
partial file's size is the upload offset: it is what survives a crash, and every append
is fsynced before it is acknowledged.

The class is a mixin; LocalClipStore (hq/storage/clips/store.py) provides the attributes below.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from sync.durable import fsync_dir

from ..errors import (
    BeyondLength,
    ChecksumMismatch,
    ClipConflict,
    ForeignUnit,
    OffsetConflict,
    QuotaExceeded,
    StorageFull,
    UploadNotFound,
)
from ..models import Upload, check_upload
from ..models import utc_text as _utc_text

log = logging.getLogger("hq.storage.clips.store")  # one logger for the store, whichever module

_HELD = ("complete", "deleted")  # states in which HQ has (had) the whole clip
_FREE = threading.Lock()  # stands for "no chunk in flight" in _expire_locked


def now_text() -> str:
    """Now, as the store's tables record times."""
    return _utc_text(dt.datetime.now(dt.UTC))


def _hash_prefix(path: Path, size: int) -> hashlib._Hash:
    h = hashlib.sha256()
    with path.open("rb") as f:
        left = size
        while left > 0:
            block = f.read(min(left, 1 << 20))
            if not block:
                break
            h.update(block)
            left -= len(block)
    return h


class TusUploads:
    """Adds resumable uploads (tus 1.0 core) to a store that has the attributes below."""

    max_length: int
    max_open_uploads: int
    abandon_after: dt.timedelta
    clock: Callable[[], dt.datetime]
    _conn: sqlite3.Connection
    _lock: threading.Lock
    _partial: Path
    _clips: Path
    _upload_locks: dict[str, threading.Lock]
    _hashers: dict[str, tuple[hashlib._Hash, int]]
    _immediate: Callable[[], contextlib.AbstractContextManager[None]]

    # ---- tus: creation, HEAD, PATCH ---------------------------------------------------

    def create(self, unit_id: str, clip_id: str, length: int, sha256: str) -> Upload:
        """Start the upload of a clip, or find the one already under way or done.

        A clip HQ already holds comes back ``complete`` (the unit sends nothing); an
        unfinished upload of the same clip and digest is resumed at its offset.
        """
        check_upload(unit_id, clip_id, length, sha256, self.max_length)
        with self._lock:
            done = self._conn.execute("SELECT * FROM clips WHERE unit_id = ? AND clip_id = ?",
                                      [unit_id, clip_id]).fetchone()
            if done is None:  # deleted by retention: HQ had it, the unit sends nothing
                done = self._conn.execute(
                    "SELECT upload_id, sha256, length AS size FROM uploads WHERE unit_id = ? "
                    "AND clip_id = ? AND state = 'deleted' ORDER BY finished_utc DESC LIMIT 1",
                    [unit_id, clip_id]).fetchone()
            if done is not None:
                if done["sha256"] != sha256 or done["size"] != length:
                    raise ClipConflict(f"clip {clip_id} of {unit_id} is already stored with "
                                       "another digest or length")
                return Upload(done["upload_id"], unit_id, clip_id, length, sha256, length, True)
            row = self._conn.execute(
                "SELECT * FROM uploads WHERE unit_id = ? AND clip_id = ? AND state = 'partial'",
                [unit_id, clip_id]).fetchone()
            if row is not None:
                if row["sha256"] == sha256 and row["length"] == length:
                    return self._state(row)
                log.warning("clip %s of %s re-announced with another digest; "
                            "discarding upload %s", clip_id, unit_id, row["upload_id"])
                self._discard(row["upload_id"])
            open_now = self._open_count(unit_id)
            if open_now >= self.max_open_uploads:
                # Quota pressure: abandoned uploads of this unit go first, then recount.
                gone = self._expire_locked(self.clock() - self.abandon_after, unit_id)
                if gone:
                    log.info("unit %s at its upload quota: %d abandoned uploads expired",
                             unit_id, len(gone))
                open_now = self._open_count(unit_id)
            if open_now >= self.max_open_uploads:
                raise QuotaExceeded(f"unit {unit_id} has {open_now} unfinished uploads; "
                                    "finish or let them expire first")
            upload_id = secrets.token_hex(16)
            self._conn.execute(
                "INSERT INTO uploads (upload_id, unit_id, clip_id, length, sha256, state, "
                "created_utc) VALUES (?, ?, ?, ?, ?, 'partial', ?)",
                [upload_id, unit_id, clip_id, length, sha256, _utc_text(self.clock())])
        return Upload(upload_id, unit_id, clip_id, length, sha256, 0, False)

    def offset(self, upload_id: str, unit_id: str) -> Upload:
        """The upload's current state (tus HEAD)."""
        with self._lock:
            return self._state(self._row(upload_id, unit_id))

    def append(self, upload_id: str, unit_id: str, offset: int, chunk: bytes) -> int:
        """Write ``chunk`` at ``offset`` and fsync it (tus PATCH); return the new offset.

        Reaching the declared length verifies the sha256 and either commits the clip or
        raises ChecksumMismatch after discarding the bytes, so the unit uploads afresh.
        """
        with self._lock:
            row = self._row(upload_id, unit_id)
            ulock = self._upload_locks.setdefault(upload_id, threading.Lock())
        with ulock:
            with self._lock:
                row = self._row(upload_id, unit_id)  # may have completed meanwhile
            length = row["length"]
            if row["state"] in _HELD:
                current = length
            else:
                part = self._partial / upload_id
                current = part.stat().st_size if part.exists() else 0
            if offset != current:
                raise OffsetConflict(upload_id, current, offset)
            if offset + len(chunk) > length:
                raise BeyondLength(f"upload {upload_id}: {len(chunk)} bytes at {offset} "
                                   f"would pass the length {length}")
            if row["state"] in _HELD or not chunk:
                return current
            hasher = self._hasher(upload_id, part, current)
            # Append mode: the file's end is the offset just checked, and no other writer
            # of this upload exists while ``ulock`` is held.
            try:
                with part.open("ab") as f:
                    f.write(chunk)
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as exc:
                # No torn chunk: the file is cut back to the last whole chunk, which is
                # the offset HQ reports, so the unit resends exactly this chunk later.
                with contextlib.suppress(OSError):
                    os.truncate(part, current)
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise StorageFull(f"upload {upload_id}: no space for {len(chunk)} bytes "
                                      f"at {current}: {exc.strerror}") from None
                raise
            hasher.update(chunk)
            new = current + len(chunk)
            with self._lock:
                self._hashers[upload_id] = (hasher, new)
            if new == length:
                self._finish(upload_id, hasher.hexdigest())
            return new

    def expire(self, older_than: dt.timedelta, now: dt.datetime | None = None) -> int:
        """Discard unfinished uploads idle since before ``now - older_than``; return how many.

        Idle means no byte received (the partial file's modification time) and created
        before the cutoff, so a long upload on a slow link is never cut while it moves.
        Safe for units: an expired upload answers UploadNotFound, and the unit creates a
        new one.
        """
        with self._lock:
            stale = self._expire_locked((now or self.clock()) - older_than, None)
        if stale:
            log.info("expired %d abandoned uploads", len(stale))
        return len(stale)

    # ---- internals ----------------------------------------------------------------------

    def _open_count(self, unit_id: str) -> int:
        return int(self._conn.execute(
            "SELECT COUNT(*) FROM uploads WHERE unit_id = ? AND state = 'partial'",
            [unit_id]).fetchone()[0])

    def _expire_locked(self, cutoff: dt.datetime, unit_id: str | None) -> list[str]:
        """Discard idle partial uploads (of ``unit_id``, or all); the caller holds the lock."""
        sql = "SELECT upload_id FROM uploads WHERE state = 'partial' AND created_utc < ?"
        args: list[str] = [_utc_text(cutoff)]
        if unit_id is not None:
            sql, args = sql + " AND unit_id = ?", [*args, unit_id]
        stale = []
        for (upload_id,) in self._conn.execute(sql, args).fetchall():
            try:
                moved = (self._partial / upload_id).stat().st_mtime
            except FileNotFoundError:
                moved = None
            if moved is not None and moved >= cutoff.timestamp():
                continue  # bytes arrived after the cutoff: still in progress
            if self._upload_locks.get(upload_id, _FREE).locked():
                continue  # a chunk is being written right now
            self._discard(upload_id)
            stale.append(upload_id)
        return stale

    def _row(self, upload_id: str, unit_id: str) -> sqlite3.Row:
        row = self._conn.execute("SELECT * FROM uploads WHERE upload_id = ?",
                                 [upload_id]).fetchone()
        if row is None or row["state"] == "rejected":
            raise UploadNotFound(f"no upload {upload_id!r}")
        if row["unit_id"] != unit_id:
            raise ForeignUnit(f"upload {upload_id} belongs to unit {row['unit_id']}, "
                              f"not {unit_id}")
        return row

    def _state(self, row: sqlite3.Row) -> Upload:
        if row["state"] in _HELD:
            offset = row["length"]
        else:
            part = self._partial / row["upload_id"]
            offset = part.stat().st_size if part.exists() else 0
        return Upload(row["upload_id"], row["unit_id"], row["clip_id"], row["length"],
                      row["sha256"], offset, row["state"] in _HELD)

    def _hasher(self, upload_id: str, part: Path, offset: int) -> hashlib._Hash:
        with self._lock:
            cached = self._hashers.get(upload_id)
        if cached is not None and cached[1] == offset:
            return cached[0]
        if offset:
            log.info("upload %s: rehashing %d bytes received before a restart",
                     upload_id, offset)
            return _hash_prefix(part, offset)
        return hashlib.sha256()

    def _finish(self, upload_id: str, digest: str) -> None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM uploads WHERE upload_id = ?",
                                     [upload_id]).fetchone()
            self._hashers.pop(upload_id, None)
            self._upload_locks.pop(upload_id, None)
            if row["state"] != "partial":
                # Discarded by a re-announcement while this chunk was being written.
                with contextlib.suppress(FileNotFoundError):
                    (self._partial / upload_id).unlink()
                raise UploadNotFound(f"upload {upload_id} was discarded")
            if digest != row["sha256"]:
                self._discard(upload_id)
                raise ChecksumMismatch(f"clip {row['clip_id']}: received bytes hash to "
                                       f"{digest}, not {row['sha256']}; upload {upload_id} "
                                       "discarded, upload the clip again")
            self._commit(row)

    def _commit(self, row: sqlite3.Row) -> None:
        """Move a verified upload into place and record it; the caller holds the lock."""
        upload_id = row["upload_id"]
        final = self._clips / upload_id
        part = self._partial / upload_id
        if part.exists():
            os.replace(part, final)
            fsync_dir(self._clips)
            fsync_dir(self._partial)
        now = now_text()
        with self._immediate():
            self._conn.execute("UPDATE uploads SET state = 'complete', finished_utc = ? "
                               "WHERE upload_id = ?", [now, upload_id])
            self._conn.execute(
                "INSERT INTO clips (unit_id, clip_id, upload_id, size, sha256, completed_utc) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [row["unit_id"], row["clip_id"], upload_id, row["length"], row["sha256"], now])
        log.info("clip %s of %s stored: %d bytes, sha256 %s", row["clip_id"], row["unit_id"],
                 row["length"], row["sha256"][:12])

    def _discard(self, upload_id: str) -> None:
        """Reject an upload and delete its bytes; the caller holds the lock."""
        self._conn.execute("UPDATE uploads SET state = 'rejected', finished_utc = ? "
                           "WHERE upload_id = ?", [now_text(), upload_id])
        self._hashers.pop(upload_id, None)
        self._upload_locks.pop(upload_id, None)
        with contextlib.suppress(FileNotFoundError):
            (self._partial / upload_id).unlink()

    def _recover_uploads(self) -> None:
        """Finish what a crash interrupted: a renamed clip whose row was not yet committed,
        and partial files of uploads that are no longer open."""
        with self._lock:
            open_ids = set()
            for row in self._conn.execute(
                    "SELECT * FROM uploads WHERE state = 'partial'").fetchall():
                final = self._clips / row["upload_id"]
                if final.exists() and not (self._partial / row["upload_id"]).exists():
                    if _hash_prefix(final, row["length"]).hexdigest() == row["sha256"]:
                        log.info("upload %s: completing after a restart", row["upload_id"])
                        self._commit(row)
                        continue
                    final.unlink()
                open_ids.add(row["upload_id"])
            for stray in self._partial.iterdir():
                if stray.name not in open_ids:
                    log.info("removing stray partial file %s", stray.name)
                    stray.unlink()
