"""Audit records written by pages: every recording view and download, failing closed.

A page that shows or sends a recording calls :func:`record` *before* it answers; if the
audit log cannot be written it raises a 503 page and the recording is not shown (the
same rule as the /v1 API). Use the action names of hq.storage (TRANSACTION_VIEW,
CLIP_PLAY, CLIP_DOWNLOAD, SEARCH) so /audit lists page and API reads together.
"""

from __future__ import annotations

import logging
import sqlite3

from fastapi import Request

from hq.accounts.logins import printable
from hq.accounts.users import User
from hq.storage import StorageError
from hq.web.auth import PageError, client_address, web

log = logging.getLogger(__name__)


def record(request: Request, user: User, action: str, object_type: str, object_id: str,
           detail: str = "") -> None:
    """Append one record (actor, role, address from the request); 503 page if it fails."""
    try:
        web(request).deps.audit.append(
            actor=user.username, role=user.role, action=action, object_type=object_type,
            object_id=printable(object_id), client=client_address(request),
            detail=printable(f"{detail}; via=page" if detail else "via=page"))
    except (StorageError, sqlite3.Error) as exc:
        log.error("audit log write failed (%s); refusing %s of %s", exc, action, object_id)
        raise PageError(503, "The audit log cannot be written; try again later.") from exc
