"""A recording found by its clip id (an off-seat episode's clip, an alert's still), for the
reports' drill-downs and the alert pages; served and audited exactly like a transaction's.

The clip is in scope when the event that closed it was filed under a window in the user's
scope, so a guessed id outside it is "not found", like an unknown one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hq.api.deps import HQDeps
from hq.storage.projection import CLIP_EVENTS
from hq.storage.scope import Scope
from hq.web.live.db import conn_for
from hq.web.transactions.clip import clip_response
from hq.web.transactions.pages import Player


@dataclass(frozen=True)
class FoundClip:
    """A recording of a unit, located by its id."""

    unit_id: str
    clip_id: str | None


def clip_in_scope(conn: sqlite3.Connection, scope: Scope, unit_id: str,
                  clip_id: str) -> FoundClip | None:
    """The clip if a transaction recorded in it, or an event closing it, lies in ``scope``."""
    t_where, t_args = scope.window_filter("t.window_id")
    e_where, e_args = scope.window_filter("e.window_id")
    kinds = sorted(CLIP_EVENTS)
    marks = ", ".join("?" * len(kinds))
    row = conn.execute(
        f"SELECT 1 FROM transactions t WHERE t.unit_id = ? AND t.clip_id = ? AND {t_where} "
        f"UNION ALL SELECT 1 FROM events e WHERE e.unit_id = ? AND e.type IN ({marks}) "
        f"AND json_extract(e.data, '$.clip_id') = ? AND {e_where} LIMIT 1",
        [unit_id, clip_id, *t_args, unit_id, *kinds, clip_id, *e_args]).fetchone()
    return FoundClip(unit_id, clip_id) if row is not None else None


def build_clips_page_router(deps: HQDeps) -> APIRouter:
    """GET /clips/{unit}/{clip}: play (Range) or ``?download=1``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/clips/{unit_id}/{clip_id}")
    def clip(unit_id: str, clip_id: str, request: Request, user: Player,
             download: int = 0) -> Response:
        found = clip_in_scope(conn_for(deps), user.scope, unit_id, clip_id)
        return clip_response(deps, user, request, found, f"{unit_id}/{clip_id}",
                             bool(download))

    return router
