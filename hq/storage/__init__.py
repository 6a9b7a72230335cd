"""HQ storage behind interfaces: events, clips (resumable uploads) and the audit log."""

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
from .events import SqliteEventStore
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
    "SqliteEventStore",
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
