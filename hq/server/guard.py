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
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import h11
import uvicorn

from hq.server.settings import HQServerSettings
from hq.server.tls import TLSExtensionH11Protocol

log = logging.getLogger(__name__)

# Key in the request's ``scope["state"]`` (``request.state``) when the guard closed it.
CLOSED_BY_GUARD = "closed_by_guard"
# asyncio retries a failed accept after 1 s; quiet for longer means it works again.
ACCEPT_QUIET_S = 2.0
RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class GuardStats:
    """Counts shared by every connection of one server (for logs and tests)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.live = 0  # accepted and not yet gone, TLS handshakes in progress included
        self.refused = 0  # closed at once: over the connection limit
        self.head_timeouts = 0
        self.body_timeouts = 0
        self.limit = 1 << 30  # set from the settings by guarded_protocol
        self.at_limit = False  # the episode of "over the limit", logged once
        self.accept_failing = 0  # failed accepts in the current resource-error episode
        self.last_accept_failure = 0.0

    def note_accept_failed(self) -> bool:
        """Count a failed accept; True if it starts an episode (log it then)."""
        with self.lock:
            self.accept_failing += 1
            self.last_accept_failure = time.monotonic()
            return self.accept_failing == 1

    def note_accept_ok(self) -> None:
        """A connection was accepted: the episode ends once accepts have not failed for
        ``ACCEPT_QUIET_S`` (one freed descriptor lets one accept through mid-episode)."""
        with self.lock:
            if not self.accept_failing or \
                    time.monotonic() - self.last_accept_failure < ACCEPT_QUIET_S:
                return
            failed, self.accept_failing = self.accept_failing, 0
        log.warning("HQ accepts connections again (%d accept attempts failed for lack "
                    "of resources)", failed)


class _Slot:
    """One accepted connection's place under the limit, given back exactly once: when
    the connection is lost, or (a TLS handshake that failed or timed out, which the
    protocol never hears of) when its protocol object is collected."""

    __slots__ = ("released", "stats")

    def __init__(self, stats: GuardStats) -> None:
        self.stats = stats
        self.released = False

    def release(self) -> None:
        stats = self.stats
        with stats.lock:
            if self.released:
                return
            self.released = True
            stats.live -= 1
            recovered = stats.at_limit and stats.live < stats.limit * 0.9
            if recovered:
                stats.at_limit = False
        if recovered:
            log.warning("HQ is below its connection limit again (%d refused meanwhile)",
                        stats.refused)


class OverConnectionLimit(Exception):
    """Raised by the protocol factory: asyncio then drops the accepted socket at once."""


def limited(factory: Callable[[], Any], stats: GuardStats) -> Callable[[], Any]:
    """``factory`` (called by asyncio at every accept), refusing past ``stats.limit``."""

    def make() -> Any:
        with stats.lock:
            over = stats.live >= stats.limit
            if over:
                stats.refused += 1
                first = not stats.at_limit
                stats.at_limit = True
            else:
                stats.live += 1
        if over:
            if first:
                log.warning("HQ is at its limit of %d open connections; new connections "
                            "are closed at once until some finish", stats.limit)
            raise OverConnectionLimit
        protocol = factory()
        slot = _Slot(stats)
        protocol.slot = slot
        weakref.finalize(protocol, slot.release)
        return protocol

    return make


class _GuardedH11Protocol(TLSExtensionH11Protocol):
    settings: HQServerSettings
    stats: GuardStats
    slot: _Slot | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_kind = ""
        self._requests = 0
        self._cycle_seen: object = None

    # ---- connection life --------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.stats.note_accept_ok()
        super().connection_made(transport)
        self._arm("head", self.settings.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        slot = getattr(self, "slot", None)
        if slot is not None:
            slot.release()
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
            # The app sees http.disconnect; its answer goes nowhere, so it is not a
            # refusal worth a line each (an attacker would choose how many lines).
            self.cycle.scope["state"][CLOSED_BY_GUARD] = kind
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.abort()

    def _follow(self) -> None:
        """Set the timer for what the connection is waiting for now."""
        if self.cycle is not None and self.cycle is not self._cycle_seen:
            self._cycle_seen = self.cycle
            self._requests += 1
            if self._requests >= self.settings.max_requests_per_connection:
                self.cycle.keep_alive = False  # closed after this response, which says so
                self.cycle.default_headers = [*self.cycle.default_headers,
                                              (b"connection", b"close")]
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
    stats = stats or GuardStats()
    stats.limit = settings.connection_limit()
    return type("GuardedH11Protocol", (_GuardedH11Protocol,), {
        "settings": settings, "stats": stats})


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
        # is 60 s), and its protocol factory knows no connection limit: this server's own
        # create_server calls get both.
        original: Any = loop.create_server
        extra = {"ssl_handshake_timeout": self.settings.tls_handshake_timeout_s} \
            if self.config.is_ssl else {}

        def create_server(factory: Callable[[], Any], *args: Any, **kwargs: Any) -> Any:
            return original(limited(factory, self.stats), *args, **kwargs, **extra)

        loop.create_server = create_server  # type: ignore[method-assign, assignment]
        try:
            await super().startup(sockets)
        finally:
            loop.create_server = original  # type: ignore[method-assign]

    def _loop_exception(self, loop: asyncio.AbstractEventLoop,
                        context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in RESOURCE_ERRNOS:
            if self.stats.note_accept_failed():
                log.error("HQ cannot accept connections: %s (%s); retrying every second, "
                          "said once until it recovers", exc, context.get("message", ""))
            return
        loop.default_exception_handler(context)
