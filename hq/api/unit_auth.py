"""Which unit is calling: its client certificate, checked against HQ's CA on every request.

The TLS handshake (CERT_OPTIONAL) already proved the peer holds a key this CA certified;
:meth:`CertificateAuthority.authenticate_peer` adds the unit id, validity and revocation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request

from hq.ca import CertificateAuthority, NotAUnitCertificate


def peer_certificate(scope: Mapping[str, Any]) -> bytes | None:
    """The client's leaf certificate (PEM) from the ASGI TLS extension, or None."""
    tls = scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return chain[0].encode() if chain else None


def unit_of(scope: Mapping[str, Any], ca: CertificateAuthority) -> str:
    """The authenticated unit id; NotAUnitCertificate (401) or UnitRevoked (403) otherwise."""
    cert = peer_certificate(scope)
    if cert is None:
        raise NotAUnitCertificate("this endpoint needs a unit client certificate "
                                  "(enroll first, then connect with mutual TLS)")
    return ca.authenticate_peer(cert)


def unit_dependency(ca: CertificateAuthority) -> Callable[[Request], str]:
    """A FastAPI dependency returning the calling unit's id (also kept for error logs)."""

    def authenticated_unit(request: Request) -> str:
        unit_id = unit_of(request.scope, ca)
        request.state.unit_id = unit_id
        return unit_id

    return authenticated_unit
