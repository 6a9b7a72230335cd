"""The organisation's JSON API under /v1/org: authoring (manage_org within the author's scope,
see hq/org/records/authority.py) and scoped reads.

Writes take one JSON object per record; a bad value answers 422 with every problem naming
its field and rule, and nothing is written. Imports take the file itself as the request
body (CSV or XLSX) and answer 422 with each bad row's number and reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from hq.accounts import roles
from hq.accounts.users import User, UserStore
from hq.api.deps import HQDeps
from hq.api.errors import ApiError, ErrorBody, error_response
from hq.org.config.versions import ConfigVersion, document, versions_of
from hq.org.importing.files import ImportRefused, import_file, template_bytes
from hq.org.records import queries
from hq.org.records.errors import OrgConflict, OrgError, OrgForbidden, OrgInvalid, OrgNotFound
from hq.org.schedules.periods import periods_in
from hq.org.units.overview import unit_overview
from hq.pki.enrollment import EnrollmentError, issue_for_window
from hq.storage.scope import Scope

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="Token from POST /v1/auth/token")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
KIND_OF = {"branches": "branch", "halls": "hall", "windows": "window", "staff": "staff",
           "shifts": "shift", "templates": "template", "leave": "leave", "rules": "rules",
           "zones": "zone", "settings": "settings", "periods": "period"}
Authored = Literal["branches", "halls", "windows", "staff", "shifts", "templates", "leave",
                   "rules", "zones", "settings", "periods"]
Deletable = Literal["branches", "halls", "windows", "shifts", "templates", "leave", "periods"]
ImportKind = Literal["staff", "shifts", "leave", "periods"]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422)}


class Stored(BaseModel):
    id: str
    new_versions: list[dict[str, Any]] = Field(
        ..., description="Config versions this change made (window_id, version, sha256).")


class Binding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window_id: str = Field(..., min_length=1, max_length=64)


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: str = Field(..., min_length=1, max_length=64)
    window_id: str = Field(..., min_length=1, max_length=64)
    ttl_hours: float = Field(72.0, gt=0, le=24 * 30)


class CodeOut(BaseModel):
    unit_id: str
    window_id: str
    code: str = Field(..., description="Shown once; HQ keeps only its hash.")


def _versions(vs: list[ConfigVersion]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(v) for v in vs]


def scope_of(user: User) -> Scope:
    """The part of the tree ``user`` may read."""
    return user.scope


def _refusal(exc: OrgError) -> ApiError:
    if isinstance(exc, OrgInvalid):
        return ApiError(422, "invalid", "; ".join(exc.problems))
    if isinstance(exc, OrgNotFound):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, OrgForbidden):
        return ApiError(403, "forbidden", str(exc))
    if isinstance(exc, OrgConflict):
        return ApiError(409, "conflict", str(exc))
    return ApiError(400, "bad_request", str(exc))


def build_org_router(deps: HQDeps, users: UserStore | None = None, *,
                     clock: Callable[[], dt.datetime] | None = None) -> APIRouter:
    """Routes of /v1/org; accounts from ``users`` or the deps' store."""
    store = users if users is not None else deps.user_store()
    now = clock or (lambda: dt.datetime.now(dt.UTC))
    router = APIRouter(prefix="/v1/org", tags=["organisation"], responses=_ERRORS)

    def user(request: Request, cred: Bearer) -> User:
        found = store.user_for_token(cred.credentials, now()) if cred else None
        if found is None:
            raise ApiError(401, "unauthenticated", "a valid bearer token is required",
                           {"WWW-Authenticate": "Bearer"})
        request.state.username = found.username
        if not found.may(roles.FIGURES):
            raise ApiError(403, "forbidden", f"role {found.role} may not read the organisation")
        return found

    def admin(request: Request, cred: Bearer) -> User:
        found = user(request, cred)
        if not found.may(roles.MANAGE_ORG):
            raise ApiError(403, "forbidden", f"role {found.role} may not change the "
                                             "organisation")
        return found

    def whole(request: Request, cred: Bearer) -> User:
        found = admin(request, cred)
        if found.scope.level != "all":
            raise ApiError(403, "forbidden", "only the whole organisation's scope may do "
                                             f"this; yours is {found.scope.text()}")
        return found

    reader, writer, owner = Depends(user), Depends(admin), Depends(whole)

    @router.get("/tree")
    def tree(who: User = reader) -> list[dict[str, Any]]:
        """Branches, halls, windows and bound units in the caller's scope."""
        with deps.org.reading() as conn:
            return queries.tree(conn, scope_of(who))

    @router.post("/enroll-codes", response_model=CodeOut, status_code=201)
    def enroll_code(body: CodeRequest, who: User = owner) -> CodeOut:
        """Bind a unit to a window and issue its one-time enrollment code (admin only)."""
        try:
            code = issue_for_window(deps.codes, deps.org, body.unit_id, body.window_id,
                                    dt.timedelta(hours=body.ttl_hours), now=now())
        except EnrollmentError as exc:
            raise ApiError(422, "invalid", str(exc)) from None
        log.info("enrollment code for unit %s (window %s) issued by %s", body.unit_id,
                 body.window_id, who.username)
        return CodeOut(unit_id=body.unit_id, window_id=body.window_id, code=code)

    # Fixed paths above: the generic /{kind} would otherwise catch them.
    @router.post("/{kind}", response_model=Stored)
    def author(kind: Authored,
               body: Annotated[dict[str, Any], Body(description="One record")],
               who: User = writer) -> Stored:
        """Add or replace one record (an id that exists is replaced); admin only."""
        try:
            ident, made = deps.org.author(KIND_OF[kind], body, now(), who.scope)
        except OrgError as exc:
            raise _refusal(exc) from None
        log.info("%s %s stored by %s; %d new config version(s)", KIND_OF[kind], ident,
                 who.username, len(made))
        return Stored(id=ident, new_versions=_versions(made))

    @router.delete("/{kind}/{ident}", response_model=Stored)
    def delete(kind: Deletable, ident: str, who: User = writer) -> Stored:
        """Remove one record; 409 while something still refers to it."""
        try:
            made = deps.org.delete(KIND_OF[kind], ident, now(), who.scope)
        except OrgError as exc:
            raise _refusal(exc) from None
        log.info("%s %s deleted by %s", KIND_OF[kind], ident, who.username)
        return Stored(id=ident, new_versions=_versions(made))

    @router.get("/staff")
    def staff(who: User = reader) -> list[dict[str, Any]]:
        """Staff whose home branch is in scope."""
        with deps.org.reading() as conn:
            return queries.staff(conn, scope_of(who))

    @router.get("/shifts")
    def shifts(who: User = reader,
               utc_from: Annotated[dt.datetime | None, Query(alias="from")] = None,
               utc_to: Annotated[dt.datetime | None, Query(alias="to")] = None,
               staff_no: Annotated[str | None, Query(alias="staff", max_length=32)] = None,
               limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> list[dict[str, Any]]:
        """Dated shifts at windows in scope overlapping [from, to)."""
        try:
            with deps.org.reading() as conn:
                return queries.shifts(conn, scope_of(who), utc_from, utc_to, staff_no, limit)
        except OverflowError as exc:
            raise ApiError(400, "invalid_query", str(exc)) from None

    @router.get("/templates")
    def templates(who: User = reader) -> list[dict[str, Any]]:
        """Weekly shift templates at windows in scope."""
        with deps.org.reading() as conn:
            return queries.templates(conn, scope_of(who))

    @router.get("/leave")
    def leave(who: User = reader,
              utc_from: Annotated[dt.datetime | None, Query(alias="from")] = None,
              utc_to: Annotated[dt.datetime | None, Query(alias="to")] = None
              ) -> list[dict[str, Any]]:
        """Leave and away-on-business of staff in scope overlapping [from, to)."""
        try:
            with deps.org.reading() as conn:
                return queries.leave(conn, scope_of(who), utc_from, utc_to)
        except OverflowError as exc:
            raise ApiError(400, "invalid_query", str(exc)) from None

    @router.get("/rules")
    def rules(who: User = reader) -> list[dict[str, Any]]:
        """Rules at the organisation and every override."""
        with deps.org.reading() as conn:
            return queries.rules(conn)

    @router.get("/zones")
    def zones(who: User = reader) -> list[dict[str, Any]]:
        """Zones of windows in scope."""
        with deps.org.reading() as conn:
            return queries.zones(conn, scope_of(who))

    @router.get("/periods")
    def periods(who: User = reader) -> list[dict[str, Any]]:
        """Planned closed/away periods of windows in scope (local times;
        hq.org.schedules.periods)."""
        with deps.org.reading() as conn:
            return periods_in(conn, *scope_of(who).window_filter("window_id"))

    @router.get("/settings")
    def settings(who: User = owner) -> dict[str, str]:
        """Organisation settings (the badge salt: admin only)."""
        with deps.org.reading() as conn:
            return queries.settings(conn)

    @router.get("/windows/{window_id}/config")
    def window_config(window_id: str, who: User = reader) -> dict[str, Any]:
        """A window's config versions (newest first) and its newest document."""
        with deps.org.reading() as conn:
            if window_id not in queries.window_ids(conn, scope_of(who)):
                raise ApiError(404, "not_found", f"no window {window_id!r} in your scope")
            vs = versions_of(conn, window_id)
            doc = document(conn, window_id, vs[0].version) if vs else None
        return {"window_id": window_id, "versions": _versions(vs), "document": doc}

    @router.put("/units/{unit_id}/window")
    def bind(unit_id: str, body: Binding, who: User = owner) -> dict[str, str]:
        """File the unit's events from now on under a window (admin only)."""
        try:
            deps.org.bind(unit_id, body.window_id, now())
        except OrgError as exc:
            raise _refusal(exc) from None
        log.info("unit %s bound to window %s by %s", unit_id, body.window_id, who.username)
        return {"unit_id": unit_id, "window_id": body.window_id}

    @router.get("/units")
    def units(who: User = reader,
              silent_after_min: Annotated[float, Query(gt=0, le=10_080)] = 15
              ) -> list[dict[str, Any]]:
        """Each unit in scope: window, last seen, backlog, config, firmware, disk, clock."""
        with deps.org.reading() as conn:
            found = unit_overview(conn, scope_of(who), now(),
                                  dt.timedelta(minutes=silent_after_min))
        return [{**dataclasses.asdict(u), "config_current": u.config_current} for u in found]

    @router.get("/import/{kind}/template", response_class=Response,
                responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-"
                                             "officedocument.spreadsheetml.sheet": {}}}})
    def import_template(kind: ImportKind, who: User = reader,
                        fmt: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "xlsx"
                        ) -> Response:
        """A blank file to fill in for ``POST /v1/org/import/{kind}``."""
        media = ("text/csv; charset=utf-8" if fmt == "csv" else
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        return Response(template_bytes(kind, fmt), media_type=media, headers={
            "Content-Disposition": f'attachment; filename="{kind}-template.{fmt}"'})

    @router.post("/import/{kind}", openapi_extra={"requestBody": {"content": {
        "text/csv": {}, "application/octet-stream": {}}, "required": True}})
    async def import_(kind: ImportKind, request: Request, who: User = writer,
                      filename: Annotated[str, Query(max_length=200)] = "") -> Any:
        """Import a CSV or XLSX file sent as the body: every row or none (admin only)."""
        data = await request.body()
        try:
            result = import_file(deps.org, kind, data, filename, now(), who.scope)
        except ImportRefused as exc:
            error_response(request, 422, "import_refused", f"{len(exc.errors)} problem(s)")
            return JSONResponse(status_code=422, content={
                "error": "import_refused", "detail": str(exc),
                "rows": [{"row": e.row, "reason": e.reason} for e in exc.errors]})
        log.info("%d %s row(s) imported by %s", result.rows, kind, who.username)
        return {"kind": kind, "rows": result.rows, "ids": result.ids,
                "new_versions": _versions(result.versions)}

    return router
