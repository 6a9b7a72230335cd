"""The S3 clip store's bookkeeping: uploads, their parts and spooled chunks, in SQL tables.

Everything a tus request needs lives here, not in a worker's memory, so any worker (or a
restarted HQ) continues an upload where it stands. A unit's chunks are of any size, while
an S3 multipart part must be at least 5 MiB (but the last): chunks are spooled in
``s3_pending`` until they fill a part, which then goes to S3 and is recorded in
``s3_parts``. The upload offset is the bytes in parts plus the bytes spooled.

Plain SQL that SQLite and PostgreSQL both accept (the pg helper moves it over). The file
is not events.db on purpose: spooled chunks are megabytes of writes, and clip traffic must
not hold the events database's write lock while units are sending events.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..sqlite import connect

_SCHEMA = """
CREATE TABLE IF NOT EXISTS s3_uploads (
    upload_id TEXT PRIMARY KEY, unit_id TEXT NOT NULL, clip_id TEXT NOT NULL,
    length INTEGER NOT NULL, sha256 TEXT NOT NULL,
    state TEXT NOT NULL,              -- partial | complete | rejected | deleted
    object_key TEXT NOT NULL, multipart_id TEXT,
    flushed INTEGER NOT NULL DEFAULT 0, -- bytes already in S3 parts
    created_utc TEXT NOT NULL, moved_utc TEXT NOT NULL, finished_utc TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS s3_one_partial_per_clip
    ON s3_uploads (unit_id, clip_id) WHERE state = 'partial';
CREATE INDEX IF NOT EXISTS s3_uploads_by_clip ON s3_uploads (unit_id, clip_id, state);
CREATE TABLE IF NOT EXISTS s3_parts (
    upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, etag TEXT NOT NULL,
    size INTEGER NOT NULL, PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE IF NOT EXISTS s3_pending (
    upload_id TEXT NOT NULL, "offset" INTEGER NOT NULL, data BLOB NOT NULL,
    size INTEGER NOT NULL,            -- LENGTH(data), kept so offsets never read the data
    PRIMARY KEY (upload_id, "offset")
);
CREATE TABLE IF NOT EXISTS s3_clips (
    unit_id TEXT NOT NULL, clip_id TEXT NOT NULL, upload_id TEXT NOT NULL,
    object_key TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
    completed_utc TEXT NOT NULL, PRIMARY KEY (unit_id, clip_id)
);
CREATE INDEX IF NOT EXISTS s3_clips_by_id ON s3_clips (clip_id);
"""


@dataclass(frozen=True)
class UploadRow:
    """One row of ``s3_uploads`` with its current offset."""

    upload_id: str
    unit_id: str
    clip_id: str
    length: int
    sha256: str
    state: str
    object_key: str
    multipart_id: str | None
    flushed: int
    spooled: int  # bytes in s3_pending
    created_utc: str
    moved_utc: str

    @property
    def offset(self) -> int:
        """tus Upload-Offset: the declared length once the clip is HQ's."""
        return self.length if self.state in ("complete", "deleted") else self.flushed + self.spooled

    @property
    def done(self) -> bool:
        return self.state in ("complete", "deleted")


@dataclass(frozen=True)
class ClipRow:
    """One completed clip in ``s3_clips``."""

    unit_id: str
    clip_id: str
    upload_id: str
    object_key: str
    size: int
    sha256: str
    completed_utc: str


_UPLOAD = ("SELECT u.*, (SELECT COALESCE(SUM(p.size), 0) FROM s3_pending p "
           "WHERE p.upload_id = u.upload_id) AS spooled FROM s3_uploads u")


def _upload(row: sqlite3.Row | None) -> UploadRow | None:
    if row is None:
        return None
    return UploadRow(row["upload_id"], row["unit_id"], row["clip_id"], row["length"],
                     row["sha256"], row["state"], row["object_key"], row["multipart_id"],
                     row["flushed"], row["spooled"], row["created_utc"], row["moved_utc"])


def _clip(row: sqlite3.Row) -> ClipRow:
    return ClipRow(row["unit_id"], row["clip_id"], row["upload_id"], row["object_key"],
                   row["size"], row["sha256"], row["completed_utc"])


class UploadBook:
    """The S3 store's tables in one SQLite file; each method is one transaction."""

    def __init__(self, path: Path) -> None:
        self._conn = connect(Path(path))
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ---- reads ---------------------------------------------------------------------------

    def upload(self, upload_id: str) -> UploadRow | None:
        with self._lock:
            return _upload(self._conn.execute(f"{_UPLOAD} WHERE u.upload_id = ?",
                                              [upload_id]).fetchone())

    def latest(self, unit_id: str, clip_id: str, states: Sequence[str]) -> UploadRow | None:
        """The newest upload of a clip in one of ``states``."""
        marks = ", ".join("?" * len(states))
        with self._lock:
            return _upload(self._conn.execute(
                f"{_UPLOAD} WHERE u.unit_id = ? AND u.clip_id = ? AND u.state IN ({marks}) "
                "ORDER BY u.created_utc DESC LIMIT 1", [unit_id, clip_id, *states]).fetchone())

    def clip(self, unit_id: str, clip_id: str) -> ClipRow | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM s3_clips WHERE unit_id = ? AND clip_id = ?",
                                     [unit_id, clip_id]).fetchone()
        return None if row is None else _clip(row)

    def clips_named(self, clip_id: str, unit_id: str | None, limit: int = 2) -> list[ClipRow]:
        sql, args = "SELECT * FROM s3_clips WHERE clip_id = ?", [clip_id]
        if unit_id is not None:
            sql, args = sql + " AND unit_id = ?", [clip_id, unit_id]
        with self._lock:
            return [_clip(r) for r in self._conn.execute(f"{sql} LIMIT {int(limit)}", args)]

    def open_count(self, unit_id: str) -> int:
        with self._lock:
            return int(self._conn.execute(
                "SELECT COUNT(*) FROM s3_uploads WHERE unit_id = ? AND state = 'partial'",
                [unit_id]).fetchone()[0])

    def idle(self, cutoff: str, unit_id: str | None) -> list[UploadRow]:
        """Partial uploads that received no byte since ``cutoff`` (UTC text)."""
        sql, args = f"{_UPLOAD} WHERE u.state = 'partial' AND u.moved_utc < ?", [cutoff]
        if unit_id is not None:
            sql, args = sql + " AND u.unit_id = ?", [cutoff, unit_id]
        with self._lock:
            return [r for r in map(_upload, self._conn.execute(sql, args).fetchall())
                    if r is not None]

    def spooled_bytes(self, upload_id: str) -> bytes:
        with self._lock:
            rows = self._conn.execute('SELECT data FROM s3_pending WHERE upload_id = ? '
                                      'ORDER BY "offset"', [upload_id]).fetchall()
        return b"".join(bytes(r[0]) for r in rows)

    def parts(self, upload_id: str) -> list[tuple[int, str]]:
        """(part number, ETag) of the parts in S3, in order."""
        with self._lock:
            return [(int(r[0]), str(r[1])) for r in self._conn.execute(
                "SELECT part_number, etag FROM s3_parts WHERE upload_id = ? "
                "ORDER BY part_number", [upload_id])]

    # ---- writes --------------------------------------------------------------------------

    def insert(self, upload_id: str, unit_id: str, clip_id: str, length: int, sha256: str,
               object_key: str, now: str) -> None:
        with self._tx() as c:
            c.execute("INSERT INTO s3_uploads (upload_id, unit_id, clip_id, length, sha256, "
                      "state, object_key, created_utc, moved_utc) "
                      "VALUES (?, ?, ?, ?, ?, 'partial', ?, ?, ?)",
                      [upload_id, unit_id, clip_id, length, sha256, object_key, now, now])

    def set_multipart(self, upload_id: str, multipart_id: str) -> None:
        with self._tx() as c:
            c.execute("UPDATE s3_uploads SET multipart_id = ? WHERE upload_id = ?",
                      [multipart_id, upload_id])

    def spool(self, upload_id: str, offset: int, chunk: bytes, now: str) -> bool:
        """Keep a chunk at ``offset``; False if the offset moved meanwhile (another writer)."""
        with self._tx() as c:
            row = _upload(c.execute(f"{_UPLOAD} WHERE u.upload_id = ?", [upload_id]).fetchone())
            if row is None or row.state != "partial" or row.offset != offset:
                return False
            c.execute('INSERT INTO s3_pending (upload_id, "offset", data, size) '
                      "VALUES (?, ?, ?, ?)", [upload_id, offset, chunk, len(chunk)])
            c.execute("UPDATE s3_uploads SET moved_utc = ? WHERE upload_id = ?", [now, upload_id])
        return True

    def flushed_part(self, upload_id: str, part_number: int, etag: str, size: int,
                     was: int, now: str) -> bool:
        """A part holding every spooled byte (and the chunk) is in S3: record it and drop
        the spool; False if another writer moved the upload since ``was``."""
        with self._tx() as c:
            row = _upload(c.execute(f"{_UPLOAD} WHERE u.upload_id = ?", [upload_id]).fetchone())
            if row is None or row.state != "partial" or row.flushed != was:
                return False
            c.execute("INSERT OR REPLACE INTO s3_parts (upload_id, part_number, etag, size) "
                      "VALUES (?, ?, ?, ?)", [upload_id, part_number, etag, size])
            c.execute("DELETE FROM s3_pending WHERE upload_id = ?", [upload_id])
            c.execute("UPDATE s3_uploads SET flushed = flushed + ?, moved_utc = ? "
                      "WHERE upload_id = ?", [size, now, upload_id])
        return True

    def complete(self, row: UploadRow, now: str) -> None:
        """The verified clip is in S3 under ``row.object_key``: it is HQ's now."""
        with self._tx() as c:
            c.execute("UPDATE s3_uploads SET state = 'complete', finished_utc = ?, "
                      "flushed = length WHERE upload_id = ?", [now, row.upload_id])
            c.execute("DELETE FROM s3_pending WHERE upload_id = ?", [row.upload_id])
            c.execute("DELETE FROM s3_parts WHERE upload_id = ?", [row.upload_id])
            c.execute("INSERT INTO s3_clips (unit_id, clip_id, upload_id, object_key, size, "
                      "sha256, completed_utc) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      [row.unit_id, row.clip_id, row.upload_id, row.object_key, row.length,
                       row.sha256, now])

    def record_import(self, row: UploadRow, completed_utc: str, now: str) -> None:
        """A clip copied in whole (``hq copy``) is in S3 under ``row.object_key``."""
        with self._tx() as c:
            c.execute("INSERT INTO s3_uploads (upload_id, unit_id, clip_id, length, sha256, "
                      "state, object_key, flushed, created_utc, moved_utc, finished_utc) "
                      "VALUES (?, ?, ?, ?, ?, 'complete', ?, ?, ?, ?, ?)",
                      [row.upload_id, row.unit_id, row.clip_id, row.length, row.sha256,
                       row.object_key, row.length, now, now, now])
            c.execute("INSERT INTO s3_clips (unit_id, clip_id, upload_id, object_key, size, "
                      "sha256, completed_utc) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      [row.unit_id, row.clip_id, row.upload_id, row.object_key, row.length,
                       row.sha256, completed_utc])

    def reject(self, upload_id: str, now: str) -> None:
        """The upload is dead (checksum, re-announced, expired): forget its bytes."""
        with self._tx() as c:
            c.execute("UPDATE s3_uploads SET state = 'rejected', finished_utc = ? "
                      "WHERE upload_id = ? AND state = 'partial'", [now, upload_id])
            c.execute("DELETE FROM s3_pending WHERE upload_id = ?", [upload_id])
            c.execute("DELETE FROM s3_parts WHERE upload_id = ?", [upload_id])

    def delete_clip(self, unit_id: str, clip_id: str, now: str) -> bool:
        """Forget a completed clip; its upload stays as a tombstone (``deleted``) so the
        unit is told HQ has it rather than asked to send it again."""
        with self._tx() as c:
            row = c.execute("SELECT upload_id FROM s3_clips WHERE unit_id = ? AND clip_id = ?",
                            [unit_id, clip_id]).fetchone()
            if row is None:
                return False
            c.execute("DELETE FROM s3_clips WHERE unit_id = ? AND clip_id = ?",
                      [unit_id, clip_id])
            c.execute("UPDATE s3_uploads SET state = 'deleted', finished_utc = ? "
                      "WHERE upload_id = ?", [now, row["upload_id"]])
        return True

