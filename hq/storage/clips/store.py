"""LocalClipStore: resumable clip uploads (tus 1.0 core semantics) onto local disk, and
the finished clips HQ serves from there.

Layout under ``root``: ``clips.sqlite`` (uploads and completed clips), ``partial/`` (bytes
received so far) and ``clips/`` (verified clips). Every file name is a server-made upload
id, so nothing a unit sends ever becomes part of a path. This module holds the finished
clips (lookup, ranged reads, retention's delete); the uploads are
hq/storage/clips/uploads.py, ``hq copy``'s import hq/storage/clips/imports.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import AmbiguousId, ClipNotFound, InvalidInput
from ..models import StoredClip, check_clip_id, check_unit_id, parse_utc
from ..sqlite import connect, private_dir
from .imports import ClipImporter
from .uploads import TusUploads, now_text

log = logging.getLogger(__name__)

DEFAULT_MAX_CLIP_BYTES = 1 << 30  # an hour of 720p at ~4 MB/min is ~240 MB; 1 GiB is ample
# A unit uploads one clip at a time; the bound stops a broken or hostile unit from
# filling HQ's disk with never-finished uploads.
DEFAULT_MAX_OPEN_UPLOADS = 16
# An upload with no byte received for this long is abandoned (the unit lost the clip,
# was replaced, or re-announced it elsewhere): it no longer counts against the quota.
DEFAULT_ABANDON_AFTER = dt.timedelta(hours=24)

Clock = Callable[[], dt.datetime]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY, unit_id TEXT NOT NULL, clip_id TEXT NOT NULL,
    length INTEGER NOT NULL, sha256 TEXT NOT NULL, state TEXT NOT NULL,
    created_utc TEXT NOT NULL, finished_utc TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_partial_per_clip
    ON uploads (unit_id, clip_id) WHERE state = 'partial';
CREATE TABLE IF NOT EXISTS clips (
    unit_id TEXT NOT NULL, clip_id TEXT NOT NULL, upload_id TEXT NOT NULL,
    size INTEGER NOT NULL, sha256 TEXT NOT NULL, completed_utc TEXT NOT NULL,
    PRIMARY KEY (unit_id, clip_id)
);
CREATE INDEX IF NOT EXISTS clips_by_id ON clips (clip_id);
"""


class LocalClipStore(TusUploads, ClipImporter):
    """Resumable uploads with sha256 verification, and range reads of completed clips."""

    def __init__(self, root: Path, *, max_length: int = DEFAULT_MAX_CLIP_BYTES,
                 max_open_uploads: int = DEFAULT_MAX_OPEN_UPLOADS,
                 abandon_after: dt.timedelta = DEFAULT_ABANDON_AFTER,
                 clock: Clock = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.root = Path(root)
        self.max_length = max_length
        self.max_open_uploads = max_open_uploads
        self.abandon_after = abandon_after
        self.clock = clock  # the quota's idea of now (tests move it)
        self._partial = self.root / "partial"
        self._clips = self.root / "clips"
        for d in (self.root, self._partial, self._clips):
            private_dir(d)
        self._conn = connect(self.root / "clips.sqlite")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()  # the connection and the maps below
        self._upload_locks: dict[str, threading.Lock] = {}
        # Running sha256 per upload with the offset it covers; lost on restart, when the
        # partial file is rehashed once instead.
        self._hashers: dict[str, tuple[hashlib._Hash, int]] = {}
        self._recover_uploads()
        self._recover_deletes()

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._conn.close()

    # ---- downloads --------------------------------------------------------------------

    def open_clip(self, clip_id: str, unit_id: str | None = None) -> StoredClip:
        """A completed clip; ClipNotFound if none, AmbiguousId if several units have it."""
        check_clip_id(clip_id)
        sql, args = "SELECT * FROM clips WHERE clip_id = ?", [clip_id]
        if unit_id is not None:
            sql, args = sql + " AND unit_id = ?", [clip_id, unit_id]
        with self._lock:
            rows = self._conn.execute(sql + " LIMIT 2", args).fetchall()
        if not rows:
            raise ClipNotFound(f"no completed clip {clip_id}")
        if len(rows) > 1:
            raise AmbiguousId(f"clip {clip_id} exists for several units; give the unit")
        r = rows[0]
        return StoredClip(r["unit_id"], r["clip_id"], r["size"], r["sha256"],
                          parse_utc(r["completed_utc"]), self._clips / r["upload_id"])

    def read_range(self, clip: StoredClip, start: int, end: int,
                   chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """Bytes ``start..end`` (inclusive) of a completed clip, in chunks."""
        if clip.path is None or not 0 <= start <= end < clip.size:
            raise InvalidInput(f"range {start}-{end} is outside clip {clip.clip_id}")
        with clip.path.open("rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                block = f.read(min(left, chunk_size))
                if not block:
                    return
                left -= len(block)
                yield block

    def delete(self, unit_id: str, clip_id: str) -> bool:
        """Remove a completed clip (its bytes and its row); False if HQ holds no such clip.

        Used by retention (hq/retention/), which has checked legal holds and written the
        audit record first. The upload row stays as a tombstone (``deleted``): a unit
        announcing the clip again is told HQ has it, rather than asked to send back what
        retention removed.
        """
        check_unit_id(unit_id)
        check_clip_id(clip_id)
        with self._lock:
            row = self._conn.execute("SELECT upload_id FROM clips WHERE unit_id = ? AND "
                                     "clip_id = ?", [unit_id, clip_id]).fetchone()
            if row is None:
                return False
            with self._immediate():
                self._conn.execute("DELETE FROM clips WHERE unit_id = ? AND clip_id = ?",
                                   [unit_id, clip_id])
                self._conn.execute("UPDATE uploads SET state = 'deleted', finished_utc = ? "
                                   "WHERE upload_id = ?", [now_text(), row["upload_id"]])
            # After the commit: a crash in between leaves an unreferenced file, never a
            # row pointing at missing bytes.
            with contextlib.suppress(FileNotFoundError):
                (self._clips / row["upload_id"]).unlink()
        log.info("clip %s of %s deleted", clip_id, unit_id)
        return True

    def playback_url(self, clip: StoredClip, *, filename: str, media_type: str,
                     seconds: int | None = None) -> str | None:
        """None: local files are served by HQ itself (ranged reads), never pre-signed."""
        return None

    # ---- internals ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _immediate(self) -> Iterator[None]:
        """One write transaction on the store's connection; the caller holds the lock."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _recover_deletes(self) -> None:
        """Remove the bytes of clips whose delete was committed before a crash removed them."""
        with self._lock:
            for (gone,) in self._conn.execute(
                    "SELECT upload_id FROM uploads WHERE state = 'deleted'").fetchall():
                with contextlib.suppress(FileNotFoundError):
                    (self._clips / gone).unlink()  # a delete interrupted after its commit
