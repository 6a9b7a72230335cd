"""Reading the audit log: who searched, viewed, played or downloaded what.

Reading it is itself an access to personal data, so each read is audited too; outside
the "all" scope only records about the caller's own units are shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from hq.accounts import roles as perm
from hq.api.deps import HQDeps
from hq.api.derive import list_of, response_model
from hq.api.users.bearer import Bearer, BearerGate, Refused
from hq.api.users.transactions import Offset
from hq.storage import InvalidInput
from hq.storage.models import MAX_PAGE, AuditRecord

AUDIT_READ = "audit_read"
AuditOut = response_model("AuditOut", AuditRecord)


def build_audit_router(gate: BearerGate, deps: HQDeps) -> APIRouter:
    """``GET /audit``."""
    router = APIRouter()
    audit, principal = gate.audit, gate.principal

    @router.get("/audit", response_model=list_of(AuditOut))
    def audit_log(request: Request, cred: Bearer, actor: str | None = None,
                  action: str | None = None, object_type: str | None = None,
                  object_id: str | None = None,
                  utc_from: Annotated[dt.datetime | None, Query(alias="from")] = None,
                  utc_to: Annotated[dt.datetime | None, Query(alias="to")] = None,
                  limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
                  offset: Offset = 0) -> Any:
        """Audit records matching every filter, oldest first (``to`` exclusive)."""
        try:
            user = principal(cred, perm.READ_AUDIT, request)
            units = (None if user.scope.level == "all"
                     else deps.events.units_in_scope(user.scope))
            records = deps.audit.query(actor=actor, action=action, object_type=object_type,
                                       object_id=object_id, utc_from=utc_from, utc_to=utc_to,
                                       limit=limit, offset=offset, object_units=units)
            # Reading who watched what is itself an access to personal data.
            audit(user, AUDIT_READ, "audit", str(request.url.query) or "*", request,
                  f"results={len(records)}")
        except Refused as r:
            return r.response(request)
        except (InvalidInput, OverflowError) as exc:
            # OverflowError: a time near year 1 or 9999 that UTC conversion pushes out.
            return Refused(400, "invalid_query", str(exc)).response(request)
        return [AuditOut(**vars(r)) for r in records]

    return router
