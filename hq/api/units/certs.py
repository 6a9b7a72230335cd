"""Unit certificates: enrollment with a one-time code, and renewal before expiry.

Renewal rules: docs/hq-api-renewal.md. Every renewal and refusal is in the audit log.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from hq.api.deps import HQDeps
from hq.api.errors import UNIT_REFUSALS, ApiError, ErrorBody
from hq.api.units.auth import peer_certificate, unit_dependency
from hq.clock import utc_now
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

log = logging.getLogger(__name__)


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


def build_certs_router(deps: HQDeps) -> APIRouter:
    """POST /v1/enroll (no client certificate) and POST /v1/renew (the unit's own)."""
    router = APIRouter(prefix="/v1", tags=["units"], responses=UNIT_REFUSALS)
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

    return router
