"""Fault rules, counters and the token bucket of the fault-injecting proxy."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import fcntl
import logging
import socket
import struct
import termios
import time
from dataclasses import dataclass, field
from typing import Literal

log = logging.getLogger(__name__)

_CHUNK = 65536
_QUEUE_CHUNKS = 8  # bytes the proxy may hold per direction: 8 chunks, then back-pressure
_FLUSH_TIMEOUT_S = 1.0  # how long a reset waits for the kernel to hand over forwarded bytes
_CONNECT_TIMEOUT_S = 5.0


class Direction(enum.Enum):
    """Which way bytes flow through the proxy."""

    UP = "up"  # client -> upstream
    DOWN = "down"  # upstream -> client


class FaultProxyError(RuntimeError):
    """The proxy could not start or stop as asked."""


@dataclass(frozen=True)
class ProxyStats:
    """Counters since start. Bytes count what was handed to the receiving socket."""

    connections: int = 0  # accepted, including those refused in down mode
    active: int = 0
    bytes_up: int = 0  # delivered to upstream
    bytes_down: int = 0  # delivered to clients
    resets: int = 0  # connections closed with RST by a fault (reset rule, down, reset_all)
    refused: int = 0  # new connections reset because the proxy was down
    truncations: int = 0  # connections closed with FIN by a truncate rule
    upstream_failures: int = 0  # upstream connect failed (client got a reset)


@dataclass
class _Limit:
    """Close the connection once ``nbytes`` went this way since the rule was armed."""

    nbytes: int
    action: Literal["reset", "fin"]
    times_left: int | None  # None: every connection; else disarm after this many firings


@dataclass
class TokenBucket:
    """A byte token bucket; the clock is passed in, so it is plain logic.

    Writes go in pieces of 10 ms worth of bytes, and the bucket holds two pieces: the time a
    sleep overshoots carries over instead of being lost (which would undershoot the rate),
    while a burst after idling stays at 20 ms worth.
    """

    tokens: float = 0.0
    stamp: float | None = None

    def take(self, now: float, rate: float, want: int) -> tuple[int, float]:
        """Take up to ``want`` bytes: (bytes granted, 0.0), or (0, seconds until a piece)."""
        piece = max(1.0, rate / 100)
        n = max(1, min(want, int(piece)))
        elapsed = 0.0 if self.stamp is None else max(0.0, now - self.stamp)
        self.tokens = min(2 * piece, self.tokens + elapsed * rate)
        self.stamp = now
        if self.tokens >= n:
            self.tokens -= n
            return n, 0.0
        return 0, (n - self.tokens) / rate


@dataclass
class _DirFaults:
    latency_s: float = 0.0
    rate: float | None = None  # bytes/s
    stall_until: float | None = None  # monotonic time; math.inf until released
    limit: _Limit | None = None


class _Fire(Exception):
    """A limit rule fired: the link must be reset (RST) or finished (FIN)."""

    def __init__(self, action: Literal["reset", "fin"]) -> None:
        super().__init__(action)
        self.action = action


class _PeerGone(Exception):
    """The source side failed; tear the link down without ceremony."""


_EOF = object()
_ERROR = object()


def _dirs(direction: Direction | None) -> tuple[Direction, ...]:
    return (Direction.UP, Direction.DOWN) if direction is None else (direction,)


def _rst(writer: asyncio.StreamWriter) -> None:
    """Close with RST: SO_LINGER 0 makes close() abort the TCP connection."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _kernel_flushed(writer: asyncio.StreamWriter, timeout_s: float) -> None:
    """Wait until the kernel sent and the peer acknowledged what we wrote (SIOCOUTQ == 0).

    Without this, a reset right after writing could discard bytes the counters say were sent.
    """
    sock = writer.get_extra_info("socket")
    deadline = time.monotonic() + timeout_s
    while sock is not None and sock.fileno() >= 0:
        try:
            queued = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))
        except OSError:
            return
        if queued[0] == 0 or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.002)


@dataclass(eq=False)  # identity hash: links live in a set
class _Link:
    """One proxied connection: the client side and (once connected) the upstream side."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def writers(self) -> list[asyncio.StreamWriter]:
        return [w for w in (self.client, self.upstream) if w is not None]
