"""Unit-facing JSON endpoints: enrollment, event ingest and config pull.

Clip uploads (tus) live in :mod:`hq.api.uploads`.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from hq.api.deps import HQDeps
from hq.api.errors import ApiError, ErrorBody
from hq.api.unit_auth import unit_dependency
from hq.pki import check_claims, check_public_key, parse_csr, validate_unit_id
from sync.schema import EventEnvelope

log = logging.getLogger(__name__)

_REFUSALS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 409, 413, 422)}


class EnrollRequest(BaseModel):
    """A unit's first call: its id, the one-time code and a CSR made from its own key."""

    model_config = ConfigDict(extra="forbid")

    unit_id: str = Field(..., min_length=1, max_length=64)
    code: str = Field(..., min_length=1, max_length=64)
    csr_pem: str = Field(..., min_length=1, max_length=16_384)


class EnrollResponse(BaseModel):
    """The unit's certificate and the CA certificate it must pin."""

    cert_pem: str
    ca_pem: str


class EventBatch(BaseModel):
    """Events the unit sends together; stored atomically, idempotent by uuid."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventEnvelope]


class IngestResponse(BaseModel):
    """How many events were new and how many HQ already had."""

    accepted: int
    duplicates: int


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


def build_units_router(deps: HQDeps) -> APIRouter:
    """Routes a unit calls (besides uploads); all under /v1."""
    router = APIRouter(prefix="/v1", tags=["units"], responses=_REFUSALS)
    unit = Depends(unit_dependency(deps.ca))

    @router.post("/enroll", response_model=EnrollResponse)
    def enroll(body: EnrollRequest) -> EnrollResponse:
        """Redeem a one-time code and sign the unit's CSR; no client certificate needed."""
        validate_unit_id(body.unit_id)
        # The CSR is checked before the code is spent, so a unit that sent a broken
        # request can retry with the same code.
        csr = parse_csr(body.csr_pem)
        check_claims(csr, body.unit_id)
        check_public_key(csr.public_key())
        deps.codes.redeem(body.code, body.unit_id)
        cert = deps.ca.sign_unit_csr(body.csr_pem, body.unit_id,
                                     validity_days=deps.limits.unit_cert_days)
        return EnrollResponse(cert_pem=cert.decode(), ca_pem=deps.ca.cert_pem.decode())

    @router.post("/events", response_model=IngestResponse)
    def ingest(body: EventBatch, unit_id: str = unit) -> IngestResponse:
        """Store a batch of the calling unit's events exactly once per uuid."""
        limit = deps.limits.max_event_batch
        if len(body.events) > limit:
            raise ApiError(413, "batch_too_large",
                           f"{len(body.events)} events in one batch; at most {limit}")
        result = deps.events.ingest(unit_id, body.events)
        log.debug("unit %s: %d events accepted, %d duplicates", unit_id, result.accepted,
                  result.duplicates)
        return IngestResponse(accepted=result.accepted, duplicates=result.duplicates)

    @router.get("/config", responses={200: {"content": {"application/json": {}}},
                                      304: {"description": "Not modified"},
                                      404: {"model": ErrorBody}})
    def config(unit_id: str = unit,
               if_none_match: Annotated[str | None, Header()] = None) -> Response:
        """The unit's config (roster, schedule, rules) as HQ's operator wrote it, with an ETag."""
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
