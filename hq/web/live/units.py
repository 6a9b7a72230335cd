"""``/units``: each unit in scope — its window, when HQ last heard from it, sync backlog,
config version (and any refusal), firmware, disk, clock — from
:func:`hq.org.units.overview.unit_overview`; a unit silent past the threshold stands out.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hq.accounts import roles
from hq.accounts.users import User
from hq.api.deps import HQDeps
from hq.web.auth import PageError, require, web
from hq.web.live.db import conn_for
from hq.web.render import render

Viewer = Annotated[User, Depends(require(roles.FIGURES))]


def _zones(conn: sqlite3.Connection) -> dict[str, str]:
    """branch_id -> IANA zone, for showing each unit's times in its branch's zone."""
    return {r[0]: r[1] for r in conn.execute("SELECT branch_id, tz FROM org_branches")}


def build_units_router(deps: HQDeps) -> APIRouter:
    """GET /units (``?silent_min=N`` sets the silence threshold, default 15 minutes)."""
    from hq.org.units.overview import DEFAULT_SILENT_AFTER, unit_overview

    router = APIRouter(include_in_schema=False)

    @router.get("/units")
    def units_page(request: Request, user: Viewer, silent_min: str = "") -> Response:
        ctx = web(request)
        threshold = DEFAULT_SILENT_AFTER
        if silent_min:
            try:
                minutes = float(silent_min)
            except ValueError:
                minutes = -1
            if not 1 <= minutes <= 10080:
                raise PageError(400, "%(field)s: must be within %(lo)s..%(hi)s.",
                                field="silent_min", lo="1", hi="10080")
            threshold = dt.timedelta(minutes=minutes)
        conn = conn_for(deps)
        rows = unit_overview(conn, user.scope, ctx.clock(), threshold)
        return render(request, "units.html", user, units=rows, zones=_zones(conn),
                      threshold_min=int(threshold.total_seconds() // 60))

    return router
