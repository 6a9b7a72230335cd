"""The HQ-user API: log in, search transactions, view one, play/download its clip.

Every clip request (allowed or refused) is written to the audit log before any byte of
the body leaves, and if the audit log cannot be written the clip is not sent.
Errors are JSON ``{"error": code, "detail": text}``.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from hq import passwords
from hq import roles as perm
from hq.api.deps import HQDeps
from hq.api.errors import error_response
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
from hq.storage.models import MAX_PAGE
from hq.storage.scope import Scope
from hq.users import (
    DEFAULT_LANGUAGE,
    DEFAULT_TOKEN_TTL,
    Contact,
    InvalidAccount,
    User,
    UserError,
    UserExists,
    UserStore,
)

log = logging.getLogger(__name__)

AUDIT_READ = "audit_read"
USER_CREATE = "user_create"
_bearer = HTTPBearer(auto_error=False, description="Token from POST /v1/auth/token")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
# Bounds keep values inside SQLite's 64-bit integers (an overflow would be a 500).
Rating = Annotated[int | None, Query(ge=0, le=100)]
Offset = Annotated[int, Query(ge=0, le=1 << 31)]


class Refused(Exception):
    """A request answered with a 4xx/503 JSON error; ``note`` is for the log line only."""

    def __init__(self, status: int, error: str, detail: str,
                 headers: dict[str, str] | None = None, *, note: str = "") -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers
        self.note = note

    def response(self, request: Request) -> JSONResponse:
        """The answer, logged once (hq.api.errors names the user and the client)."""
        return error_response(request, self.status, self.error, self.detail, self.headers,
                              note=self.note)


class ErrorBody(BaseModel):
    error: str
    detail: str


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=passwords.MAX_PASSWORD)


class TokenOut(BaseModel):
    token: str
    expires: dt.datetime


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=passwords.MIN_PASSWORD, max_length=passwords.MAX_PASSWORD)
    role: str = Field(..., description=f"One of {sorted(perm.ROLES)}")
    scope: str | None = Field(None, max_length=80,
                              description="'all', 'branch:ID' or 'hall:ID' (admin: all)")
    language: str = Field(DEFAULT_LANGUAGE, max_length=8, description="zh-CN or en")
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=32)
    im: str | None = Field(None, max_length=128)


class UserOut(BaseModel):
    username: str
    role: str
    enabled: bool
    created_utc: dt.datetime
    scope: str
    language: str
    email: str | None
    phone: str | None
    im: str | None


def user_out(u: User) -> UserOut:
    """The API's view of an account."""
    return UserOut(username=u.username, role=u.role, enabled=u.enabled,
                   created_utc=u.created_utc, scope=u.scope.text(), language=u.language,
                   email=u.contact.email, phone=u.contact.phone, im=u.contact.im)


class ClipInfo(BaseModel):
    clip_id: str
    state: str | None = Field(None, description="As the unit reported it: closed, salvaged, cut")
    sha256: str | None
    size: int | None
    stored: bool = Field(..., description="Whether HQ holds the verified clip file")
    url: str | None = Field(None, description="Where to play or download it, when stored")


class TransactionOut(BaseModel):
    unit_id: str
    txn_id: str
    branch_id: str | None
    counter_id: str | None
    staff_id: str | None
    session_id: str | None
    started_utc: dt.datetime | None
    ended_utc: dt.datetime | None
    duration_s: float | None
    end_reason: str | None
    clock_synced: bool | None
    rating: int | None
    rating_outcome: str | None
    rating_suspect: bool | None
    clip_id: str | None


class TransactionDetail(TransactionOut):
    clip: ClipInfo | None


class AuditOut(BaseModel):
    seq: int
    utc: dt.datetime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    client: str
    detail: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 503)}


def _txn_out(t: Transaction) -> dict[str, Any]:
    return {k: getattr(t, k) for k in TransactionOut.model_fields}


def _printable(text: str) -> str:
    """Text safe for the audit log: control characters (NUL included) escaped, bounded."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)[:512]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def build_users_router(deps: HQDeps, users: UserStore | None = None, *,
                       token_ttl: dt.timedelta = DEFAULT_TOKEN_TTL,
                       clock: Callable[[], dt.datetime] | None = None) -> APIRouter:
    """Routes for HQ users; opens ``users.db`` beside the config folder if not given."""
    store = users if users is not None else UserStore(deps.config_dir.parent / "users.db")
    now = clock or (lambda: dt.datetime.now(dt.UTC))
    router = APIRouter(prefix="/v1", tags=["hq-users"], responses=_ERRORS)

    def audit(user: User | None, action: str, object_type: str, object_id: str,
              request: Request, detail: str) -> None:
        try:
            deps.audit.append(actor=user.username if user else "anonymous",
                              role=user.role if user else "none", action=action,
                              object_type=object_type, object_id=_printable(object_id),
                              client=_client(request), detail=_printable(detail))
        except (StorageError, sqlite3.Error) as exc:
            # Fail closed: a recording read that cannot be recorded is not served.
            log.error("audit log write failed (%s); refusing %s", exc, action)
            raise Refused(503, "audit_unavailable",
                          "the audit log cannot be written; try again later") from exc

    def authenticated(cred: HTTPAuthorizationCredentials | None, request: Request) -> User:
        user = store.user_for_token(cred.credentials, now()) if cred else None
        if user is None:
            raise Refused(401, "unauthenticated", "a valid bearer token is required",
                          {"WWW-Authenticate": "Bearer"})
        request.state.username = user.username  # refusals' log lines name the user
        return user

    def require(user: User, action: str, request: Request) -> User:
        if not user.may(action):
            raise Refused(403, "forbidden", f"role {user.role} may not {action}")
        return user

    def principal(cred: HTTPAuthorizationCredentials | None, action: str,
                  request: Request) -> User:
        return require(authenticated(cred, request), action, request)

    @router.post("/auth/token", response_model=TokenOut)
    def login(body: Credentials, request: Request) -> Any:
        """Exchange a username and password for a bearer token."""
        user = store.authenticate(body.username, body.password)
        if user is None:
            return Refused(401, "bad_credentials", "wrong username or password",
                           note=f"login as {_printable(body.username[:64])!r}"
                           ).response(request)
        issued = store.issue_token(user.username, token_ttl, now=now())
        return TokenOut(token=issued.token, expires=issued.expires)

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

    @router.get("/transactions", response_model=list[TransactionOut])
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
            found = deps.events.search_transactions(query)
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
            txn = deps.events.transaction(txn_id, unit_id)
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

    @router.get("/audit", response_model=list[AuditOut])
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
            records = deps.audit.query(actor=actor, action=action, object_type=object_type,
                                       object_id=object_id, utc_from=utc_from, utc_to=utc_to,
                                       limit=limit, offset=offset)
            # Reading who watched what is itself an access to personal data.
            audit(user, AUDIT_READ, "audit", str(request.url.query) or "*", request,
                  f"results={len(records)}")
        except Refused as r:
            return r.response(request)
        except (InvalidInput, OverflowError) as exc:
            # OverflowError: a time near year 1 or 9999 that UTC conversion pushes out.
            return Refused(400, "invalid_query", str(exc)).response(request)
        return [AuditOut(**vars(r)) for r in records]

    @router.post("/users", response_model=UserOut, status_code=201)
    def create_user(body: NewUser, request: Request, cred: Bearer) -> Any:
        """Create an account with a role (admin only)."""
        try:
            admin = principal(cred, perm.MANAGE_USERS, request)
            try:
                scope = Scope.parse(body.scope) if body.scope is not None else None
            except ValueError as exc:
                raise InvalidAccount(str(exc)) from exc
            problem = perm.scope_rule(body.role, scope)
            if problem:
                raise InvalidAccount(problem)
            created = store.create_user(
                body.username, body.password, body.role, scope=scope, language=body.language,
                contact=Contact(body.email, body.phone, body.im), now=now())
            audit(admin, USER_CREATE, "user", created.username, request,
                  f"role={created.role}; scope={created.scope.text()}")
        except Refused as r:
            return r.response(request)
        except UserExists as exc:
            return Refused(409, "user_exists", str(exc)).response(request)
        except UserError as exc:
            return Refused(400, "invalid_user", str(exc)).response(request)
        return user_out(created)

    return router
