"""Copying a finished clip into the S3 store whole (``hq copy``): the ``import_clip``
contract of every ClipStore, for S3ClipStore.

The bytes are hashed while they go up, in parts of the store's part size, and the object
is completed only when the length and sha256 match the clip's; otherwise the multipart
upload is aborted (or the single PUT never made) and nothing is left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
from typing import BinaryIO, Protocol

from ..errors import ChecksumMismatch, ClipConflict, StorageError, StorageUnavailable
from ..models import StoredClip, check_clip_id, check_sha256, check_unit_id
from ..models import utc_text as _utc_text
from .book import UploadBook, UploadRow
from .objects import ClipObjects


class ImportTarget(Protocol):
    """What an import needs of the S3 store (S3ClipStore has it): this module is below the
    store, which calls it, so it names the parts instead of importing the class."""

    book: UploadBook
    objects: ClipObjects
    part_size: int
    _creating: threading.Lock

    def _now(self) -> str: ...
    def _discard(self, row: UploadRow) -> None: ...
    def object_key(self, unit_id: str, clip_id: str, upload_id: str) -> str: ...


def _read(source: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes (fewer only at the end of ``source``)."""
    pieces, got = [], 0
    while got < size:
        piece = source.read(size - got)
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    return b"".join(pieces)


def import_clip(store: ImportTarget, clip: StoredClip, source: BinaryIO) -> bool:
    """Store ``clip``'s bytes from ``source`` under its unit and clip id.

    True when stored; False when the same clip (same sha256 and size) is already there, so
    a re-run is a no-op. ClipConflict when another digest is stored under the ids;
    ChecksumMismatch (nothing kept) when the bytes do not match ``clip.sha256``/``size``.
    """
    check_unit_id(clip.unit_id)
    check_clip_id(clip.clip_id)
    check_sha256(clip.sha256)
    book = store.book
    with store._creating:
        held = book.latest(clip.unit_id, clip.clip_id, ("complete", "deleted"))
        if held is not None:
            if held.sha256 == clip.sha256 and held.length == clip.size:
                return False
            raise ClipConflict(f"clip {clip.clip_id} of {clip.unit_id} is already stored "
                               "with another digest or length")
        partial = book.latest(clip.unit_id, clip.clip_id, ("partial",))
        if partial is not None:  # the copy is the whole clip: a unit's half upload is moot
            store._discard(partial)
        upload_id = secrets.token_hex(16)
        now = store._now()
        row = UploadRow(upload_id, clip.unit_id, clip.clip_id, clip.size, clip.sha256,
                        "complete", store.object_key(clip.unit_id, clip.clip_id, upload_id),
                        None, clip.size, 0, now, now)
        _upload(store, row, source)
        book.record_import(row, _utc_text(clip.completed_utc), now)
    return True


def _mismatch(row: UploadRow, size: int, digest: str) -> ChecksumMismatch:
    return ChecksumMismatch(f"clip {row.clip_id} of {row.unit_id}: the source has {size} "
                            f"bytes hashing to {digest}, not {row.length} bytes with "
                            f"{row.sha256}; nothing stored")


def _upload(store: ImportTarget, row: UploadRow, source: BinaryIO) -> None:
    objects, clip_size = store.objects, row.length
    meta = {"sha256": row.sha256, "unit-id": row.unit_id, "clip-id": row.clip_id}
    h = hashlib.sha256()
    block = _read(source, store.part_size)
    if len(block) < store.part_size:  # the whole clip in one PUT, checked before it
        h.update(block)
        if len(block) != clip_size or h.hexdigest() != row.sha256:
            raise _mismatch(row, len(block), h.hexdigest())
        objects.put(row.object_key, block, meta)
        return
    multipart = objects.start_multipart(row.object_key, meta)
    try:
        parts: list[tuple[int, str]] = []
        total = 0
        while block:
            h.update(block)
            total += len(block)
            if total > clip_size:
                raise _mismatch(row, total, "(more bytes than the clip has)")
            etag = objects.upload_part(row.object_key, multipart, len(parts) + 1, block)
            if etag is None:
                raise StorageUnavailable(f"the store lost multipart upload {multipart}")
            parts.append((len(parts) + 1, etag))
            block = _read(source, store.part_size)
        if total != clip_size or h.hexdigest() != row.sha256:
            raise _mismatch(row, total, h.hexdigest())
        if not objects.complete(row.object_key, multipart, parts):
            raise StorageUnavailable(f"the store lost multipart upload {multipart}")
    except BaseException:
        # Best effort: the bucket's AbortIncompleteMultipartUpload rule is the backstop.
        with contextlib.suppress(StorageError):
            objects.abort(row.object_key, multipart)
        raise

