"""Upload bandwidth cap: a token bucket and a file reader paced by it.

A branch shares one uplink, so clip uploads are capped (bytes per second); the
cap is applied where the bytes leave the file, so any HTTP client streaming the
reader is paced without knowing about it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import BinaryIO


class TokenBucket:
    """``rate`` bytes/s with a burst of ``burst`` bytes; ``rate=None`` means no cap."""

    def __init__(self, rate: float | None, burst: int = 64 * 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be > 0 bytes/s or None, got {rate}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def reserve(self, n: int) -> float:
        """Take ``n`` bytes of budget; return how long to wait before sending them."""
        if self.rate is None:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= n  # may go negative: the debt is the wait
            return max(0.0, -self._tokens / self.rate)


class ThrottledReader:
    """Reads ``length`` bytes of ``f`` from its current position, paced by ``bucket``.

    ``len()`` lets HTTP clients send a Content-Length while streaming it.
    """

    def __init__(self, f: BinaryIO, length: int, bucket: TokenBucket, piece: int = 16 * 1024,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._f = f
        self._left = length
        self._bucket = bucket
        self._piece = piece
        self._sleep = sleep
        self.sent = 0

    def __len__(self) -> int:
        return self._left

    def read(self, size: int = -1) -> bytes:
        want = self._left if size is None or size < 0 else min(size, self._left)
        want = min(want, self._piece)
        if want <= 0:
            return b""
        data = self._f.read(want)
        wait = self._bucket.reserve(len(data))
        if wait > 0:
            self._sleep(wait)
        self._left -= len(data)
        self.sent += len(data)
        return data
