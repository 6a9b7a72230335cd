"""The storage interfaces HQ's API calls; SQLite/local-disk are the defaults.

PostgreSQL (events, audit) and S3-compatible object storage (clips) implement the
same Protocols; see docs/hq-scaling.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO, Protocol

from sync.schema import EventEnvelope

from .models import AuditRecord, IngestResult, StoredClip, Transaction, TransactionQuery, Upload
from .scope import Scope


class EventStore(Protocol):
    """Events exactly once per uuid, and the query tables built from them."""

    def ingest(self, unit_id: str, events: Sequence[EventEnvelope]) -> IngestResult:
        """Store a batch atomically for the authenticated ``unit_id``.

        Raises ForeignUnit if an event names another unit, UuidTaken if a uuid is
        already stored for another unit; nothing of the batch is stored then.
        """
        ...

    def register_unit(self, unit_id: str, branch_id: str) -> None:
        """Record (or move) a unit's branch, used by branch searches."""
        ...

    def search_transactions(self, query: TransactionQuery, scope: Scope) -> list[Transaction]:
        """Transactions matching ``query`` within ``scope``, newest start first."""
        ...

    def transaction(self, txn_id: str, unit_id: str | None, scope: Scope) -> Transaction | None:
        """One transaction within ``scope``; AmbiguousId if ``txn_id`` exists for several units."""
        ...

    def clip_in_scope(self, unit_id: str, clip_id: str, scope: Scope) -> bool:
        """Whether a transaction within ``scope`` names the clip (``all``: every clip)."""
        ...

    def units_in_scope(self, scope: Scope) -> list[str]:
        """Units bound to a window in ``scope`` now, or with transactions filed there."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class ClipStore(Protocol):
    """Resumable clip uploads (tus 1.0 core semantics) and byte-exact downloads.

    LocalClipStore (files, the default) and S3ClipStore (any S3 API store) implement it;
    ``clip_store_from_config`` picks one from hq.toml.
    """

    max_length: int  # the largest clip accepted (tus Tus-Max-Size)
    abandon_after: dt.timedelta  # an upload idle this long is abandoned
    clock: Callable[[], dt.datetime]  # the quota's idea of now (tests move it)

    def create(self, unit_id: str, clip_id: str, length: int, sha256: str) -> Upload:
        """Start (or find) the upload of a clip; ``complete`` if HQ already has it."""
        ...

    def offset(self, upload_id: str, unit_id: str) -> Upload:
        """The upload's current state (tus HEAD)."""
        ...

    def append(self, upload_id: str, unit_id: str, offset: int, chunk: bytes) -> int:
        """Write ``chunk`` at ``offset`` durably (tus PATCH); return the new offset."""
        ...

    def open_clip(self, clip_id: str, unit_id: str | None = None) -> StoredClip:
        """A completed clip; ClipNotFound if there is none."""
        ...

    def read_range(self, clip: StoredClip, start: int, end: int,
                   chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """Bytes ``start..end`` (inclusive) of a completed clip, in chunks."""
        ...

    def playback_url(self, clip: StoredClip, *, filename: str, media_type: str,
                     seconds: int | None = None) -> str | None:
        """A short-lived URL a browser may fetch the clip from directly (pre-signed), or
        None when the store has none (files). The caller audits every URL it hands out."""
        ...

    def expire(self, older_than: dt.timedelta, now: dt.datetime | None = None) -> int:
        """Discard unfinished uploads idle since before ``now - older_than``; how many."""
        ...

    def delete(self, unit_id: str, clip_id: str) -> bool:
        """Delete a completed clip (retention); False if there is none. The upload stays
        as a tombstone, so a unit announcing the clip again is told HQ has it."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...


class ClipImport(Protocol):
    """What ``hq copy`` needs of a target clip store; every ClipStore implements it
    (LocalClipStore in hq/storage/clips/store.py, S3ClipStore in hq/storage/s3/store.py)."""

    def import_clip(self, clip: StoredClip, source: BinaryIO) -> bool:
        """Store a finished clip's bytes (``hq copy``) under ``clip``'s unit_id/clip_id,
        its sha256 checked while writing. True when stored; False when an identical clip
        (same sha256) is already there (re-runs are no-ops). ChecksumMismatch (nothing left
        behind) on a wrong digest; ClipConflict when another digest is stored."""
        ...


class AuditLog(Protocol):
    """Append-only record of who read which recording; no update or delete exists."""

    def append(self, *, actor: str, role: str, action: str, object_type: str,
               object_id: str, client: str, detail: str = "",
               utc: dt.datetime | None = None) -> AuditRecord:
        """Write one record durably and return it."""
        ...

    def query(self, *, actor: str | None = None, object_type: str | None = None,
              object_id: str | None = None, action: str | None = None,
              utc_from: dt.datetime | None = None, utc_to: dt.datetime | None = None,
              limit: int = 100, offset: int = 0, actions: Sequence[str] | None = None,
              object_units: Sequence[str] | None = None,
              newest_first: bool = False) -> list[AuditRecord]:
        """Records matching every given filter, oldest first (or newest first)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
