"""/alerts: alert threads in the reader's scope (open first), one thread's whole story,
and acknowledging or commenting from the page (CSRF-checked forms)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from hq.accounts import roles
from hq.accounts.users import User
from hq.alerts.queries import (
    ThreadView,
    UnknownThread,
    acknowledge,
    add_comment,
    detail,
    list_threads,
)
from hq.api.deps import HQDeps
from hq.storage.models import parse_utc
from hq.web.auth import PageError, require, web
from hq.web.render import render

Reader = Annotated[User, Depends(require(roles.FIGURES))]
Acker = Annotated[User, Depends(require(roles.ACK_ALERTS))]
PAGE = 100
ThreadId = Annotated[int, Path(ge=1, le=1 << 62)]


def when(text: str | None) -> dt.datetime | None:
    """Stored UTC text as a datetime for the ``localtime`` filter."""
    return parse_utc(text) if text else None


def row(t: ThreadView) -> dict[str, Any]:
    """A thread as the templates show it."""
    return {**t.as_dict(), "opened": when(t.opened_utc), "level_at": when(t.level_utc),
            "closed": when(t.closed_utc), "acked": when(t.acked_utc),
            "tz": t.branch_tz or "UTC"}


def build_alerts_router(deps: HQDeps) -> APIRouter:
    """GET /alerts, GET /alerts/{id}, POST /alerts/{id}/ack and /alerts/{id}/comment."""
    router = APIRouter(include_in_schema=False)

    @router.get("/alerts")
    def alerts_page(request: Request, user: Reader,
                    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
                    page: Annotated[int, Query(ge=0, le=100_000)] = 0) -> Response:
        with deps.alert_service().db() as conn:
            threads = list_threads(conn, user.scope, status=status, limit=PAGE + 1,
                                   offset=page * PAGE)
        return render(request, "alerts.html", user, threads=[row(t) for t in threads[:PAGE]],
                      chosen=status or "", page=page, more=len(threads) > PAGE,
                      may_ack=user.may(roles.ACK_ALERTS), is_admin=user.role == "admin")

    @router.get("/alerts/{thread_id}")
    def alert_page(request: Request, user: Reader, thread_id: ThreadId) -> Response:
        try:
            with deps.alert_service().db() as conn:
                d = detail(conn, user.scope, thread_id)
        except UnknownThread as exc:
            raise PageError(404, "No alert %(id)s.", id=str(thread_id)) from exc
        t = row(d.thread)
        levels = [{**x, "at": when(x["utc"])} for x in d.levels]
        deliveries = [{**x, "created": when(x["created_utc"]), "done": when(x["done_utc"]),
                       "attempt_log": [{**a, "at": when(a["started_utc"])}
                                       for a in x["attempt_log"]]} for x in d.deliveries]
        notes = [{**n, "at": when(n["utc"])} for n in d.notes]
        return render(request, "alert.html", user, t=t, levels=levels, deliveries=deliveries,
                      notes=notes, may_ack=user.may(roles.ACK_ALERTS))

    def note(request: Request, user: User, thread_id: int, text: str, ack: bool) -> Response:
        now = web(request).clock()
        try:
            with deps.alert_service().db() as conn:
                if ack:
                    acknowledge(conn, thread_id, user.username, now, text, scope=user.scope)
                else:
                    if not text.strip():
                        raise PageError(400, "The field %(field)s is not valid: %(why)s",
                                        field="text", why="empty")
                    add_comment(conn, thread_id, user.username, now, text, scope=user.scope)
        except UnknownThread as exc:
            raise PageError(404, "No alert %(id)s.", id=str(thread_id)) from exc
        return RedirectResponse(f"/alerts/{thread_id}", status_code=303)

    @router.post("/alerts/{thread_id}/ack")
    def ack(request: Request, user: Acker, thread_id: ThreadId,
            comment: Annotated[str, Form(max_length=2000)] = "") -> Response:
        return note(request, user, thread_id, comment, ack=True)

    @router.post("/alerts/{thread_id}/comment")
    def comment(request: Request, user: Acker, thread_id: ThreadId,
                text: Annotated[str, Form(max_length=2000)] = "") -> Response:
        return note(request, user, thread_id, text, ack=False)

    return router
