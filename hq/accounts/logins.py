"""One login attempt, for the API's token and the pages' session alike: throttled, audited.

Every attempt is written to the audit log, successes as ``login`` and failures as
``login_failed`` with the reason (bad_credentials, locked_now, locked, throttled_user,
throttled_address); the password is never written anywhere.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3

from hq.accounts.users import LoginOutcome, UserStore
from hq.storage import AuditLog, StorageError

log = logging.getLogger(__name__)

LOGIN = "login"
LOGIN_FAILED = "login_failed"


def printable(text: str, limit: int = 512) -> str:
    """Text safe for logs and the audit log: control characters escaped, bounded."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)[:limit]


def attempt_login(users: UserStore, audit: AuditLog, username: str, password: str, *,
                  client: str, via: str, now: dt.datetime) -> LoginOutcome:
    """Check the password behind the throttle and audit the attempt (``via``: api/page)."""
    outcome = users.login(username, password, client, now)
    name = printable(username[:64]) or "-"
    user = outcome.user
    detail = f"via={via}" if user else f"reason={outcome.reason}; via={via}"
    try:
        audit.append(actor=name, role=user.role if user else "none",
                     action=LOGIN if user else LOGIN_FAILED, object_type="user",
                     object_id=name, client=client, detail=detail, utc=now)
    except (StorageError, sqlite3.Error) as exc:
        log.error("audit log write failed (%s) for a login of %r", exc, name)
    if user is None:
        log.info("login of %r from %s refused: %s", name, client, outcome.reason)
    return outcome
