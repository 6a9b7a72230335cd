"""A unit's client certificate passed on by a trusted TLS-terminating reverse proxy.

When nginx (docs/hq-deploy.nginx.conf) terminates the units' mutual TLS, HQ's own TLS
connection comes from nginx and carries no client certificate. nginx passes the one it
received in a header (``proxy_set_header X-Client-Cert $ssl_client_escaped_cert;``: the
PEM, URL-escaped). For a request whose TCP peer is one of ``[proxy] trusted`` in
``hq.toml``, :class:`TrustedProxy` puts that certificate where HQ's own handshake puts
one (``scope["extensions"]["tls"]["client_cert_chain"]``, hq/server/tls.py), so the same
check follows: issued by HQ's CA, valid now, not revoked
(:meth:`hq.pki.ca.CertificateAuthority.authenticate_unit`). An empty header means the
client presented none. The proxy's ``X-Forwarded-For`` becomes the request's client
address (login throttling and the audit log name the real client, not the proxy).

From any other peer both headers are ignored: the connection's own TLS facts stand.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, field_validator

log = logging.getLogger(__name__)

MAX_CERT_HEADER = 16 * 1024  # a unit's leaf certificate is under 1 KiB of PEM

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxyConfig(BaseModel):
    """The ``[proxy]`` section of ``hq.toml``: which peers may speak for the client."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trusted: list[str] = Field(
        min_length=1, max_length=64,
        description="Addresses or networks of the TLS-terminating proxies, e.g. "
        "['127.0.0.1', '10.0.5.0/28']; only requests from these may pass a certificate.")
    cert_header: str = Field(
        "X-Client-Cert", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$",
        description="Header carrying the client's certificate (PEM, URL-escaped as "
        "nginx's $ssl_client_escaped_cert).")
    forwarded_for_header: str = Field(
        "X-Forwarded-For", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$",
        description="Header carrying the client's address (the proxy must set it, not "
        "append to what the client sent).")

    @field_validator("trusted")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    def networks(self) -> list[IPNetwork]:
        """``trusted`` parsed."""
        return [ipaddress.ip_network(item, strict=False) for item in self.trusted]


def _trusted(peer: str | None, networks: list[IPNetwork]) -> bool:
    if not peer:
        return False
    try:
        addr = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(addr in net for net in networks)


def forwarded_certificate(value: bytes | None) -> list[str]:
    """The client certificate chain from the header's value (empty: none presented).

    Anything not a PEM certificate block is passed on as it is, so the CA's check refuses
    it with its own message (401) instead of this layer guessing.
    """
    if not value:
        return []
    text = unquote(value[:MAX_CERT_HEADER + 1].decode("latin-1")).strip()
    return [text] if text else []


def _client(value: bytes | None, fallback: Any) -> Any:
    if not value:
        return fallback
    text = value.decode("latin-1").split(",")[-1].strip()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return fallback
    return (text, 0)


class TrustedProxy:
    """ASGI middleware: a trusted proxy's certificate and client headers become the request's."""

    def __init__(self, app: Any, config: ProxyConfig) -> None:
        self.app = app
        self.networks = config.networks()
        self.cert_header = config.cert_header.lower().encode()
        self.for_header = config.forwarded_for_header.lower().encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            client = scope.get("client")
            if _trusted(client[0] if client else None, self.networks):
                headers = dict(scope.get("headers") or [])
                tls = dict(scope.get("extensions", {}).get("tls") or {})
                tls["client_cert_chain"] = forwarded_certificate(headers.get(self.cert_header))
                tls["client_cert_error"] = None
                scope = {**scope, "client": _client(headers.get(self.for_header), client),
                         "extensions": {**scope.get("extensions", {}), "tls": tls}}
        await self.app(scope, receive, send)
