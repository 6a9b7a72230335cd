"""``GET /v1/config``: the calling unit's config as HQ authored it, with a strong ETag."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from hq.api.deps import HQDeps
from hq.api.errors import UNIT_REFUSALS, ApiError, ErrorBody
from hq.api.units.auth import unit_dependency


def config_path(config_dir: Path, unit_id: str) -> Path | None:
    """The unit's own config file, else the default one, else None."""
    for name in (f"{unit_id}.json", "default.json"):
        path = config_dir / name
        if path.is_file():
            return path
    return None


def etag_of(data: bytes) -> str:
    """A strong ETag: the sha256 of the exact bytes served."""
    return f'"{hashlib.sha256(data).hexdigest()}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: weak comparison against a list of tags or ``*``."""
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def build_config_router(deps: HQDeps) -> APIRouter:
    """GET /v1/config for the unit of the client certificate."""
    router = APIRouter(prefix="/v1", tags=["units"], responses=UNIT_REFUSALS)
    unit = Depends(unit_dependency(deps.ca, deps.audit))

    @router.get("/config", responses={200: {"content": {"application/json": {}}},
                                      304: {"description": "Not modified"},
                                      404: {"model": ErrorBody}})
    def config(unit_id: str = unit,
               if_none_match: Annotated[str | None, Header()] = None) -> Response:
        """The unit's config (roster, schedule, rules) as HQ's operator wrote it, with an ETag."""
        data = deps.org.served_config(unit_id)  # its window's version, authored at HQ
        if data is None:
            path = config_path(deps.config_dir, unit_id)
            if path is None:
                raise ApiError(404, "no_config", f"HQ has no config for unit {unit_id} "
                               "and no default config")
            data = path.read_bytes()
        etag = etag_of(data)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag_matches(if_none_match, etag):
            return Response(status_code=304, headers=headers)
        return Response(data, media_type="application/json", headers=headers)

    return router
