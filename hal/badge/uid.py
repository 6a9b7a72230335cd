"""Badge UIDs: normalisation and the salted hash the roster stores. Pure."""

from __future__ import annotations

import hashlib
import hmac
import re

UID_MIN_CHARS = 4
UID_MAX_CHARS = 32
_SEPARATORS = re.compile(r"[:\-\s]")
_UID = re.compile(rf"[0-9A-F]{{{UID_MIN_CHARS},{UID_MAX_CHARS}}}")


class BadgeUidError(ValueError):
    """Text that is not a badge UID."""


def normalise_badge_uid(uid: str) -> str:
    """Canonical form of a UID as readers print it.

    Readers print hex (``04A1B2C3``, ``04:a1:b2:c3``, ``0x04A1B2C3``) or decimal
    (``0012345678``); both are kept as the digits read, upper-cased, without separators or
    a ``0x`` prefix. Leading zeros are kept: they are part of a fixed-width UID. Raises
    BadgeUidError for anything else.
    """
    text = _SEPARATORS.sub("", uid.strip()).upper()
    if text.startswith("0X"):
        text = text[2:]
    if not _UID.fullmatch(text):
        shown = uid if len(uid) <= 40 else uid[:40] + "..."
        raise BadgeUidError(
            f"not a badge UID: {shown!r} (want {UID_MIN_CHARS}-{UID_MAX_CHARS} hex or decimal "
            "digits, optionally separated by ':' or '-')"
        )
    return text


def hash_badge_uid(uid: str, salt: str | bytes) -> str:
    """Salted hash of a UID, as the roster stores it (the UID itself is never stored).

    Defined as ``HMAC-SHA256(key=salt, msg=normalise_badge_uid(uid) as ASCII)`` in lower-case
    hex; HQ computes the same to build the roster. Raises BadgeUidError for a bad UID and
    ValueError for an empty salt (an unsalted hash of a short UID is trivially reversed).
    """
    key = salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)
    if not key:
        raise ValueError("badge hash salt must not be empty")
    return hmac.new(key, normalise_badge_uid(uid).encode("ascii"), hashlib.sha256).hexdigest()
