"""The HQ-user API: log in, search transactions, view one, play/download its clip.

Every clip request (allowed or refused) is written to the audit log before any byte of
the body leaves, and if the audit log cannot be written the clip is not sent.
Errors are JSON ``{"error": code, "detail": text}``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from hq.accounts import passwords
from hq.accounts import roles as perm
from hq.accounts.logins import attempt_login, printable
from hq.accounts.users import (
    DEFAULT_TOKEN_TTL,
    IssuedToken,
    User,
    UserStore,
)
from hq.api.deps import HQDeps
from hq.api.derive import list_of, response_model, values_of
from hq.api.errors import ErrorBody
from hq.api.users.accounts import build_accounts_router
from hq.api.users.bearer import ERRORS, Bearer, BearerGate, Refused, client_of
from hq.storage import (
    CLIP_DOWNLOAD,
    CLIP_PLAY,
    SEARCH,
    TRANSACTION_VIEW,
    AmbiguousId,
    ClipNotFound,
    InvalidInput,
    RangeNotSatisfiable,
    StorageError,
    Transaction,
    TransactionQuery,
    parse_range,
)
from hq.storage.models import MAX_PAGE, AuditRecord

log = logging.getLogger(__name__)

AUDIT_READ = "audit_read"
# Bounds keep values inside SQLite's 64-bit integers (an overflow would be a 500).
Rating = Annotated[int | None, Query(ge=0, le=100)]
Offset = Annotated[int, Query(ge=0, le=1 << 31)]


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=passwords.MAX_PASSWORD)


# The token as issued, less whose it is (the caller knows).
TokenOut = response_model("TokenOut", IssuedToken, exclude=("username",), doc="")


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
AuditOut = response_model("AuditOut", AuditRecord)


def _txn_out(t: Transaction) -> dict[str, Any]:
    return values_of(t, TransactionOut)


def build_users_router(deps: HQDeps, users: UserStore | None = None, *,
                       token_ttl: dt.timedelta = DEFAULT_TOKEN_TTL,
                       clock: Callable[[], dt.datetime] | None = None) -> APIRouter:
    """Routes for HQ users; opens ``users.db`` beside the config folder if not given."""
    store = users if users is not None else UserStore(deps.config_dir.parent / "users.db")
    now = clock or (lambda: dt.datetime.now(dt.UTC))
    router = APIRouter(prefix="/v1", tags=["hq-users"], responses=ERRORS)

    gate = BearerGate(store, deps.audit, now)
    audit, authenticated, principal = gate.audit, gate.authenticated, gate.principal
    require = gate.require

    @router.post("/auth/token", response_model=TokenOut)
    def login(body: Credentials, request: Request) -> Any:
        """Exchange a username and password for a bearer token."""
        outcome = attempt_login(store, deps.audit, body.username, body.password,
                                client=client_of(request), via="api", now=now())
        user = outcome.user
        if user is None:
            note = f"login as {printable(body.username[:64])!r}: {outcome.reason}"
            if outcome.retry_after_s or outcome.reason == "locked":
                # Throttled and locked look alike, so a lock does not reveal the account.
                return Refused(429, "too_many_failures",
                               "too many failed logins; try again later or ask an admin",
                               {"Retry-After": str(max(outcome.retry_after_s, 60))},
                               note=note).response(request)
            return Refused(401, "bad_credentials", "wrong username or password",
                           note=note).response(request)
        issued = store.issue_token(user.username, token_ttl, now=now())
        return TokenOut(**values_of(issued, TokenOut))

    @router.delete("/auth/token", status_code=204, response_class=Response)
    def logout(request: Request, cred: Bearer) -> Response:
        """Revoke the bearer token this request carries."""
        try:
            user = authenticated(cred, request)
        except Refused as r:
            return r.response(request)
        assert cred is not None  # authenticated() refused a missing token
        store.revoke_token(cred.credentials)
        log.info("user %s logged out", user.username)
        return Response(status_code=204)

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

    @router.get("/clips/{unit_id}/{clip_id}", response_class=StreamingResponse,
                responses={200: {"content": {"video/mp4": {}}},
                           206: {"content": {"video/mp4": {}}, "description": "A byte range"},
                           416: {"model": ErrorBody}})
    def clip(unit_id: str, clip_id: str, request: Request, cred: Bearer) -> Response:
        """The clip's MP4; a ``Range`` header (as a video element sends) plays/seeks."""
        header = request.headers.get("range")
        action = CLIP_PLAY if header is not None else CLIP_DOWNLOAD
        need = perm.PLAY if header is not None else perm.DOWNLOAD
        ident = f"{unit_id}/{clip_id}"
        asked = f"range={header[:64]}" if header is not None else "range=none"
        user: User | None = None
        try:
            try:
                user = authenticated(cred, request)
                require(user, need, request)
                if not deps.events.clip_in_scope(unit_id, clip_id, user.scope):
                    # Outside the caller's scope a clip does not exist, guessed id or not.
                    raise ClipNotFound(f"no clip {clip_id} of unit {unit_id}")
                stored = deps.clips.open_clip(clip_id, unit_id)
                if_range = request.headers.get("if-range")
                if if_range is not None and if_range != f'"{stored.sha256}"':
                    header = None  # the client's copy is stale: send the whole new one
                span = parse_range(header, stored.size)
            except Refused as r:
                audit(user, action, "clip", ident, request, f"refused={r.status}; {asked}")
                raise
            except (ClipNotFound, InvalidInput, AmbiguousId) as exc:
                audit(user, action, "clip", ident, request, f"refused=404; {asked}")
                raise Refused(404, "not_found", str(exc)) from exc
            except RangeNotSatisfiable as exc:
                audit(user, action, "clip", ident, request, f"refused=416; {asked}")
                raise Refused(416, "range_not_satisfiable", str(exc),
                              {"Content-Range": exc.content_range}) from exc
            start, end = (span.start, span.end) if span else (0, stored.size - 1)
            audit(user, action, "clip", ident, request,
                  f"sent={start}-{end}/{stored.size}; {asked}")
        except Refused as r:
            return r.response(request)
        headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1),
                   "ETag": f'"{stored.sha256}"', "Cache-Control": "private, no-store",
                   "Content-Disposition": f'inline; filename="{clip_id}.mp4"'}
        if span is not None:
            headers["Content-Range"] = span.content_range
        log.info("clip %s bytes %d-%d to %s (%s)", ident, start, end,
                 user.username if user else "?", action)
        return StreamingResponse(deps.clips.read_range(stored, start, end),
                                 status_code=206 if span else 200, media_type="video/mp4",
                                 headers=headers)

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

    router.include_router(build_accounts_router(gate, store))
    return router
