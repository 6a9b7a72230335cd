"""Byte pumping of the fault proxy: one pump per direction of each link, paced by the faults.

The rules live here under one lock because the test thread changes them while the proxy's
loop reads them chunk by chunk; every change wakes the waiting pumps so it takes effect on
chunks not yet forwarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from tests.faultproxy.faults import (
    _CHUNK,
    _EOF,
    _ERROR,
    _QUEUE_CHUNKS,
    Direction,
    ProxyStats,
    TokenBucket,
    _DirFaults,
    _dirs,
    _Fire,
    _Limit,
    _PeerGone,
)

_Queue = asyncio.Queue[tuple[float, bytes] | object]


class Pumps:
    """The fault rules and counters shared by every link, and the per-direction pump.

    ``update``, ``clear``, ``count`` and ``stats`` are thread-safe; ``start_in_loop``,
    ``kick_in_loop`` and ``pump`` belong to the proxy's event loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults = {d: _DirFaults() for d in Direction}
        self._stats = ProxyStats()
        self._buckets = {d: TokenBucket() for d in Direction}  # shared by all links
        self._changed: asyncio.Event | None = None

    # ---- any thread ------------------------------------------------------------------------

    @property
    def stats(self) -> ProxyStats:
        """A consistent snapshot of the counters."""
        with self._lock:
            return self._stats

    def update(self, direction: Direction | None, **changes: object) -> None:
        """Change fields of the rules of ``direction`` (None: both); the caller kicks."""
        with self._lock:
            for d in _dirs(direction):
                self._faults[d] = replace(self._faults[d], **changes)  # type: ignore[arg-type]

    def clear(self) -> None:
        """Drop every rule of both directions; the caller kicks."""
        with self._lock:
            self._faults = {d: _DirFaults() for d in Direction}

    def count(self, **deltas: int) -> None:
        """Add ``deltas`` to the named counters of ProxyStats."""
        with self._lock:
            s = self._stats
            self._stats = replace(s, **{k: getattr(s, k) + v for k, v in deltas.items()})

    # ---- the proxy's loop ------------------------------------------------------------------

    def start_in_loop(self) -> None:
        """Create the wake-up event inside the running loop."""
        self._changed = asyncio.Event()

    def kick_in_loop(self) -> None:
        """Wake every waiting pump so it re-reads the faults."""
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    async def pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter,
                   d: Direction, tap: Callable[[bytes], None] | None = None) -> None:
        """Forward ``src`` to ``dst`` under the faults of ``d`` until EOF.

        ``tap`` sees exactly the bytes forwarded. Raises _PeerGone when ``src`` fails and
        _Fire when a reset/truncate rule fires.
        """
        queue: _Queue = asyncio.Queue(_QUEUE_CHUNKS)
        reader = asyncio.create_task(self._read_into(src, queue, d))
        try:
            await self._write_from(queue, dst, d, tap)
        finally:
            reader.cancel()

    async def _read_into(self, src: asyncio.StreamReader, queue: _Queue, d: Direction) -> None:
        while True:
            try:
                data = await src.read(_CHUNK)
            except OSError:
                await queue.put(_ERROR)
                return
            if not data:
                await queue.put(_EOF)
                return
            with self._lock:
                latency = self._faults[d].latency_s
            await queue.put((time.monotonic() + latency, data))

    async def _write_from(self, queue: _Queue, dst: asyncio.StreamWriter, d: Direction,
                          tap: Callable[[bytes], None] | None) -> None:
        sent = 0
        seen: _Limit | None = None
        base = 0
        while True:
            item = await queue.get()
            if item is _ERROR:
                raise _PeerGone(d.value)
            if item is _EOF:
                if dst.can_write_eof():
                    dst.write_eof()
                return
            assert isinstance(item, tuple)
            due, data = item
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            while data:
                await self._unstalled(d)
                with self._lock:
                    f = self._faults[d]
                if f.limit is not seen:
                    seen, base = f.limit, sent
                n = len(data)
                if f.rate is not None:
                    n = min(n, await self._take_tokens(d, f.rate, n))
                if seen is not None:
                    n = min(n, seen.nbytes - (sent - base))
                if n > 0:
                    dst.write(data[:n])
                    await dst.drain()
                    sent += n
                    self.count(**{f"bytes_{d.value}": n})
                    if tap is not None:
                        tap(data[:n])
                    data = data[n:]
                if seen is not None and sent - base >= seen.nbytes and self._arm_fire(d, seen):
                    raise _Fire(seen.action)

    def _arm_fire(self, d: Direction, limit: _Limit) -> bool:
        """Consume one firing of ``limit``; False if it was disarmed meanwhile."""
        with self._lock:
            if self._faults[d].limit is not limit:
                return False
            if limit.times_left is not None:
                limit.times_left -= 1
                if limit.times_left <= 0:
                    self._faults[d] = replace(self._faults[d], limit=None)
            return True

    async def _unstalled(self, d: Direction) -> None:
        while True:
            with self._lock:
                until = self._faults[d].stall_until
            now = time.monotonic()
            if until is None or until <= now:
                return
            await self._wait_change(None if math.isinf(until) else until - now)

    async def _take_tokens(self, d: Direction, rate: float, want: int) -> int:
        """Bytes that may be written now; 0 after a wait (the caller re-reads the faults)."""
        granted, wait_s = self._buckets[d].take(time.monotonic(), rate, want)
        if wait_s > 0:
            await self._wait_change(wait_s)
        return granted

    async def _wait_change(self, timeout_s: float | None) -> None:
        assert self._changed is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout_s)
