"""Unit-facing JSON endpoints: enrollment, certificate renewal, event ingest and config pull.

Clip uploads (tus) live in :mod:`hq.api.uploads`. Renewal rules: docs/hq-api-renewal.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import sqlite3
from pathlib import Path
from typing import Annotated, Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema

from hq.api.deps import HQDeps
from hq.api.derive import list_of, response_model, values_of
from hq.api.errors import ApiError, ErrorBody, storage_unavailable
from hq.api.unit_auth import peer_certificate, unit_dependency
from hq.clock import utc_now
from hq.conditions import DISK_FULL
from hq.metrics import count_ingest
from hq.pki.certs import (
    CSRRefused,
    NotAUnitCertificate,
    check_claims,
    check_public_key,
    load_certificate,
    parse_csr,
    validate_unit_id,
)
from hq.storage import StorageError
from hq.storage.models import IngestResult, Rejection
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


class RenewRequest(BaseModel):
    """A CSR made from a new key the unit generated; the unit is the one authenticated."""

    model_config = ConfigDict(extra="forbid")

    csr_pem: str = Field(..., min_length=1, max_length=16_384)


class RenewResponse(BaseModel):
    """The renewed certificate (for the CSR's key) and the CA certificate the unit pins."""

    cert_pem: str
    ca_pem: str


# Audit log vocabulary for unit certificates (actor = unit id, role "unit").
CERT_RENEW = "cert_renew"
CERT_RENEW_REFUSED = "cert_renew_refused"


def renewal_opens(not_after: dt.datetime, window_days: int) -> dt.datetime:
    """When a certificate valid until ``not_after`` may first be renewed."""
    return not_after - dt.timedelta(days=window_days)


def _printable(text: str) -> str:
    # CSR subjects are the caller's text: nothing in them may forge an audit line.
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)[:512]


class EventBatch(BaseModel):
    """Events the unit sends together, idempotent by uuid.

    Each event is validated on its own (the schema shown is the envelope's), so one bad
    event is refused alone and the good ones of its batch are stored.
    """

    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[dict[str, Any]], WithJsonSchema(
        {"type": "array", "items": EventEnvelope.model_json_schema()})] = Field(
        ..., description="Event envelopes, oldest first.")


# The ingest answer is the store's IngestResult (hq/storage/models.py) with its refusals.
RejectedEvent = response_model(
    "RejectedEvent", Rejection,
    doc="An event HQ refused: re-sending it will not help (the unit sets it aside).",
    describe={"uuid": "The event's uuid as sent (null if none).",
              "field": "The field at fault, e.g. `mono` or `data.rating`.",
              "reason": "The rule it breaks."})
IngestResponse = response_model(
    "IngestResponse", IngestResult,
    doc="How many events were new, how many HQ already had, and which it refused.",
    types={"rejected": (list_of(RejectedEvent), Field(default_factory=list))})


def validate_event(raw: dict[str, Any]) -> EventEnvelope | Rejection:
    """The envelope of one event as sent, or why HQ refuses it (field and rule)."""
    try:
        return EventEnvelope.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        ctx = first.get("ctx") or {}
        if first["type"] == "data_range" and "path" in ctx:
            field, reason = str(ctx["path"]), str(ctx["reason"])
        else:
            field = ".".join(str(p) for p in first["loc"]) or "event"
            reason = first["msg"]
        uuid = raw.get("uuid")
        return Rejection(uuid if isinstance(uuid, str) and len(uuid) <= 64 else None,
                         field, reason[:300])


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
    unit = Depends(unit_dependency(deps.ca, deps.audit))

    @router.post("/enroll", response_model=EnrollResponse)
    def enroll(body: EnrollRequest, request: Request) -> EnrollResponse:
        """Redeem a one-time code and sign the unit's CSR; no client certificate needed."""
        request.state.enrolling = body.unit_id  # a refusal's log line names the claimed unit
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

    def audit(request: Request, unit_id: str, action: str, serial: int, detail: str) -> None:
        client = request.client.host if request.client else "unknown"
        try:
            deps.audit.append(actor=unit_id, role="unit", action=action, object_type="unit_cert",
                              object_id=f"{serial:x}", client=client, detail=_printable(detail))
        except (StorageError, sqlite3.Error) as exc:
            # Fail closed: a certificate HQ cannot account for is not handed out.
            log.error("audit log write failed (%s); refusing %s of unit %s", exc, action,
                      unit_id)
            raise ApiError(503, "audit_unavailable",
                           "the audit log cannot be written; try again later") from exc

    def check_renewal_csr(body: RenewRequest, unit_id: str, current: x509.Certificate) -> None:
        try:
            csr = parse_csr(body.csr_pem)
            check_claims(csr, unit_id)
            key = csr.public_key()
            check_public_key(key)
        except (ValueError, UnsupportedAlgorithm) as exc:  # odd DER the checks did not expect
            raise CSRRefused(f"the request cannot be read: {exc}") from None
        if key == current.public_key():
            raise CSRRefused("the request reuses the key of the certificate presented; "
                             "renewal needs a new key")

    @router.post("/renew", response_model=RenewResponse,
                 responses={503: {"model": ErrorBody, "description": "Audit log unavailable"}})
    def renew(body: RenewRequest, request: Request, unit_id: str = unit) -> RenewResponse:
        """Sign a new certificate for the calling unit, within the window before expiry.

        The CSR must name the unit of the client certificate and carry a new key. The
        certificate presented is not revoked here (a lost answer would lock the unit out):
        the new certificate's first use revokes it as superseded.
        """
        pem = peer_certificate(request.scope)
        if pem is None:  # the unit dependency already refused this; never trust -O asserts
            raise NotAUnitCertificate("this endpoint needs a unit client certificate")
        current = load_certificate(pem)
        serial = current.serial_number
        try:
            check_renewal_csr(body, unit_id, current)
        except CSRRefused as exc:
            audit(request, unit_id, CERT_RENEW_REFUSED, serial, str(exc))
            raise
        expires = current.not_valid_after_utc
        opens = renewal_opens(expires, deps.limits.renew_window_days)
        if utc_now(None) < opens:
            raise ApiError(409, "too_early",
                           f"certificate serial {serial:x} is valid until {expires.isoformat()}; "
                           f"renewal opens {opens.isoformat()}")
        try:
            earlier = deps.audit.query(action=CERT_RENEW, object_type="unit_cert",
                                       object_id=f"{serial:x}", limit=1)
        except (StorageError, sqlite3.Error):
            earlier = []  # the append below fails closed if the log is really gone
        if earlier:
            # Normal after a lost answer; a copy of the unit's key elsewhere looks the same.
            log.warning("unit %s renews again from certificate serial %x (first renewed %s)",
                        unit_id, serial, earlier[0].utc.isoformat())
        cert_pem = deps.ca.sign_unit_csr(body.csr_pem, unit_id,
                                         validity_days=deps.limits.unit_cert_days,
                                         replaces=serial)
        new = load_certificate(cert_pem)
        audit(request, unit_id, CERT_RENEW, serial,
              f"new serial {new.serial_number:x} valid until "
              f"{new.not_valid_after_utc.isoformat()}; presented one valid until "
              f"{expires.isoformat()}")
        log.info("unit %s renewed certificate serial %x (until %s) as serial %x (until %s)",
                 unit_id, serial, expires.isoformat(), new.serial_number,
                 new.not_valid_after_utc.isoformat())
        return RenewResponse(cert_pem=cert_pem.decode(), ca_pem=deps.ca.cert_pem.decode())

    @router.post("/events", response_model=IngestResponse,
                 responses={503: {"model": ErrorBody, "description": "Storage unavailable "
                                  "(disk full): retry after Retry-After seconds"}})
    def ingest(body: EventBatch, unit_id: str = unit) -> Any:
        """Store a batch of the calling unit's events exactly once per uuid.

        Events that break a rule are refused one by one (``rejected``: uuid, field, rule)
        and the rest are stored; re-sending a refused event gets the same answer.
        """
        limit = deps.limits.max_event_batch
        if len(body.events) > limit:
            raise ApiError(413, "batch_too_large",
                           f"{len(body.events)} events in one batch; at most {limit}")
        checked = [validate_event(raw) for raw in body.events]
        good = [c for c in checked if isinstance(c, EventEnvelope)]
        refused = [c for c in checked if isinstance(c, Rejection)]
        try:
            result = deps.events.ingest(unit_id, good)
        except sqlite3.OperationalError as exc:
            raise storage_unavailable(deps.conditions, "events.db", exc) from None
        deps.conditions.clear_hq_condition(DISK_FULL, "events are stored again")
        refused += result.rejected
        count_ingest(result.accepted, result.duplicates, len(refused))  # hq/metrics.py
        if refused:
            first = refused[0]
            log.warning("unit %s: %d of %d events refused (first %r, %s: %s)", unit_id,
                        len(refused), len(checked), first.uuid, first.field, first.reason)
        log.debug("unit %s: %d events accepted, %d duplicates", unit_id, result.accepted,
                  result.duplicates)
        answer = dataclasses.replace(result, rejected=tuple(refused))
        return IngestResponse(**values_of(answer, IngestResponse, convert={
            "rejected": lambda rs: [values_of(r, RejectedEvent) for r in rs]}))

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
