"""Transaction search and one transaction's page of facts, scoped to the caller.

Every search and every view is written to the audit log before the answer leaves; if
the log cannot be written the request is refused (hq/api/users/bearer.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from hq.accounts import roles as perm
from hq.api.deps import HQDeps
from hq.api.derive import list_of, response_model, values_of
from hq.api.users.bearer import Bearer, BearerGate, Refused
from hq.storage import (
    SEARCH,
    TRANSACTION_VIEW,
    InvalidInput,
    StorageError,
    Transaction,
    TransactionQuery,
)
from hq.storage.models import MAX_PAGE

# Bounds keep values inside SQLite's 64-bit integers (an overflow would be a 500).
Rating = Annotated[int | None, Query(ge=0, le=100)]
Offset = Annotated[int, Query(ge=0, le=1 << 31)]


class ClipInfo(BaseModel):
    clip_id: str
    state: str | None = Field(None, description="As the unit reported it: closed, salvaged, cut")
    sha256: str | None
    size: int | None
    stored: bool = Field(..., description="Whether HQ holds the verified clip file")
    url: str | None = Field(None, description="Where to play or download it, when stored")


# What a transaction search shows: the stored transaction less its clip's details,
# which the detail view gives as ``clip`` (with whether HQ holds the file).
CLIP_DETAILS = ("clip_state", "clip_sha256", "clip_size")
TransactionOut = response_model("TransactionOut", Transaction, exclude=CLIP_DETAILS)
TransactionDetail = response_model("TransactionDetail", Transaction, base=TransactionOut,
                                   exclude=CLIP_DETAILS, extra={"clip": (ClipInfo | None, ...)})


def _txn_out(t: Transaction) -> dict[str, Any]:
    return values_of(t, TransactionOut)


def build_transactions_router(gate: BearerGate, deps: HQDeps) -> APIRouter:
    """``GET /transactions`` and ``GET /transactions/{unit_id}/{txn_id}``."""
    router = APIRouter()
    audit, principal = gate.audit, gate.principal

    @router.get("/transactions", response_model=list_of(TransactionOut))
    def search(request: Request, cred: Bearer,
               branch: str | None = None, counter: str | None = None,
               unit: str | None = None, staff: str | None = None,
               utc_from: Annotated[dt.datetime | None, Query(alias="from")] = None,
               utc_to: Annotated[dt.datetime | None, Query(alias="to")] = None,
               rating: Rating = None, rating_min: Rating = None, rating_max: Rating = None,
               suspect: bool | None = None,
               limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
               offset: Offset = 0) -> Any:
        """Transactions matching every given filter, newest first (``to`` exclusive)."""
        try:
            user = principal(cred, perm.SEARCH, request)
            query = TransactionQuery(
                branch_id=branch, counter_id=counter, unit_id=unit, staff_id=staff,
                utc_from=utc_from, utc_to=utc_to, rating=rating, rating_min=rating_min,
                rating_max=rating_max, suspect=suspect, limit=limit, offset=offset)
            found = deps.events.search_transactions(query, user.scope)
            audit(user, SEARCH, "transactions", str(request.url.query) or "*", request,
                  f"results={len(found)}")
        except Refused as r:
            return r.response(request)
        except (InvalidInput, OverflowError) as exc:
            # OverflowError: a time near year 1 or 9999 that UTC conversion pushes out.
            return Refused(400, "invalid_query", str(exc)).response(request)
        return [_txn_out(t) for t in found]

    @router.get("/transactions/{unit_id}/{txn_id}", response_model=TransactionDetail)
    def detail(unit_id: str, txn_id: str, request: Request, cred: Bearer) -> Any:
        """One transaction with what HQ knows of its clip."""
        try:
            user = principal(cred, perm.VIEW, request)
            txn = deps.events.transaction(txn_id, unit_id, user.scope)
            if txn is None:
                raise Refused(404, "not_found", f"no transaction {txn_id} of unit {unit_id}")
            audit(user, TRANSACTION_VIEW, "transaction", f"{unit_id}/{txn_id}", request, "")
        except Refused as r:
            return r.response(request)
        clip = None
        if txn.clip_id is not None:
            try:
                stored = deps.clips.open_clip(txn.clip_id, unit_id)
            except StorageError:
                stored = None
            clip = ClipInfo(
                clip_id=txn.clip_id, state=txn.clip_state,
                sha256=stored.sha256 if stored else txn.clip_sha256,
                size=stored.size if stored else txn.clip_size, stored=stored is not None,
                url=f"/v1/clips/{unit_id}/{txn.clip_id}" if stored else None)
        return TransactionDetail(**_txn_out(txn), clip=clip)

    return router
