"""``/``: the live hall dashboard — a tile per window in the user's scope (seed functions
14 and 17), kept current by server-sent events from ``/live/tiles``.

A new (unacknowledged) alert highlights its window's tile and the page plays a sound;
the tile's button acknowledges the alert thread through :mod:`hq.alerts`.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from hq.accounts import roles
from hq.accounts.users import User
from hq.alerts.queries import UnknownThread, open_threads, thread
from hq.alerts.queries import acknowledge as ack
from hq.api.deps import HQDeps
from hq.live.board import WindowTile
from hq.live.store import bump
from hq.storage.scope import Scope
from hq.web.auth import PageError, require, wants_html, web
from hq.web.i18n import gettext_for, local_time
from hq.web.live.db import conn_for, own_conn
from hq.web.live.feed import feed, snapshot
from hq.web.render import ENV, render

log = logging.getLogger(__name__)

Viewer = Annotated[User, Depends(require(roles.FIGURES))]
Acker = Annotated[User, Depends(require(roles.ACK_ALERTS))]


@dataclass(frozen=True)
class AlertMark:
    """The newest open alert of a window, as its tile shows it."""

    thread_id: int
    kind: str
    level: int
    utc: str
    acked_by: str | None

    @property
    def new(self) -> bool:
        return self.acked_by is None


def alert_marks(conn: sqlite3.Connection, scope: Scope) -> dict[str, AlertMark]:
    """``window_id -> AlertMark`` for windows in scope with an open alert thread."""
    try:
        threads = open_threads(conn, scope)
    except sqlite3.OperationalError as exc:  # no alert table yet: no alert yet
        if "no such table" not in str(exc):
            raise
        return {}
    marks: dict[str, AlertMark] = {}
    for th in threads:  # newest first within open threads
        if th.window_id and th.window_id not in marks:
            marks[th.window_id] = AlertMark(th.thread_id, th.kind, th.level, th.level_utc,
                                            th.acked_by)
    return marks


def tile_html(lang: str, tiles: list[WindowTile], marks: dict[str, AlertMark],
              can_ack: bool, csrf: str) -> dict[str, str]:
    """Each tile rendered alone (what the live feed sends), by window id."""
    template = ENV.get_template("dashboard_tile.html")
    _ = gettext_for(lang)
    return {t.window_id: template.render(_=_, t=t, alert=marks.get(t.window_id),
                                         can_ack=can_ack, csrf=csrf, localtime=local_time)
            for t in tiles}


def _group(tiles: list[WindowTile]) -> list[tuple[str, str, list[WindowTile]]]:
    """(branch name + zone, hall name, tiles) in board order."""
    groups: list[tuple[str, str, list[WindowTile]]] = []
    for t in tiles:
        key = (f"{t.branch_name} · {t.tz}", t.hall_name)
        if not groups or groups[-1][:2] != key:
            groups.append((key[0], key[1], []))
        groups[-1][2].append(t)
    return groups


def build_dashboard_router(deps: HQDeps) -> APIRouter:
    """GET /, GET /live/tiles (text/event-stream), POST /dashboard/alerts/{id}/ack."""
    router = APIRouter(include_in_schema=False)
    @router.get("/")
    def dashboard(request: Request, user: Viewer) -> Response:
        ctx = web(request)
        conn = conn_for(deps)
        seq, tiles = snapshot(conn, user.scope, ctx.clock())
        marks = alert_marks(conn, user.scope)
        html = tile_html(user.language, tiles, marks, user.may(roles.ACK_ALERTS),
                         getattr(request.state, "csrf", ""))
        return render(request, "dashboard.html", user, groups=_group(tiles), tiles_html=html,
                      seq=seq, count=len(tiles))

    @router.get("/live/tiles")
    async def live(request: Request, user: Viewer, since: int = 0) -> StreamingResponse:
        ctx = web(request)
        can_ack = user.may(roles.ACK_ALERTS)
        scope, lang = user.scope, user.language
        csrf = getattr(request.state, "csrf", "")
        marks_conn = own_conn(deps)

        def render_tiles(tiles: list[WindowTile]) -> dict[str, str]:
            return tile_html(lang, tiles, alert_marks(marks_conn, scope), can_ack, csrf)

        async def stream() -> Any:
            try:
                async for chunk in feed(lambda: own_conn(deps), scope, since,
                                        render_tiles, request.is_disconnected,
                                        clock=ctx.clock):
                    yield chunk
            finally:
                marks_conn.close()

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    @router.post("/dashboard/alerts/{thread_id}/ack")
    def acknowledge(thread_id: int, request: Request, user: Acker) -> Response:
        ctx = web(request)
        conn = conn_for(deps)
        try:
            th = thread(conn, user.scope, thread_id)
            first = ack(conn, thread_id, user.username, ctx.clock(), scope=user.scope)
        except UnknownThread:
            raise PageError(404, "No alert %(id)s here.", id=str(thread_id)) from None
        if th.window_id:
            bump(conn, th.window_id)  # every open dashboard re-renders the tile
        if first:
            log.info("alert thread %d (%s, %s) acknowledged by %s", thread_id, th.kind,
                     th.window_id, user.username)
        if wants_html(request):
            return RedirectResponse(f"/#window-{th.window_id}", status_code=303)
        return JSONResponse({"thread_id": thread_id, "acknowledged": True, "first": first})

    return router

