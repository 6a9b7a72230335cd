"""Give the HQ app each connection's client certificate, the ASGI TLS extension way.

uvicorn (0.54) verifies client certificates in the handshake but does not pass
them to the application; its pull requests implementing the ASGI TLS extension
are not merged. This protocol class adds ``scope["extensions"]["tls"]`` (ASGI
TLS extension 0.2: ``client_cert_chain`` as PEM strings, ``tls_version``,
``cipher_suite``) to every HTTP scope of a TLS connection, so the app code is
already what it will be once uvicorn does this itself; then this file goes.

Use: ``uvicorn.Config(app, http=TLSExtensionH11Protocol, ssl_...)``.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

# TLS protocol version numbers as the extension spells them (RFC 8446 / 5246).
_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}

ASGIApp = Any


def tls_extension(ssl_object: ssl.SSLObject | None) -> dict[str, Any] | None:
    """The extension's dict for one TLS connection (None for plain TCP)."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
    cipher = ssl_object.cipher()
    return {
        "server_cert": None,  # CPython cannot read back the server's own certificate
        "client_cert_chain": chain,  # the leaf only: the full chain needs Python 3.13+
        "client_cert_name": None,
        "client_cert_error": None,  # a failed verification never reaches the app
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None if cipher is None else cipher[0],
    }


class _WithTLS:
    """ASGI wrapper adding one connection's TLS facts to each of its HTTP scopes."""

    def __init__(self, app: ASGIApp, tls: dict[str, Any]) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            scope = {**scope, "extensions": {**scope.get("extensions", {}), "tls": self.tls}}
        await self.app(scope, receive, send)


class TLSExtensionH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus the ASGI TLS extension per connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        tls = tls_extension(transport.get_extra_info("ssl_object"))
        if tls is not None:
            self.app = _WithTLS(self.app, tls)
