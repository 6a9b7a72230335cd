"""HQ's HTTP server defending itself against connections that never finish.

``guarded_protocol(settings)`` extends the TLS-extension h11 protocol with:

* a request-head deadline: a head must be complete ``header_timeout_s`` after the
  connection is made or the previous response was sent (dribbling bytes does not help);
* a body idle timeout: a body must keep arriving (a stalled upload, or a Content-Length
  larger than the bytes sent, is closed after ``body_timeout_s`` without a byte);
* a connection limit: past ``max_connections`` a new connection is closed at once, so the
  process never runs out of file descriptors for its databases and clips;
* a request count per connection: the last one answers with ``Connection: close``.

``GuardedServer`` is uvicorn's server with a TLS handshake timeout and an event-loop
exception handler that logs resource errors on accept (EMFILE, ENFILE, ENOBUFS, ENOMEM)
once when they start and once when accepting works again, instead of once per attempt.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import threading
from typing import Any

import h11
import uvicorn

from hq.asgi_tls import TLSExtensionH11Protocol
from hq.server_settings import HQServerSettings

log = logging.getLogger(__name__)

RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class GuardStats:
    """Counts shared by every connection of one server (for logs and tests)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.refused = 0  # closed at once: over the connection limit
        self.head_timeouts = 0
        self.body_timeouts = 0
        self.at_limit = False  # the episode of "over the limit", logged once
        self.accept_failing = 0  # failed accepts in the current resource-error episode

    def note_accept_ok(self) -> None:
        with self.lock:
            failed, self.accept_failing = self.accept_failing, 0
        if failed:
            log.warning("HQ accepts connections again (%d accept attempts failed for lack "
                        "of resources)", failed)


class _GuardedH11Protocol(TLSExtensionH11Protocol):
    settings: HQServerSettings
    stats: GuardStats
    limit: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_kind = ""
        self._requests = 0
        self._cycle_seen: object = None
        self._counted = False

    # ---- connection life --------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        stats = self.stats
        stats.note_accept_ok()
        first = recovered = False
        with stats.lock:
            over = stats.open >= self.limit
            if over:
                stats.refused += 1
                first = not stats.at_limit
                stats.at_limit = True
            else:
                stats.open += 1
                self._counted = True
                recovered = stats.at_limit and stats.open < self.limit * 0.9
                if recovered:
                    stats.at_limit = False
        if over:
            if first:
                log.warning("HQ is at its limit of %d open connections; new connections "
                            "are closed at once until some finish", self.limit)
            transport.abort()
            return
        if recovered:
            log.warning("HQ is below its connection limit again (%d refused meanwhile)",
                        stats.refused)
        super().connection_made(transport)
        self._arm("head", self.settings.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._counted:
            return  # refused in connection_made: uvicorn never knew this connection
        self._counted = False
        with self.stats.lock:
            self.stats.open -= 1
        self._disarm()
        super().connection_lost(exc)

    # ---- timers -----------------------------------------------------------------------

    def _arm(self, kind: str, delay: float) -> None:
        self._disarm()
        self._timer_kind = kind
        self._timer = self.loop.call_later(delay, self._timed_out)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._timer_kind = ""

    def _timed_out(self) -> None:
        kind, self._timer = self._timer_kind, None
        if self.transport is None or self.transport.is_closing():
            return
        if kind == "body" and self.flow is not None and self.flow.read_paused:
            # HQ, not the client, stopped reading (the app is still busy with the body).
            self._arm("body", self.settings.body_timeout_s)
            return
        with self.stats.lock:
            if kind == "head":
                self.stats.head_timeouts += 1
            else:
                self.stats.body_timeouts += 1
        log.debug("closing connection from %s: request %s not received in time",
                  self.client, kind)
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app's next receive() is http.disconnect
            self.cycle.message_event.set()
        self.transport.abort()

    def _follow(self) -> None:
        """Set the timer for what the connection is waiting for now."""
        if self.cycle is not None and self.cycle is not self._cycle_seen:
            self._cycle_seen = self.cycle
            self._requests += 1
            if self._requests >= self.settings.max_requests_per_connection:
                self.cycle.keep_alive = False  # answered with Connection: close
        state = self.conn.their_state
        if state is h11.IDLE:
            if self._timer_kind != "head":  # a deadline: bytes arriving do not extend it
                self._arm("head", self.settings.header_timeout_s)
        elif state is h11.SEND_BODY:
            self._arm("body", self.settings.body_timeout_s)  # idle: every byte resets it
        else:
            self._disarm()  # the request is in; the app answers in its own time

    # ---- uvicorn hooks ------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.transport.is_closing():
            self._follow()

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()
        if not self.transport.is_closing():
            self._timer_kind = ""
            self._follow()


def guarded_protocol(settings: HQServerSettings,
                     stats: GuardStats | None = None) -> type[TLSExtensionH11Protocol]:
    """The h11 protocol class for uvicorn's ``http=`` with ``settings`` applied."""
    return type("GuardedH11Protocol", (_GuardedH11Protocol,), {
        "settings": settings, "stats": stats or GuardStats(),
        "limit": settings.connection_limit()})


class GuardedServer(uvicorn.Server):
    """uvicorn's server plus the TLS handshake timeout and log-once resource errors."""

    def __init__(self, config: uvicorn.Config, settings: HQServerSettings,
                 stats: GuardStats) -> None:
        super().__init__(config)
        self.settings = settings
        self.stats = stats

    async def startup(self, sockets: Any = None) -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._loop_exception)
        # uvicorn does not pass a handshake timeout to create_server (asyncio's default
        # is 60 s); this server's own create_server calls get it.
        original = loop.create_server
        if self.config.is_ssl:
            loop.create_server = functools.partial(  # type: ignore[method-assign]
                original, ssl_handshake_timeout=self.settings.tls_handshake_timeout_s)
        try:
            await super().startup(sockets)
        finally:
            loop.create_server = original  # type: ignore[method-assign]

    def _loop_exception(self, loop: asyncio.AbstractEventLoop,
                        context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in RESOURCE_ERRNOS:
            with self.stats.lock:
                self.stats.accept_failing += 1
                first = self.stats.accept_failing == 1
            if first:
                log.error("HQ cannot accept connections: %s (%s); retrying every second, "
                          "said once until it recovers", exc, context.get("message", ""))
            return
        loop.default_exception_handler(context)
