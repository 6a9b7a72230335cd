"""Which unit is calling: its client certificate, checked against HQ's CA on every request.

The TLS handshake (CERT_OPTIONAL) already proved the peer holds a key this CA certified;
:meth:`CertificateAuthority.authenticate_unit` adds the unit id, validity and revocation,
and retires the serial a renewed certificate replaced on that certificate's first use.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request

from hq.pki.ca import CertificateAuthority, NotAUnitCertificate, PeerIdentity
from hq.storage import SqliteAuditLog, StorageError

log = logging.getLogger(__name__)

# Audit action of a unit certificate revoked because its renewed successor is in use.
CERT_SUPERSEDED = "cert_superseded"


def peer_certificate(scope: Mapping[str, Any]) -> bytes | None:
    """The client's leaf certificate (PEM) from the ASGI TLS extension, or None."""
    tls = scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return chain[0].encode() if chain else None


def peer_of(scope: Mapping[str, Any], ca: CertificateAuthority) -> PeerIdentity:
    """The authenticated unit; NotAUnitCertificate (401) or UnitRevoked (403) otherwise."""
    cert = peer_certificate(scope)
    if cert is None:
        raise NotAUnitCertificate("this endpoint needs a unit client certificate "
                                  "(enroll first, then connect with mutual TLS)")
    return ca.authenticate_unit(cert)


def unit_of(scope: Mapping[str, Any], ca: CertificateAuthority) -> str:
    """The authenticated unit id; NotAUnitCertificate (401) or UnitRevoked (403) otherwise."""
    return peer_of(scope, ca).unit_id


def audit_retired(audit: SqliteAuditLog, peer: PeerIdentity, client: str) -> None:
    """One audit record per serial this authentication retired as superseded."""
    for serial in peer.retired:
        try:
            audit.append(actor=peer.unit_id, role="unit", action=CERT_SUPERSEDED,
                         object_type="unit_cert", object_id=f"{serial:x}", client=client,
                         detail=f"revoked on the first use of serial {peer.serial:x}")
        except (StorageError, sqlite3.Error) as exc:
            # The revocation itself is done and logged by the CA; refusing the unit's
            # request would not undo it, only stall a unit that did nothing wrong.
            log.error("audit log write failed (%s); serial %x of unit %s was revoked as "
                      "superseded without an audit record", exc, serial, peer.unit_id)


def unit_dependency(ca: CertificateAuthority,
                    audit: SqliteAuditLog | None = None) -> Callable[[Request], str]:
    """A FastAPI dependency returning the calling unit's id (also kept for error logs).

    With ``audit``, each serial retired by a renewed certificate's first use is recorded.
    """

    def authenticated_unit(request: Request) -> str:
        peer = peer_of(request.scope, ca)
        request.state.unit_id = peer.unit_id
        if peer.retired and audit is not None:
            audit_retired(audit, peer, request.client.host if request.client else "unknown")
        return peer.unit_id

    return authenticated_unit
