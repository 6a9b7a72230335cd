"""``/v1/alerts``: alert threads in the caller's scope, acknowledgement, comments, policy.

Bearer tokens as the rest of /v1 (``POST /v1/auth/token``). Listing needs the figures
permission, acknowledging and commenting ``ack_alerts``, the policy the admin role. The
signed link in a message (``/v1/alerts/{id}/ack-link?token=``) needs no account: GET
shows a confirmation page (so a mail scanner opening links acknowledges nothing), its
POST acknowledges on behalf of the recipient the link was made for.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from hq.accounts import roles
from hq.accounts.users import User
from hq.alerts import policy_store
from hq.alerts.delivery import links
from hq.alerts.policy import PolicyDoc
from hq.alerts.queries import UnknownThread, acknowledge, add_comment, detail, list_threads
from hq.api.deps import HQDeps
from hq.api.errors import ApiError
from hq.clock import utc_now

_bearer = HTTPBearer(auto_error=False, description="Token from POST /v1/auth/token")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
ThreadId = Annotated[int, Path(ge=1, le=1 << 62, description="Alert thread id.")]
_LINK_HEADERS = {"Content-Security-Policy": "default-src 'none'; form-action 'self'; "
                 "frame-ancestors 'none'", "Cache-Control": "no-store",
                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field("", max_length=2000, description="Said with the acknowledgement.")


class Comment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(..., min_length=1, max_length=2000, description="The comment.")


def build_alerts_router(deps: HQDeps, *,
                        clock: Callable[[], dt.datetime] = utc_now) -> APIRouter:
    """The /v1/alerts routes over ``deps.alert_service()``."""
    router = APIRouter(prefix="/v1/alerts", tags=["hq-alerts"])

    def caller(cred: HTTPAuthorizationCredentials | None, request: Request,
               permission: str | None) -> User:
        user = deps.user_store().user_for_token(cred.credentials, clock()) if cred else None
        if user is None:
            raise ApiError(401, "unauthenticated", "a valid bearer token is required",
                           {"WWW-Authenticate": "Bearer"})
        request.state.username = user.username
        if permission == "admin" and user.role != "admin":
            raise ApiError(403, "forbidden", f"role {user.role} may not change alert policy")
        if permission not in (None, "admin") and not user.may(permission):
            raise ApiError(403, "forbidden", f"role {user.role} may not {permission}")
        return user

    def not_found(exc: UnknownThread) -> ApiError:
        return ApiError(404, "not_found", str(exc))

    @router.get("/policy")
    def get_policy(request: Request, cred: Bearer) -> dict[str, Any]:
        """The policy in force and its version (admin)."""
        caller(cred, request, "admin")
        with deps.alert_service().db() as conn:
            p = policy_store.current(conn)
            versions = policy_store.history(conn)
        return {"version": p.version, "utc": p.utc, "username": p.username,
                "policy": p.doc.model_dump(mode="json"), "versions": versions}

    @router.put("/policy")
    def put_policy(body: PolicyDoc, request: Request, cred: Bearer) -> dict[str, Any]:
        """Store a new version of the policy (admin); a bad one is refused whole (422)."""
        user = caller(cred, request, "admin")
        with deps.alert_service().db() as conn:
            version = policy_store.put(conn, body, user.username, clock())
        return {"version": version}

    @router.get("")
    def threads(request: Request, cred: Bearer,
                status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Annotated[int, Query(ge=0, le=1 << 31)] = 0) -> dict[str, Any]:
        """Threads in the caller's scope, open ones first."""
        user = caller(cred, request, roles.FIGURES)
        with deps.alert_service().db() as conn:
            rows = list_threads(conn, user.scope, status=status, limit=limit, offset=offset)
        return {"threads": [t.as_dict() for t in rows]}

    @router.get("/{thread_id}")
    def one(thread_id: ThreadId, request: Request, cred: Bearer) -> dict[str, Any]:
        """One thread with its level history, deliveries (every attempt) and notes."""
        user = caller(cred, request, roles.FIGURES)
        try:
            with deps.alert_service().db() as conn:
                d = detail(conn, user.scope, thread_id)
        except UnknownThread as exc:
            raise not_found(exc) from exc
        return {"thread": d.thread.as_dict(), "levels": d.levels, "deliveries": d.deliveries,
                "notes": d.notes}

    @router.post("/{thread_id}/ack")
    def ack(thread_id: ThreadId, body: Note, request: Request, cred: Bearer) -> dict[str, Any]:
        """Acknowledge (stops escalation); repeating it adds a note."""
        user = caller(cred, request, roles.ACK_ALERTS)
        try:
            with deps.alert_service().db() as conn:
                first = acknowledge(conn, thread_id, user.username, clock(), body.comment,
                                    scope=user.scope)
        except UnknownThread as exc:
            raise not_found(exc) from exc
        return {"acknowledged": True, "first": first}

    @router.post("/{thread_id}/comments")
    def comment(thread_id: ThreadId, body: Comment, request: Request,
                cred: Bearer) -> dict[str, Any]:
        """Add a comment to a thread."""
        user = caller(cred, request, roles.ACK_ALERTS)
        try:
            with deps.alert_service().db() as conn:
                add_comment(conn, thread_id, user.username, clock(), body.text,
                            scope=user.scope)
        except UnknownThread as exc:
            raise not_found(exc) from exc
        return {"commented": True}

    def claim(thread_id: int, token: str) -> links.LinkClaim:
        try:
            return links.verify(deps.alert_service().key, token, thread_id, clock())
        except links.BadLink as exc:
            raise ApiError(403, "bad_link", str(exc)) from exc

    @router.get("/{thread_id}/ack-link", response_class=HTMLResponse)
    def link_page(thread_id: ThreadId,
                  token: Annotated[str, Query(min_length=10, max_length=400)]) -> HTMLResponse:
        """A page with one button that acknowledges (links are opened by scanners too)."""
        claim(thread_id, token)
        page = (f"<!doctype html><meta charset='utf-8'><title>Acknowledge alert</title>"
                f"<p>Acknowledge alert {thread_id}?</p><form method='post'>"
                f"<input type='hidden' name='token' value='{html.escape(token)}'>"
                f"<button type='submit'>Acknowledge</button></form>")
        return HTMLResponse(page, headers=_LINK_HEADERS)

    @router.post("/{thread_id}/ack-link", response_class=HTMLResponse)
    def link_ack(thread_id: ThreadId,
                 token: Annotated[str, Form(min_length=10, max_length=400)]) -> HTMLResponse:
        """Acknowledge on behalf of the link's recipient."""
        c = claim(thread_id, token)
        try:
            with deps.alert_service().db() as conn:
                acknowledge(conn, thread_id, f"link:{c.recipient}", clock(),
                            "acknowledged from the message's link")
        except UnknownThread as exc:
            raise not_found(exc) from exc
        return HTMLResponse(f"<!doctype html><meta charset='utf-8'><title>Acknowledged"
                            f"</title><p>Alert {thread_id} acknowledged. Thank you.</p>",
                            headers=_LINK_HEADERS)

    return router
