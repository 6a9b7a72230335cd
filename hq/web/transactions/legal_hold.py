"""Legal holds from the transaction page: ``POST /transactions/{unit}/{txn}/hold`` and
``.../release`` (a small form each, CSRF-checked by the session, roles of
:data:`hq.retention.holds.HOLD_ROLES`, the transaction looked up in the user's scope).

Both are written to the audit log in the same step as the change (hq/retention/actions.py).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from hq.accounts import roles
from hq.accounts.users import User
from hq.api.deps import HQDeps
from hq.retention import actions, holds
from hq.retention.holds import HOLD_ROLES, HoldError
from hq.storage import StorageError
from hq.web.auth import PageError, client_address, require
from hq.web.live.db import conn_for
from hq.web.transactions.query import one

Viewer = Annotated[User, Depends(require(roles.VIEW))]


def hold_context(deps: HQDeps, user: User, unit_id: str, txn_id: str) -> dict[str, Any]:
    """What the transaction page shows of holds: the open hold, past ones, whether this
    user may hold or release, and when retention deleted the clip (if it did)."""
    assert deps.retention is not None  # opened once: retention's tables exist
    conn = conn_for(deps)
    history = holds.history(conn, unit_id, txn_id)
    deleted = conn.execute(
        "SELECT d.deleted_utc FROM retention_clips_deleted d JOIN transactions t ON "
        "t.unit_id = d.unit_id AND t.clip_id = d.clip_id WHERE t.unit_id = ? AND "
        "t.txn_id = ?", [unit_id, txn_id]).fetchone()
    return {"hold": next((h for h in history if h.open), None),
            "past_holds": [h for h in history if not h.open],
            "can_hold": user.role in HOLD_ROLES,
            "clip_deleted_utc": deleted[0] if deleted else None}


def _change(deps: HQDeps, request: Request, user: User, unit_id: str, txn_id: str,
            text: str, release: bool) -> Response:
    if user.role not in HOLD_ROLES:
        raise PageError(403, "Your role may not place or release legal holds.")
    if one(conn_for(deps), user.scope, unit_id, txn_id) is None:
        raise PageError(404, "No transaction %(id)s here.", id=f"{unit_id}/{txn_id}")
    now = dt.datetime.now(dt.UTC)
    by, role, client = user.username, user.role, client_address(request)
    try:
        if release:
            actions.release_hold(deps.retention, deps.audit, unit_id, txn_id, note=text,
                                 by=by, role=role, client=client, now=now)
        else:
            actions.set_hold(deps.retention, deps.audit, unit_id, txn_id, reason=text,
                             by=by, role=role, client=client, now=now)
    except HoldError as exc:
        raise PageError(exc.status, "%(problem)s", problem=str(exc)) from None
    except (StorageError, sqlite3.Error):  # the audit log could not be written: nothing changed
        raise PageError(503, "The audit log cannot be written; nothing was changed.") from None
    return RedirectResponse(f"/transactions/{unit_id}/{txn_id}#hold", status_code=303)


def build_legal_hold_router(deps: HQDeps) -> APIRouter:
    """POST /transactions/{unit}/{txn}/hold and /release."""
    router = APIRouter(include_in_schema=False)

    @router.post("/transactions/{unit_id}/{txn_id}/hold")
    def place(unit_id: str, txn_id: str, request: Request, user: Viewer,
              reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
        return _change(deps, request, user, unit_id, txn_id, reason, release=False)

    @router.post("/transactions/{unit_id}/{txn_id}/release")
    def release(unit_id: str, txn_id: str, request: Request, user: Viewer,
                note: Annotated[str, Form(max_length=2000)] = "") -> Response:
        return _change(deps, request, user, unit_id, txn_id, note, release=True)

    return router
