"""Retry timing for the HQ link: exponential backoff with full jitter (pure).

Written here rather than taken from tenacity: the sync loop is a scheduler that
must keep doing other work (alerts, other clips) between attempts, so it needs
"when may I try again", not a decorator that sleeps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay after ``n`` consecutive failures: uniform in [0, min(cap, base * 2**(n-1))]."""

    base_s: float = 1.0
    cap_s: float = 300.0

    def __post_init__(self) -> None:
        if not 0 < self.base_s <= self.cap_s:
            raise ValueError(f"need 0 < base_s ({self.base_s}) <= cap_s ({self.cap_s})")

    def ceiling(self, failures: int) -> float:
        """Largest delay after ``failures`` consecutive failures (0 when none)."""
        if failures <= 0:
            return 0.0
        return min(self.cap_s, self.base_s * 2.0 ** min(failures - 1, 62))

    def delay(self, failures: int, rng: random.Random) -> float:
        """Full jitter spreads a branch's units apart after a shared outage."""
        return rng.uniform(0.0, self.ceiling(failures))
