"""Domain errors of HQ storage; the HTTP layer maps each class to one status code.

Suggested mapping (tus 1.0 core where it has one): InvalidInput 400, ForeignUnit 403,
UploadNotFound / ClipNotFound 404, OffsetConflict 409, ClipConflict 409,
UuidTaken 409, UploadTooLarge 413, QuotaExceeded 429, BeyondLength 400, ChecksumMismatch 460,
RangeNotSatisfiable 416, StorageFull 507, StorageUnavailable 503 (with Retry-After).
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every expected storage refusal (never a bug)."""


class InvalidInput(StorageError, ValueError):
    """A malformed id, digest, length or query value."""


class ForeignUnit(StorageError):
    """A unit tried to write as another unit or touch another unit's upload."""


class UuidTaken(StorageError):
    """An event uuid is already stored for a different unit."""


class UploadNotFound(StorageError):
    """No such upload (never created, rejected, or not this store's)."""


class OffsetConflict(StorageError):
    """A chunk was sent at an offset other than the upload's current one (tus 409)."""

    def __init__(self, upload_id: str, expected: int, got: int) -> None:
        super().__init__(f"upload {upload_id}: offset is {expected}, chunk sent at {got}")
        self.expected = expected
        self.got = got


class BeyondLength(StorageError):
    """A chunk would write past the declared upload length."""


class UploadTooLarge(StorageError):
    """The declared length is over the store's maximum clip size."""


class QuotaExceeded(StorageError):
    """A unit has too many unfinished uploads open at once."""


class ChecksumMismatch(StorageError):
    """The complete upload's sha256 differs from the declared one; the bytes were discarded."""


class ClipConflict(StorageError):
    """The clip is already stored with a different sha256 or length."""


class ClipNotFound(StorageError):
    """No completed clip by that id."""


class StorageFull(StorageError):
    """The disk (or quota) is full: nothing of the write was kept (507)."""


class StorageUnavailable(StorageError):
    """The store behind HQ (an S3 endpoint) cannot be reached or failed: nothing of the
    request was kept; the caller tries again after ``retry_after_s`` (503)."""

    def __init__(self, message: str, retry_after_s: int = 30) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class AmbiguousId(StorageError):
    """An id matches records of several units; the unit id must be given."""


class RangeNotSatisfiable(StorageError):
    """An HTTP Range that selects no byte of the representation (416)."""

    def __init__(self, header: str, size: int) -> None:
        super().__init__(f"range {header!r} is not satisfiable for {size} bytes")
        self.size = size

    @property
    def content_range(self) -> str:
        """The ``Content-Range`` value a 416 response carries."""
        return f"bytes */{self.size}"
