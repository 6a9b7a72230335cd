"""Plain records that cross the storage interfaces, and the id/value validators."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput, UploadTooLarge

# Unit and clip ids never become file names (files are named by server-made ids), but
# they still go into logs and URLs, so only a plain alphabet is accepted.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CLIP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_unit_id(value: str) -> str:
    """Return ``value`` if it is a well-formed unit id, else raise InvalidInput."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidInput(f"unit id {value!r} must match {_ID.pattern}")
    return value


def check_clip_id(value: str) -> str:
    """Return ``value`` if it is a well-formed clip id (no dots, slashes or NUL)."""
    if not isinstance(value, str) or not _CLIP_ID.fullmatch(value):
        raise InvalidInput(f"clip id {value!r} must match {_CLIP_ID.pattern}")
    return value


def check_sha256(value: str) -> str:
    """Return ``value`` if it is 64 lowercase hex digits."""
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise InvalidInput(f"sha256 {value!r} must be 64 lowercase hex digits")
    return value


def check_upload(unit_id: str, clip_id: str, length: int, sha256: str,
                 max_length: int) -> None:
    """A tus creation request every clip store refuses the same way: ids, digest, and a
    length that is a positive integer within ``max_length``."""
    check_unit_id(unit_id)
    check_clip_id(clip_id)
    check_sha256(sha256)
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise InvalidInput(f"upload length {length!r} must be a positive integer")
    if length > max_length:
        raise UploadTooLarge(f"clip {clip_id}: {length} bytes is over the "
                             f"{max_length}-byte limit")


def utc_text(t: dt.datetime) -> str:
    """Fixed-width UTC text, so that SQL string order is time order (naive means UTC)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    t = t.astimezone(dt.UTC)
    # The year by hand: glibc's %Y does not pad years before 1000 ("257-..."), which
    # neither sorts as text nor parses back.
    return f"{t.year:04d}-" + t.strftime("%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> dt.datetime:
    """Inverse of :func:`utc_text`."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Rejection:
    """One event of a batch HQ did not store: which, the field at fault and the rule."""

    uuid: str | None
    field: str
    reason: str


@dataclass(frozen=True)
class IngestResult:
    """How many events of a batch were new, how many already stored, and which refused."""

    accepted: int
    duplicates: int
    rejected: tuple[Rejection, ...] = ()


@dataclass(frozen=True)
class Transaction:
    """One transaction as HQ sees it, assembled from the unit's events."""

    unit_id: str
    txn_id: str
    branch_id: str | None
    counter_id: str | None
    staff_id: str | None
    session_id: str | None
    started_utc: dt.datetime | None
    ended_utc: dt.datetime | None
    duration_s: float | None
    end_reason: str | None
    clock_synced: bool | None
    rating: int | None
    rating_outcome: str | None
    rating_suspect: bool | None
    clip_id: str | None
    clip_state: str | None
    clip_sha256: str | None
    clip_size: int | None


@dataclass(frozen=True)
class TransactionQuery:
    """Filters for :meth:`EventStore.search_transactions`; ``None`` means any.

    Times filter on the start (``utc_from`` inclusive, ``utc_to`` exclusive).
    """

    branch_id: str | None = None
    counter_id: str | None = None
    unit_id: str | None = None
    staff_id: str | None = None
    utc_from: dt.datetime | None = None
    utc_to: dt.datetime | None = None
    rating: int | None = None
    rating_min: int | None = None
    rating_max: int | None = None
    suspect: bool | None = None
    limit: int = 100
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise InvalidInput(f"limit {self.limit} must be within 1..{MAX_PAGE}")
        if self.offset < 0:
            raise InvalidInput(f"offset {self.offset} must not be negative")


MAX_PAGE = 1000


@dataclass(frozen=True)
class Upload:
    """State of a resumable upload as tus reports it (``Upload-Offset``/``-Length``).

    ``complete`` with ``offset == length`` means HQ holds the clip: the unit sends nothing.
    """

    upload_id: str
    unit_id: str
    clip_id: str
    length: int
    sha256: str
    offset: int
    complete: bool


@dataclass(frozen=True)
class StoredClip:
    """A completed, verified clip; ``path`` is set by stores that keep local files."""

    unit_id: str
    clip_id: str
    size: int
    sha256: str
    completed_utc: dt.datetime
    path: Path | None


@dataclass(frozen=True)
class AuditRecord:
    """One audit log line: who did what to which object, when, from where."""

    seq: int
    utc: dt.datetime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    client: str
    detail: str
