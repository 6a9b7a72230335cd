"""Silent microphone: zero samples on demand, so replays without audio still get a track.

Also holds the sample/block arithmetic shared with the WAV back-end: both
produce exactly the samples whose times lie before ``until``, cut on a fixed
block grid, so consecutive reads join without gaps or overlaps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from hal.mic.base import AudioBlock

if TYPE_CHECKING:
    from hal.mic.config import SilentMicConfig

# Tolerance, in samples, for "(t - start) * rate is a whole number" after float
# rounding; clock-based times around 1e6 s carry ~1e-10 s of noise.
_EPS = 1e-3


def samples_before(until: float, start_t: float, sample_rate: int) -> int:
    """How many samples, the first at ``start_t``, have a time strictly before ``until``."""
    if until <= start_t:
        return 0
    return max(0, math.ceil((until - start_t) * sample_rate - _EPS))


def block_spans(begin: int, end: int, block_n: int) -> list[tuple[int, int]]:
    """Split sample indices ``[begin, end)`` on the ``block_n`` grid.

    A read that ends inside a block yields the partial piece; the next read
    yields the rest of that block, so block starts stay on the grid.
    """
    if block_n <= 0:
        raise ValueError(f"block_n must be > 0, got {block_n}")
    spans: list[tuple[int, int]] = []
    pos = begin
    while pos < end:
        stop = min(end, (pos // block_n + 1) * block_n)
        spans.append((pos, stop))
        pos = stop
    return spans


def block_size(sample_rate: int, block_s: float) -> int:
    """Samples per block for a block length in seconds (at least one)."""
    if block_s <= 0:
        raise ValueError(f"block_s must be > 0, got {block_s}")
    return max(1, round(sample_rate * block_s))


class SilentMicrophone:
    """A ``Microphone`` that hears nothing: zero blocks up to each ``read(until)``.

    ``start_t`` is the time of the first sample: 0 for replays in media time,
    the clock value at start for real-time replays.
    """

    @classmethod
    def from_config(cls, cfg: SilentMicConfig, clock: Callable[[], float]) -> SilentMicrophone:
        """From its ``[microphone]`` section; nothing opens until start()."""
        # Live, the unit clock is monotonic time: silence starts now, not at 0.
        return cls(sample_rate=cfg.sample_rate, start_t=clock())

    def __init__(self, sample_rate: int = 16000, *, block_s: float = 0.1, start_t: float = 0.0):
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be > 0, got {sample_rate}")
        self.sample_rate = sample_rate
        self._block_n = block_size(sample_rate, block_s)
        self._start_t = start_t
        self._done = 0  # samples already handed out

    def start(self) -> None:
        """Nothing to open."""

    def stop(self) -> None:
        """Nothing to release."""

    def read(self, until: float) -> list[AudioBlock]:
        """Zero blocks covering every sample time in [previous until, until)."""
        end = samples_before(until, self._start_t, self.sample_rate)
        blocks = [
            AudioBlock(
                pcm=np.zeros(b - a, dtype=np.int16),
                t=self._start_t + a / self.sample_rate,
                sample_rate=self.sample_rate,
            )
            for a, b in block_spans(self._done, end, self._block_n)
        ]
        self._done = max(self._done, end)
        return blocks
