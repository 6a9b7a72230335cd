"""How HQ's HTTP server protects itself: timeouts, connection limits, housekeeping.

One pydantic model, every field bounded and described; ``counterunit hq serve`` shows
each as an option (``--header-timeout-s`` ...), with these safe defaults. A reverse proxy
in front (docs/hq-hardening.md) may be stricter; these still hold when it is not there.
"""

from __future__ import annotations

import resource

from pydantic import BaseModel, ConfigDict, Field


class HQServerSettings(BaseModel):
    """Limits of ``counterunit hq serve`` and the embedded HQ."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    header_timeout_s: float = Field(
        10.0, ge=0.5, le=300.0,
        description="Seconds a connection may take to send a whole request head (from "
        "connecting, or from the previous response); then it is closed.")
    body_timeout_s: float = Field(
        30.0, ge=0.5, le=3600.0,
        description="Seconds a request body may go without a byte arriving (a stalled body, "
        "or a Content-Length larger than what is sent); then the connection is closed.")
    tls_handshake_timeout_s: float = Field(
        10.0, ge=0.5, le=120.0,
        description="Seconds a TLS handshake may take; then the connection is closed.")
    keepalive_timeout_s: int = Field(
        5, ge=1, le=300, description="Seconds an idle kept-alive connection stays open.")
    max_requests_per_connection: int = Field(
        1000, ge=1, le=1_000_000,
        description="Requests served on one connection before HQ closes it (Connection: "
        "close on the last).")
    max_connections: int | None = Field(
        None, ge=8, le=100_000,
        description="Open connections at most; more are closed at once. Default: three "
        "quarters of the process's file descriptor limit (RLIMIT_NOFILE), at most 4096, "
        "so the databases and clip files always find a descriptor.")
    backlog: int = Field(
        512, ge=16, le=65_535, description="Connections the kernel queues before accept().")
    upload_abandon_after_s: float = Field(
        24 * 3600.0, ge=60.0, le=30 * 24 * 3600.0,
        description="Seconds without a byte after which an unfinished upload is abandoned "
        "(expired, and no longer counted against the unit's upload quota).")
    upload_expiry_every_s: float = Field(
        3600.0, ge=1.0, le=24 * 3600.0,
        description="How often abandoned uploads are expired.")

    def connection_limit(self) -> int:
        """``max_connections``, or the default derived from RLIMIT_NOFILE."""
        if self.max_connections is not None:
            return self.max_connections
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return 4096
        return max(8, min(4096, soft - max(32, soft // 4)))
