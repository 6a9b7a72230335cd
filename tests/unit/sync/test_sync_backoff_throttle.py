"""Backoff ceilings and jitter; the token bucket and the paced reader (time driven)."""

from __future__ import annotations

import io
import random

import pytest

from sync.backoff import Backoff
from sync.throttle import ThrottledReader, TokenBucket


@pytest.mark.parametrize("failures,ceiling", [(0, 0.0), (1, 1.0), (2, 2.0), (5, 16.0),
                                              (9, 256.0), (10, 300.0), (1000, 300.0)])
def test_backoff_ceiling(failures: int, ceiling: float) -> None:
    assert Backoff(1.0, 300.0).ceiling(failures) == ceiling


def test_backoff_jitter_stays_within_ceiling_and_spreads() -> None:
    rng = random.Random(7)
    delays = [Backoff(1.0, 300.0).delay(6, rng) for _ in range(500)]
    assert all(0.0 <= d <= 32.0 for d in delays)
    assert max(delays) - min(delays) > 20  # units do not retry in lock-step


def test_backoff_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="base_s"):
        Backoff(10.0, 1.0)


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


@pytest.mark.parametrize("rate", [10_000.0, 125_000.0, 1_000_000.0])
def test_reader_paced_at_the_cap(rate: float) -> None:
    clock = FakeClock()
    data = bytes(range(256)) * 4000  # 1 MB
    bucket = TokenBucket(rate, burst=16 * 1024, clock=clock)
    reader = ThrottledReader(io.BytesIO(data), len(data), bucket, sleep=clock.sleep)
    out = b"".join(iter(lambda: reader.read(8192), b""))
    assert out == data and reader.sent == len(data)
    achieved = len(data) / clock.t
    assert 0.97 * rate <= achieved <= 1.03 * rate


def test_uncapped_reader_never_waits() -> None:
    clock = FakeClock()
    reader = ThrottledReader(io.BytesIO(b"x" * 100_000), 100_000, TokenBucket(None, clock=clock),
                             sleep=clock.sleep)
    assert len(reader) == 100_000
    while reader.read(4096):
        pass
    assert clock.t == 0.0


def test_reader_stops_at_length_from_current_position() -> None:
    f = io.BytesIO(b"0123456789")
    f.seek(3)
    reader = ThrottledReader(f, 4, TokenBucket(None))
    assert reader.read() + reader.read() == b"3456"
