"""/audit: the audit log, filtered and paged, newest first; reading it is audited too.

"Recording views" lists every transaction view, clip play and download. A reader whose
scope is narrower than ``all`` sees only the records about recordings of units in
their scope (the storage query applies it, as for /v1/audit).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from hq.accounts import roles
from hq.accounts.logins import LOGIN, LOGIN_FAILED, printable
from hq.accounts.users import User
from hq.api.deps import HQDeps
from hq.storage import CLIP_DOWNLOAD, CLIP_PLAY, SEARCH, TRANSACTION_VIEW, StorageError
from hq.web.auth import PageError, client_address, require
from hq.web.render import render

PAGE = 50
RECORDING_VIEWS = (TRANSACTION_VIEW, CLIP_PLAY, CLIP_DOWNLOAD)
ACTIONS = (*RECORDING_VIEWS, SEARCH, LOGIN, LOGIN_FAILED, "audit_read", "user_create",
           "user_disable", "user_enable", "user_password", "user_unlock", "user_revoke",
           "user_role")
Reader = Annotated[User, Depends(require(roles.READ_AUDIT))]
Short = Annotated[str | None, Query(max_length=128)]


def _day(text: str | None, field: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.UTC)
    except ValueError as exc:
        raise PageError(400, "The field %(field)s is not valid: %(why)s", field=field,
                        why="YYYY-MM-DD") from exc


def build_audit_router(deps: HQDeps) -> APIRouter:
    """GET /audit."""
    router = APIRouter(include_in_schema=False)

    @router.get("/audit")
    def audit_page(request: Request, user: Reader, actor: Short = None,
                   action: Short = None, object_id: Short = None,
                   day_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                   day_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
                   page: Annotated[int, Query(ge=0, le=100_000)] = 0) -> Response:
        if action and action != "recordings" and action not in ACTIONS:
            raise PageError(400, "The field %(field)s is not valid: %(why)s", field="action",
                            why=action)
        start, end = _day(day_from, "from"), _day(day_to, "to")
        units = (None if user.scope.level == "all"
                 else deps.events.units_in_scope(user.scope))
        records = deps.audit.query(
            actor=actor or None, object_id=object_id or None,
            action=action if action and action != "recordings" else None,
            actions=RECORDING_VIEWS if action == "recordings" else None,
            utc_from=start, utc_to=end + dt.timedelta(days=1) if end else None,
            limit=PAGE + 1, offset=page * PAGE, object_units=units, newest_first=True)
        try:
            deps.audit.append(actor=user.username, role=user.role, action="audit_read",
                              object_type="audit", object_id=printable(
                                  str(request.url.query) or "*"),
                              client=client_address(request),
                              detail=f"page={page}; results={min(len(records), PAGE)}")
        except (StorageError, sqlite3.Error) as exc:
            # Fail closed: who read the log of who watched what must be recorded.
            raise PageError(503, "The audit log cannot be written; try again later.") from exc
        filters = {k: v for k, v in (("actor", actor), ("action", action),
                                     ("object_id", object_id), ("from", day_from),
                                     ("to", day_to)) if v}

        def link(p: int) -> str:
            return "/audit?" + urlencode({**filters, "page": p})

        return render(request, "audit.html", user, records=records[:PAGE], actions=ACTIONS,
                      filters=filters, page=page,
                      prev_url=link(page - 1) if page > 0 else None,
                      next_url=link(page + 1) if len(records) > PAGE else None)

    return router
