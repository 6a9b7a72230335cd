"""``POST /v1/units/status``: a unit's sync process reports its backlog, disk, firmware,
clock and config every few minutes (sync/unit_status.py), for HQ's /units page."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Response

from hq.api.deps import HQDeps
from hq.api.errors import ErrorBody
from hq.api.units.auth import unit_dependency
from hq.org.units.state import UnitStatusIn, record_status


def build_unit_status_router(deps: HQDeps) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["units"],
                       responses={c: {"model": ErrorBody} for c in (400, 401, 403, 413, 422)})
    unit = Depends(unit_dependency(deps.ca, deps.audit))

    @router.post("/units/status", status_code=204, response_class=Response)
    def status(body: UnitStatusIn, unit_id: str = unit) -> Response:
        """Replace the calling unit's last reported status."""
        with deps.org.transaction() as conn:
            record_status(conn, unit_id, body, dt.datetime.now(dt.UTC))
        return Response(status_code=204)

    return router
