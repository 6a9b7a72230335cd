"""Signed acknowledgement links: anyone holding the link may acknowledge that one thread.

The token is ``thread.recipient.expiry.signature`` with an HMAC-SHA256 over the first
three under a key kept in HQ's data folder (``alerts/ack.key``, mode 0600, made once).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_FILE = "ack.key"
LINK_TTL = dt.timedelta(days=3)


class BadLink(ValueError):
    """A token that is malformed, forged, for another thread or expired (HTTP 403)."""


def load_key(folder: Path) -> bytes:
    """The link key, created on first use with mode 0600 (never readable by others)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
        f.flush()
        os.fsync(f.fileno())
    return path.read_bytes()


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def _sig(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:40]


def sign(key: bytes, thread_id: int, recipient: str, now: dt.datetime,
         ttl: dt.timedelta = LINK_TTL) -> str:
    """A token acknowledging ``thread_id`` on behalf of ``recipient``."""
    payload = f"{thread_id}.{_b64(recipient)}.{int((now + ttl).timestamp())}"
    return f"{payload}.{_sig(key, payload)}"


@dataclass(frozen=True)
class LinkClaim:
    thread_id: int
    recipient: str


def verify(key: bytes, token: str, thread_id: int, now: dt.datetime) -> LinkClaim:
    """The claim of a valid token for ``thread_id``; BadLink naming what is wrong."""
    parts = token.split(".")
    if len(parts) != 4:
        raise BadLink("the link's token is malformed")
    payload, sig = ".".join(parts[:3]), parts[3]
    if not hmac.compare_digest(_sig(key, payload), sig):
        raise BadLink("the link's signature does not match")
    try:
        tid, recipient, exp = int(parts[0]), _unb64(parts[1]), int(parts[2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadLink("the link's token is malformed") from exc
    if tid != thread_id:
        raise BadLink("the link is for another alert")
    if now.timestamp() > exp:
        raise BadLink("the link has expired")
    return LinkClaim(tid, recipient)
