"""One-time enrollment codes: HQ staff issue one per unit, the installer types it on the unit.

A code is 16 characters from an alphabet without look-alikes (no 0/O, 1/I/L, U), shown as
four groups of four: about 78 bits from :mod:`secrets`. HQ stores only its SHA-256; that
is enough because the code is random and long, not a password a person chose.
Redemption is one atomic SQLite transaction, so a code works exactly once even when two
requests race.

A code may be issued for a window (:func:`issue_for_window`): the unit is bound to it when
the code is issued, not when it is redeemed, so the binding is visible (and correctable)
at HQ before the installer arrives, and the unit's very first event is already filed
under its window. Rebinding later moves only what arrives afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from hq.clock import utc_now
from hq.org.authoring.store import OrgStore
from hq.org.records.errors import OrgError
from hq.pki.ca import InvalidUnitId, validate_unit_id

log = logging.getLogger(__name__)

ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
GROUPS, GROUP_LEN = 4, 4
CODE_LEN = GROUPS * GROUP_LEN


class EnrollmentError(Exception):
    """Base of every refusal to redeem (or issue) an enrollment code."""


class CodeMalformed(EnrollmentError):
    """Not something ``issue`` could have produced (wrong length or characters)."""


class CodeUnknown(EnrollmentError):
    """Well-formed, but HQ never issued it."""


class CodeExpired(EnrollmentError):
    """Issued, but its time to live has passed."""


class CodeReused(EnrollmentError):
    """Already redeemed once."""


class CodeWrongUnit(EnrollmentError):
    """Issued for a different unit id than the one trying to enroll."""


@dataclass(frozen=True)
class CodeRecord:
    """What HQ keeps about a code: never the code itself."""

    unit_id: str
    expires_at: dt.datetime
    redeemed_at: dt.datetime | None = None


def generate_code() -> str:
    """A fresh random code, formatted ``XXXX-XXXX-XXXX-XXXX``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))
    return "-".join(raw[i:i + GROUP_LEN] for i in range(0, CODE_LEN, GROUP_LEN))


def normalize_code(code: str) -> str:
    """Uppercase and drop separators/spaces, so typed variants of a code match."""
    raw = "".join(ch for ch in code.upper() if ch not in "- \t")
    if len(raw) != CODE_LEN or any(ch not in ALPHABET for ch in raw):
        raise CodeMalformed(
            f"an enrollment code is {GROUPS} groups of {GROUP_LEN} characters from {ALPHABET}")
    return raw


def code_hash(code: str) -> str:
    """SHA-256 (hex) of the normalised code: the only form HQ stores."""
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def check_redeem(record: CodeRecord | None, unit_id: str, now: dt.datetime) -> None:
    """Pure decision: raise why ``unit_id`` may not redeem a code with ``record``, else None.

    Reuse is checked before expiry so a replayed code is reported as such even after it
    would also have expired.
    """
    if record is None:
        raise CodeUnknown("this enrollment code was never issued (check for typos)")
    if record.redeemed_at is not None:
        raise CodeReused(
            f"this enrollment code was already used at {record.redeemed_at.isoformat()}; "
            "ask HQ for a new one")
    if record.unit_id != unit_id:
        raise CodeWrongUnit(
            f"this enrollment code was issued for another unit, not {unit_id!r}")
    if now >= record.expires_at:
        raise CodeExpired(
            f"this enrollment code expired at {record.expires_at.isoformat()}; "
            "ask HQ for a new one")


class EnrollmentCodes:
    """Issued enrollment codes, persisted (hashed) in a SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS codes (hash TEXT PRIMARY KEY, "
                         "unit_id TEXT NOT NULL, issued_at TEXT NOT NULL, "
                         "expires_at TEXT NOT NULL, redeemed_at TEXT)")

    def issue(self, unit_id: str, ttl: dt.timedelta, *, now: dt.datetime | None = None) -> str:
        """Issue a code for ``unit_id`` valid for ``ttl``; the plain code is returned once."""
        try:
            validate_unit_id(unit_id)
        except InvalidUnitId as exc:
            raise EnrollmentError(str(exc)) from None
        if ttl <= dt.timedelta(0):
            raise EnrollmentError(f"ttl must be positive, got {ttl}")
        moment = utc_now(now)
        code = generate_code()
        with self._db() as conn:
            conn.execute("INSERT INTO codes (hash, unit_id, issued_at, expires_at) "
                         "VALUES (?, ?, ?, ?)",
                         (code_hash(code), unit_id, moment.isoformat(),
                          (moment + ttl).isoformat()))
        log.info("issued enrollment code for unit %s, expires %s", unit_id,
                 (moment + ttl).isoformat())
        return code

    def redeem(self, code: str, unit_id: str, now: dt.datetime | None = None) -> None:
        """Consume ``code`` for ``unit_id`` or raise the matching :class:`EnrollmentError`."""
        moment = utc_now(now)
        # Refusals are raised, not logged: the caller (HQ's API) logs each one once.
        digest = code_hash(code)
        with self._db() as conn:
            # IMMEDIATE takes the write lock before reading: two racing redeems serialise here.
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT unit_id, expires_at, redeemed_at FROM codes "
                               "WHERE hash = ?", (digest,)).fetchone()
            record = None if row is None else CodeRecord(
                row[0], dt.datetime.fromisoformat(row[1]),
                None if row[2] is None else dt.datetime.fromisoformat(row[2]))
            check_redeem(record, unit_id, moment)
            conn.execute("UPDATE codes SET redeemed_at = ? WHERE hash = ?",
                         (moment.isoformat(), digest))
        log.info("unit %s redeemed its enrollment code", unit_id)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE in redeem).
        with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as conn:
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if conn.in_transaction:
                conn.execute("COMMIT")


def issue_for_window(codes: EnrollmentCodes, org: OrgStore, unit_id: str, window_id: str,
                     ttl: dt.timedelta, *, now: dt.datetime | None = None) -> str:
    """Bind ``unit_id`` to ``window_id`` (which must exist), then issue its code.

    EnrollmentError for a bad unit id, ttl or window; nothing is bound then.
    """
    try:
        validate_unit_id(unit_id)
    except InvalidUnitId as exc:
        raise EnrollmentError(str(exc)) from None
    if ttl <= dt.timedelta(0):
        raise EnrollmentError(f"ttl must be positive, got {ttl}")
    try:
        org.bind(unit_id, window_id, utc_now(now))
    except OrgError as exc:
        raise EnrollmentError(str(exc)) from None
    log.info("unit %s bound to window %s", unit_id, window_id)
    return codes.issue(unit_id, ttl, now=now)
