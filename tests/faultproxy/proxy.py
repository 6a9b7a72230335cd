"""The fault-injecting proxy itself: listener, links and the asyncio loop thread.

The bytes of each direction are pumped, under the faults, by pump.py. With a ``TlsTap``
the proxy terminates TLS on both legs and logs the HTTP it forwards (wire.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from types import TracebackType
from typing import Literal

from tests.faultproxy.faults import (
    _CONNECT_TIMEOUT_S,
    _FLUSH_TIMEOUT_S,
    Direction,
    FaultProxyError,
    ProxyStats,
    _Fire,
    _kernel_flushed,
    _Limit,
    _Link,
    _rst,
)
from tests.faultproxy.pump import Pumps
from tests.faultproxy.wire import TlsTap, WireLog

log = logging.getLogger(__name__)


def _flush_on_drain(transport: asyncio.BaseTransport) -> None:
    """Make drain() wait for an empty buffer, so counted (and tapped) bytes are in the kernel.

    A plain socket transport gets zero limits. A TLS one cannot: asyncio's SSL transport
    pauses when its buffer is ``>= high``, so with 0 it pauses while empty and never resumes.
    It gets high=1 (paused while anything is pending) and its socket transport, under it,
    zero limits (its back-pressure keeps the encrypted bytes pending above until the kernel
    took them).
    """
    raw = getattr(getattr(transport, "_ssl_protocol", None), "_transport", None)
    if raw is None:
        transport.set_write_buffer_limits(high=0)  # type: ignore[attr-defined]
        return
    raw.set_write_buffer_limits(high=0)
    transport.set_write_buffer_limits(high=1, low=0)  # type: ignore[attr-defined]


class FaultProxy:
    """TCP proxy on 127.0.0.1:<ephemeral> forwarding to ``upstream`` with injectable faults."""

    def __init__(self, upstream: tuple[str, int], *, host: str = "127.0.0.1",
                 tls: TlsTap | None = None) -> None:
        self._upstream = upstream
        self._tls = tls
        # Filled only with a TlsTap: the HTTP exchanges as forwarded (after the faults).
        self.wire = WireLog()
        self._host = host
        self._port = 0
        self._lock = threading.Lock()  # guards _upstream and _down
        self._pumps = Pumps()
        self._down = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._shutdown: asyncio.Event | None = None
        self._links: set[_Link] = set()
        self._upstream_ok = True

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self, timeout_s: float = 5.0) -> FaultProxy:
        """Bind and start forwarding; returns self once the port is known."""
        if self._thread is not None:
            raise FaultProxyError("fault proxy already started")
        self._thread = threading.Thread(target=self._run, name="faultproxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise FaultProxyError(f"fault proxy did not start within {timeout_s}s")
        if self._start_error is not None:
            raise FaultProxyError(f"fault proxy failed to start: {self._start_error}")
        log.info("fault proxy %s:%d -> %s:%d", self._host, self._port, *self._upstream)
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close the listener and every connection, end the loop and join the thread."""
        thread, loop, shutdown = self._thread, self._loop, self._shutdown
        if thread is None:
            return
        if loop is not None and shutdown is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop already finished
                loop.call_soon_threadsafe(shutdown.set)
        thread.join(timeout_s)
        if thread.is_alive():
            raise FaultProxyError(f"fault proxy thread still running after {timeout_s}s")
        self._thread = None
        log.info("fault proxy on port %d stopped", self._port)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The listening port (0 before start)."""
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) clients should connect to."""
        return (self._host, self._port)

    @property
    def stats(self) -> ProxyStats:
        """A consistent snapshot of the counters."""
        return self._pumps.stats

    @property
    def is_running(self) -> bool:
        """Whether the proxy thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # ---- faults (thread-safe) --------------------------------------------------------------

    def set_upstream(self, upstream: tuple[str, int]) -> None:
        """Forward new connections to another address (e.g. a restarted server's new port)."""
        with self._lock:
            self._upstream = upstream
        log.info("fault proxy :%d upstream now %s:%d", self._port, *upstream)

    def set_latency(self, seconds: float, direction: Direction | None = None) -> None:
        """Delay every chunk by ``seconds`` (pipelined: latency does not cut throughput)."""
        if seconds < 0 or not math.isfinite(seconds):
            raise ValueError(f"latency must be a finite number >= 0, got {seconds!r}")
        self._update(direction, latency_s=seconds)

    def set_bandwidth(self, bytes_per_s: float | None, direction: Direction | None = None) -> None:
        """Cap throughput with a token bucket shared by all connections; None lifts the cap."""
        if bytes_per_s is not None and not (bytes_per_s > 0 and math.isfinite(bytes_per_s)):
            raise ValueError(f"bandwidth must be a finite number > 0 or None, got {bytes_per_s!r}")
        self._update(direction, rate=bytes_per_s)

    def reset_after(self, nbytes: int, direction: Direction, *, times: int | None = None) -> None:
        """RST a connection once ``nbytes`` more went ``direction`` on it.

        Counted per connection from when the rule was armed (or the connection opened, if
        later). ``times`` disarms the rule after that many resets; None keeps it armed.
        """
        self._set_limit(nbytes, direction, "reset", times)

    def truncate_after(self, nbytes: int, direction: Direction = Direction.DOWN, *,
                       times: int | None = None) -> None:
        """Forward only ``nbytes`` more (of the response, by default), then close with FIN."""
        self._set_limit(nbytes, direction, "fin", times)

    def clear_limit(self, direction: Direction | None = None) -> None:
        """Disarm reset/truncate rules."""
        self._update(direction, limit=None)

    def stall(self, seconds: float | None = None, direction: Direction | None = None) -> None:
        """Hold bytes (forward nothing) for ``seconds``, or until ``release()`` if None."""
        if seconds is not None and (seconds < 0 or not math.isfinite(seconds)):
            raise ValueError(f"stall must be a finite number >= 0 or None, got {seconds!r}")
        until = math.inf if seconds is None else time.monotonic() + seconds
        self._update(direction, stall_until=until)

    def release(self, direction: Direction | None = None) -> None:
        """End a stall."""
        self._update(direction, stall_until=None)

    def set_down(self, down: bool) -> None:
        """While down, every new connection is accepted and reset at once (HQ unreachable)."""
        with self._lock:
            changed, self._down = self._down != down, down
        if changed:
            log.info("fault proxy :%d %s", self._port, "down" if down else "up again")

    def reset_all(self) -> None:
        """RST every open connection now (new ones are unaffected)."""
        self._call(self._reset_all)

    def clear(self) -> None:
        """Remove every fault: no latency, cap, stall, limit, and not down."""
        self._pumps.clear()
        self.set_down(False)
        self._kick()

    # ---- internals: state ------------------------------------------------------------------

    def _set_limit(self, nbytes: int, direction: Direction, action: Literal["reset", "fin"],
                   times: int | None) -> None:
        if nbytes < 0:
            raise ValueError(f"byte count must be >= 0, got {nbytes}")
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None, got {times}")
        self._update(direction, limit=_Limit(nbytes, action, times))

    def _update(self, direction: Direction | None, **changes: object) -> None:
        self._pumps.update(direction, **changes)
        log.info("fault proxy :%d %s: %s", self._port,
                 "both" if direction is None else direction.value, changes)
        self._kick()

    def _call(self, fn: object) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(fn)  # type: ignore[arg-type]

    def _kick(self) -> None:
        """Wake every waiter so it re-reads the faults."""
        self._call(self._pumps.kick_in_loop)

    # ---- internals: loop -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._start_error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._shutdown = asyncio.Event()
        self._pumps.start_in_loop()
        server = await asyncio.start_server(
            self._handle, self._host, 0,
            ssl=self._tls.server_context() if self._tls is not None else None)
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._shutdown.wait()
        finally:
            server.close()
            tasks = [t for link in self._links for t in link.tasks]
            for link in list(self._links):
                for w in link.writers():
                    w.transport.abort()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()

    def _reset_all(self) -> None:
        for link in list(self._links):
            for w in link.writers():
                _rst(w)
            self._pumps.count(resets=1)
            for t in link.tasks:
                t.cancel()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = _Link(writer)
        task = asyncio.current_task()
        assert task is not None
        link.tasks.add(task)
        self._pumps.count(connections=1)
        with self._lock:
            down, upstream = self._down, self._upstream
        if down:
            _rst(writer)
            self._pumps.count(resets=1, refused=1)
            return
        self._links.add(link)
        self._pumps.count(active=1)
        try:
            await self._forward(link, reader, upstream)
        except asyncio.CancelledError:
            pass
        finally:
            self._links.discard(link)
            self._pumps.count(active=-1)
            for w in link.writers():
                w.transport.abort()

    async def _forward(self, link: _Link, creader: asyncio.StreamReader,
                       upstream: tuple[str, int]) -> None:
        try:
            tls = {} if self._tls is None else {"ssl": self._tls.client_context(),
                                                "server_hostname": self._tls.server_hostname}
            ureader, uwriter = await asyncio.wait_for(
                asyncio.open_connection(*upstream, **tls), _CONNECT_TIMEOUT_S)  # type: ignore[arg-type]
        except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError
            if self._upstream_ok:
                log.warning("fault proxy :%d cannot reach upstream %s:%d: %s",
                            self._port, *upstream, exc)
            self._upstream_ok = False
            self._pumps.count(upstream_failures=1)
            _rst(link.client)
            return
        if not self._upstream_ok:
            log.info("fault proxy :%d reaches upstream %s:%d again", self._port, *upstream)
        self._upstream_ok = True
        link.upstream = uwriter
        for w in link.writers():
            _flush_on_drain(w.transport)
        tap = self.wire.link() if self._tls is not None else None
        pipes = {
            asyncio.create_task(self._pumps.pump(creader, uwriter, Direction.UP,
                                                 tap.up if tap else None)),
            asyncio.create_task(self._pumps.pump(ureader, link.client, Direction.DOWN,
                                                 tap.down if tap else None)),
        }
        link.tasks |= pipes
        try:
            pending = pipes
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
                for t in done:
                    err = t.exception()
                    if isinstance(err, _Fire):
                        await self._fire(link, err.action)
                        return
                    if err is not None:
                        return
        finally:
            for t in pipes:
                t.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)

    async def _fire(self, link: _Link, action: Literal["reset", "fin"]) -> None:
        if action == "reset":
            for w in link.writers():
                await _kernel_flushed(w, _FLUSH_TIMEOUT_S)
                _rst(w)
            self._pumps.count(resets=1)
        else:
            for w in link.writers():
                w.close()
            self._pumps.count(truncations=1)
