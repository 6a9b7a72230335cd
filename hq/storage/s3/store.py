"""S3ClipStore: resumable clip uploads (tus 1.0 core) into any S3 API store.

A unit's tus upload becomes one S3 object, ``{prefix}{unit_id}/{clip_id}/{upload_id}``
(unit and clip ids are checked to a plain alphabet; the upload id is server-made). Chunks
are spooled in the bookkeeping tables (hq/storage/s3/book.py) until they fill a part of
``part_size`` bytes, which goes to S3 as one part of a multipart upload; a clip shorter
than a part is one PUT. A chunk is acknowledged only once it is durable: committed to the
database, or in S3 with its part recorded.

The sha256 is checked before the clip is acknowledged. The worker that saw every byte has
the digest in hand and checks it before the last part goes up (a mismatch aborts the
multipart upload). After a restart, or when chunks went to several workers, the bytes
already in S3 parts cannot be read back, so the assembled object is read once and hashed
before it is acknowledged (a mismatch deletes it). Either way the unit gets the same 460
as from LocalClipStore and uploads afresh.

While the store is down every S3 call raises StorageUnavailable (HQ answers 503 with a
Retry-After); chunks that only need spooling are still taken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from ..clips.store import DEFAULT_ABANDON_AFTER, DEFAULT_MAX_CLIP_BYTES, DEFAULT_MAX_OPEN_UPLOADS
from ..errors import (
    AmbiguousId,
    BeyondLength,
    ChecksumMismatch,
    ClipConflict,
    ClipNotFound,
    ForeignUnit,
    InvalidInput,
    OffsetConflict,
    QuotaExceeded,
    StorageError,
    UploadNotFound,
)
from ..models import (
    StoredClip,
    Upload,
    check_clip_id,
    check_upload,
    parse_utc,
)
from ..models import utc_text as _utc_text
from .book import ClipRow, UploadBook, UploadRow
from .imports import import_clip
from .objects import ClipObjects, chunks

log = logging.getLogger(__name__)

MIN_PART = 5 * 1024 * 1024  # S3's smallest part but for the last
DEFAULT_PART = 8 * 1024 * 1024

Clock = Callable[[], dt.datetime]

_FREE = threading.Lock()  # stands for "no chunk in flight"


class S3ClipStore:
    """ClipStore over an S3 bucket; bookkeeping in ``book`` (a database file)."""

    def __init__(self, client: Any, bucket: str, book_path: Path, *, prefix: str = "",
                 part_size: int = DEFAULT_PART, presign_seconds: int = 300,
                 max_length: int = DEFAULT_MAX_CLIP_BYTES,
                 max_open_uploads: int = DEFAULT_MAX_OPEN_UPLOADS,
                 abandon_after: dt.timedelta = DEFAULT_ABANDON_AFTER,
                 clock: Clock = lambda: dt.datetime.now(dt.UTC)) -> None:
        if part_size < MIN_PART:
            raise ValueError(f"part size {part_size} is under S3's minimum of {MIN_PART}")
        self.objects = ClipObjects(client, bucket)
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size
        self.presign_seconds = presign_seconds
        self.max_length = max_length
        self.max_open_uploads = max_open_uploads
        self.abandon_after = abandon_after
        self.clock = clock
        self.book = UploadBook(book_path)
        self._lock = threading.Lock()  # the maps below
        self._creating = threading.Lock()  # one create at a time: find-or-insert
        self._upload_locks: dict[str, threading.Lock] = {}
        # Running sha256 per upload with the offset it covers: only this worker's.
        self._hashers: dict[str, tuple[Any, int]] = {}

    def close(self) -> None:
        """Release the database connection."""
        self.book.close()

    def _now(self) -> str:
        return _utc_text(self.clock())

    # ---- tus: creation, HEAD, PATCH ---------------------------------------------------

    def create(self, unit_id: str, clip_id: str, length: int, sha256: str) -> Upload:
        """Start the upload of a clip, or find the one under way or done (as LocalClipStore)."""
        check_upload(unit_id, clip_id, length, sha256, self.max_length)
        with self._creating:
            return self._create(unit_id, clip_id, length, sha256)

    def _create(self, unit_id: str, clip_id: str, length: int, sha256: str) -> Upload:
        held = self.book.latest(unit_id, clip_id, ("complete", "deleted"))
        if held is not None:
            if held.sha256 != sha256 or held.length != length:
                raise ClipConflict(f"clip {clip_id} of {unit_id} is already stored with "
                                   "another digest or length")
            return self._state(held)
        row = self.book.latest(unit_id, clip_id, ("partial",))
        if row is not None:
            if row.sha256 == sha256 and row.length == length:
                return self._state(row)
            log.warning("clip %s of %s re-announced with another digest; "
                        "discarding upload %s", clip_id, unit_id, row.upload_id)
            self._discard(row)
        if self.book.open_count(unit_id) >= self.max_open_uploads:
            gone = self._expire(self.clock() - self.abandon_after, unit_id)
            if gone:
                log.info("unit %s at its upload quota: %d abandoned uploads expired",
                         unit_id, gone)
        open_now = self.book.open_count(unit_id)
        if open_now >= self.max_open_uploads:
            raise QuotaExceeded(f"unit {unit_id} has {open_now} unfinished uploads; "
                                "finish or let them expire first")
        upload_id = secrets.token_hex(16)
        key = self.object_key(unit_id, clip_id, upload_id)
        try:
            self.book.insert(upload_id, unit_id, clip_id, length, sha256, key, self._now())
        except sqlite3.IntegrityError:
            # Another worker started this clip's upload since we looked (one partial upload
            # per clip is a unique index): continue that one.
            row = self.book.latest(unit_id, clip_id, ("partial",))
            if row is None or row.sha256 != sha256 or row.length != length:
                raise ClipConflict(f"clip {clip_id} of {unit_id} is being uploaded with "
                                   "another digest or length; try again") from None
            return self._state(row)
        return Upload(upload_id, unit_id, clip_id, length, sha256, 0, False)

    def object_key(self, unit_id: str, clip_id: str, upload_id: str) -> str:
        """Where an upload's object lives in the bucket (ids already checked)."""
        return f"{self.prefix}{unit_id}/{clip_id}/{upload_id}"

    def import_clip(self, clip: StoredClip, source: BinaryIO) -> bool:
        """Store a finished clip whole (``hq copy``), sha256 checked while writing; False
        if the identical clip is already here (see hq/storage/s3/imports.py)."""
        return import_clip(self, clip, source)

    def offset(self, upload_id: str, unit_id: str) -> Upload:
        """The upload's current state (tus HEAD)."""
        return self._state(self._row(upload_id, unit_id))

    def append(self, upload_id: str, unit_id: str, offset: int, chunk: bytes) -> int:
        """Take ``chunk`` at ``offset`` durably (tus PATCH); return the new offset.

        Reaching the length verifies the sha256 and stores the clip, or raises
        ChecksumMismatch after discarding the upload. StorageUnavailable: nothing kept.
        """
        self._row(upload_id, unit_id)
        with self._lock:
            ulock = self._upload_locks.setdefault(upload_id, threading.Lock())
        with ulock:
            row = self._row(upload_id, unit_id)
            current = row.offset
            if offset != current:
                raise OffsetConflict(upload_id, current, offset)
            if offset + len(chunk) > row.length:
                raise BeyondLength(f"upload {upload_id}: {len(chunk)} bytes at {offset} "
                                   f"would pass the length {row.length}")
            if row.done or not chunk:
                return current
            hasher = self._hasher(row)
            if hasher is not None:
                hasher = hasher.copy()  # the cached one moves only once the chunk is kept
                hasher.update(chunk)
            new = current + len(chunk)
            if new == row.length:
                self._finish(row, chunk, hasher)
                return new
            if row.spooled + len(chunk) >= self.part_size:
                self._flush(row, chunk)
            elif not self.book.spool(upload_id, offset, chunk, self._now()):
                raise OffsetConflict(upload_id, self._row(upload_id, unit_id).offset, offset)
            with self._lock:
                if hasher is not None:
                    self._hashers[upload_id] = (hasher, new)
                else:
                    self._hashers.pop(upload_id, None)
            return new

    # ---- downloads --------------------------------------------------------------------

    def open_clip(self, clip_id: str, unit_id: str | None = None) -> StoredClip:
        """A completed clip; ClipNotFound if none, AmbiguousId if several units have it."""
        check_clip_id(clip_id)
        rows = self.book.clips_named(clip_id, unit_id)
        if not rows:
            raise ClipNotFound(f"no completed clip {clip_id}")
        if len(rows) > 1:
            raise AmbiguousId(f"clip {clip_id} exists for several units; give the unit")
        r = rows[0]
        return StoredClip(r.unit_id, r.clip_id, r.size, r.sha256, parse_utc(r.completed_utc),
                          None)

    def read_range(self, clip: StoredClip, start: int, end: int,
                   chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """Bytes ``start..end`` (inclusive) by one ranged GET, issued now: a store that is
        down raises StorageUnavailable here, before any response has started."""
        if not 0 <= start <= end < clip.size:
            raise InvalidInput(f"range {start}-{end} is outside clip {clip.clip_id}")
        row = self._clip_row(clip)
        body = self.objects.get(row.object_key, f"bytes={start}-{end}")
        if body is None:
            log.error("clip %s of %s is recorded but its object %s is missing",
                      clip.clip_id, clip.unit_id, row.object_key)
            raise ClipNotFound(f"clip {clip.clip_id} is not in the bucket")
        return chunks(body, chunk_size)

    def playback_url(self, clip: StoredClip, *, filename: str, media_type: str,
                     seconds: int | None = None) -> str | None:
        """A pre-signed GET of the clip valid ``seconds`` (default ``presign_seconds``),
        for a browser to fetch from the store directly. The caller audits each issue."""
        row = self._clip_row(clip)
        return self.objects.presign_get(row.object_key, seconds or self.presign_seconds,
                                        media_type, filename)

    # ---- housekeeping -----------------------------------------------------------------

    def expire(self, older_than: dt.timedelta, now: dt.datetime | None = None) -> int:
        """Discard unfinished uploads with no byte received since ``now - older_than``
        (their multipart uploads are aborted); return how many."""
        gone = self._expire((now or self.clock()) - older_than, None)
        if gone:
            log.info("expired %d abandoned uploads", gone)
        return gone

    def delete(self, unit_id: str, clip_id: str) -> bool:
        """Delete a completed clip (retention); False if HQ holds no such clip.

        The object goes first, so a store that is down leaves everything as it was
        (StorageUnavailable) and retention tries again; the upload stays as a tombstone,
        so a unit announcing the clip again is told HQ has it.
        """
        row = self.book.clip(unit_id, clip_id)
        if row is None:
            return False
        self.objects.delete(row.object_key)
        deleted = self.book.delete_clip(unit_id, clip_id, self._now())
        if deleted:
            log.info("clip %s of %s deleted from the bucket", clip_id, unit_id)
        return deleted

    # ---- internals ----------------------------------------------------------------------

    def _row(self, upload_id: str, unit_id: str) -> UploadRow:
        row = self.book.upload(upload_id) if isinstance(upload_id, str) else None
        if row is None or row.state == "rejected":
            raise UploadNotFound(f"no upload {upload_id!r}")
        if row.unit_id != unit_id:
            raise ForeignUnit(f"upload {upload_id} belongs to unit {row.unit_id}, "
                              f"not {unit_id}")
        return row

    @staticmethod
    def _state(row: UploadRow) -> Upload:
        return Upload(row.upload_id, row.unit_id, row.clip_id, row.length, row.sha256,
                      row.offset, row.done)

    def _clip_row(self, clip: StoredClip) -> ClipRow:
        row = self.book.clip(clip.unit_id, clip.clip_id)
        if row is None:
            raise ClipNotFound(f"no completed clip {clip.clip_id}")
        return row

    def _hasher(self, row: UploadRow) -> Any:
        """This worker's running sha256 at the row's offset; rebuilt from the spool when no
        part went to S3 yet; None when bytes are in S3 parts it did not see."""
        with self._lock:
            cached = self._hashers.get(row.upload_id)
        if cached is not None and cached[1] == row.offset:
            return cached[0]
        if row.flushed == 0:
            return hashlib.sha256(self.book.spooled_bytes(row.upload_id))
        return None

    def _metadata(self, row: UploadRow) -> dict[str, str]:
        return {"sha256": row.sha256, "unit-id": row.unit_id, "clip-id": row.clip_id}

    def _multipart(self, row: UploadRow) -> str:
        if row.multipart_id is not None:
            return row.multipart_id
        multipart = self.objects.start_multipart(row.object_key, self._metadata(row))
        self.book.set_multipart(row.upload_id, multipart)
        return multipart

    def _upload_part(self, row: UploadRow, data: bytes) -> tuple[int, str]:
        multipart = self._multipart(row)
        number = len(self.book.parts(row.upload_id)) + 1
        etag = self.objects.upload_part(row.object_key, multipart, number, data)
        if etag is None:
            self._lost(row)
        return number, etag

    def _flush(self, row: UploadRow, chunk: bytes) -> None:
        """Spool plus chunk fill a part: send it, then record it and drop the spool."""
        data = self.book.spooled_bytes(row.upload_id) + chunk
        number, etag = self._upload_part(row, data)
        if not self.book.flushed_part(row.upload_id, number, etag, len(data), row.flushed,
                                      self._now()):
            raise OffsetConflict(row.upload_id, self._row(row.upload_id, row.unit_id).offset,
                                 row.offset)

    def _finish(self, row: UploadRow, chunk: bytes, hasher: Any) -> None:
        """The last chunk: verify, assemble the object, record the clip."""
        if hasher is not None and hasher.hexdigest() != row.sha256:
            self._mismatch(row, hasher.hexdigest())
        data = self.book.spooled_bytes(row.upload_id) + chunk
        key = row.object_key
        if row.flushed == 0:
            self.objects.put(key, data, self._metadata(row))
        else:
            multipart = self._multipart(row)
            number = len(self.book.parts(row.upload_id)) + 1
            etag = self.objects.upload_part(key, multipart, number, data)
            done = etag is not None and self.objects.complete(
                key, multipart, [*self.book.parts(row.upload_id), (number, etag)])
            # Unknown multipart upload: a try before may have completed it and failed
            # before recording it; else the store dropped it and the unit starts over.
            if not done and self.objects.size(key) != row.length:
                self._lost(row)
        if hasher is None:
            log.info("upload %s: reading the assembled object back to check its sha256 "
                     "(its parts came through another worker or before a restart)",
                     row.upload_id)
            digest = self.objects.sha256(key)
            if digest != row.sha256:
                self.objects.delete(key)
                self._mismatch(row, str(digest))
        self.book.complete(row, self._now())
        self._forget(row.upload_id)
        log.info("clip %s of %s stored in the bucket: %d bytes, sha256 %s", row.clip_id,
                 row.unit_id, row.length, row.sha256[:12])

    def _mismatch(self, row: UploadRow, digest: str) -> NoReturn:
        self._discard(row)
        raise ChecksumMismatch(f"clip {row.clip_id}: received bytes hash to {digest}, not "
                               f"{row.sha256}; upload {row.upload_id} discarded, upload the "
                               "clip again")

    def _lost(self, row: UploadRow) -> NoReturn:
        """The store no longer knows the multipart upload (aborted by a lifecycle rule)."""
        log.warning("upload %s: the store lost its multipart upload; the unit starts over",
                    row.upload_id)
        self._discard(row)
        raise UploadNotFound(f"upload {row.upload_id} was lost by the clip store")

    def _forget(self, upload_id: str) -> None:
        with self._lock:
            self._hashers.pop(upload_id, None)
            self._upload_locks.pop(upload_id, None)

    def _discard(self, row: UploadRow) -> None:
        """Reject an upload and abort its multipart upload (best effort: the bucket's
        AbortIncompleteMultipartUpload rule is the backstop while the store is down)."""
        self.book.reject(row.upload_id, self._now())
        self._forget(row.upload_id)
        multipart = row.multipart_id or (self.book.upload(row.upload_id) or row).multipart_id
        if multipart is None:
            return
        try:
            self.objects.abort(row.object_key, multipart)
        except StorageError as exc:  # the upload is rejected whatever the store says
            log.info("upload %s: multipart upload not aborted (%s); the bucket's lifecycle "
                     "rule removes it", row.upload_id, exc)

    def _expire(self, cutoff: dt.datetime, unit_id: str | None) -> int:
        gone = 0
        for row in self.book.idle(_utc_text(cutoff), unit_id):
            with self._lock:
                busy = self._upload_locks.get(row.upload_id, _FREE).locked()
            if busy:
                continue  # a chunk is being taken right now
            self._discard(row)
            gone += 1
        return gone

