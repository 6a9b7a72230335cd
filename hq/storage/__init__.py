"""HQ storage behind interfaces: clips (resumable uploads), the audit log, errors and
records. The event store is `hq.storage.events` (not re-exported here: loading it loads
every projection ingest feeds, which themselves use this package)."""

from .audit import CLIP_DOWNLOAD, CLIP_PLAY, SEARCH, TRANSACTION_VIEW, SqliteAuditLog
from .base import AuditLog, ClipStore, EventStore
from .clips.ranges import ByteRange, parse_range
from .clips.store import DEFAULT_MAX_CLIP_BYTES, DEFAULT_MAX_OPEN_UPLOADS, LocalClipStore
from .errors import (
    AmbiguousId,
    BeyondLength,
    ChecksumMismatch,
    ClipConflict,
    ClipNotFound,
    ForeignUnit,
    InvalidInput,
    OffsetConflict,
    QuotaExceeded,
    RangeNotSatisfiable,
    StorageError,
    UploadNotFound,
    UploadTooLarge,
    UuidTaken,
)
from .models import (
    AuditRecord,
    IngestResult,
    StoredClip,
    Transaction,
    TransactionQuery,
    Upload,
)

__all__ = [
    "CLIP_DOWNLOAD",
    "CLIP_PLAY",
    "DEFAULT_MAX_CLIP_BYTES",
    "DEFAULT_MAX_OPEN_UPLOADS",
    "SEARCH",
    "TRANSACTION_VIEW",
    "AmbiguousId",
    "AuditLog",
    "AuditRecord",
    "BeyondLength",
    "ByteRange",
    "ChecksumMismatch",
    "ClipConflict",
    "ClipNotFound",
    "ClipStore",
    "EventStore",
    "ForeignUnit",
    "IngestResult",
    "InvalidInput",
    "LocalClipStore",
    "OffsetConflict",
    "QuotaExceeded",
    "RangeNotSatisfiable",
    "SqliteAuditLog",
    "StorageError",
    "StoredClip",
    "Transaction",
    "TransactionQuery",
    "Upload",
    "UploadNotFound",
    "UploadTooLarge",
    "UuidTaken",
    "parse_range",
]
