"""SerialBadgeReader over pyserial's loop:// transport."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import serial

from hal.badge.base import BadgeRead
from hal.badge.serial_badge import SerialBadgeReader


def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    tick = threading.Event()
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        tick.wait(0.005)
    return True


def collect(reader: SerialBadgeReader, n: int, timeout_s: float = 5.0) -> list[BadgeRead]:
    got: list[BadgeRead] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < n:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"only {got}"
        reader.wait_for_read(remaining)
        got += reader.reads()
    return got


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def port() -> serial.SerialBase:
    # The reader never writes, so the test can write into the same loop:// port.
    return serial.serial_for_url("loop://", timeout=0.02)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reader(port: serial.SerialBase, clock: Clock) -> Iterator[SerialBadgeReader]:
    r = SerialBadgeReader("loop://", clock=clock, port_factory=lambda: port, monotonic=clock)
    r.start()
    yield r
    r.stop()


def test_taps_arrive_normalised_and_stamped(
    reader: SerialBadgeReader, port: serial.SerialBase
) -> None:
    port.write(b"04a1b2c3\r\n0012345678\n")
    assert collect(reader, 2) == [BadgeRead("04A1B2C3", 10.0), BadgeRead("0012345678", 10.0)]


def test_a_held_card_repeating_its_uid_is_one_tap(
    reader: SerialBadgeReader, port: serial.SerialBase, clock: Clock
) -> None:
    port.write(b"04A1B2C3\r\n")
    collect(reader, 1)
    clock.now = 10.5
    port.write(b"04A1B2C3\r\n")  # repeat within 1 s: suppressed
    assert wait_until(lambda: reader.stats.repeats_suppressed == 1)
    clock.now = 11.2  # 0.7 s after the repeat: still the same hold
    port.write(b"04A1B2C3\r\n")
    assert wait_until(lambda: reader.stats.repeats_suppressed == 2)
    clock.now = 13.0  # a real second tap
    port.write(b"04A1B2C3\r\n")
    assert collect(reader, 1) == [BadgeRead("04A1B2C3", 13.0)]


def test_garbage_and_long_lines_are_counted_logged_once_and_lose_nothing(
    reader: SerialBadgeReader, port: serial.SerialBase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    port.write(b"hello\r\n" + b"9" * 500 + b"\r\n\xff\xfe\r\n" + b"04A1B2C3\r\n")
    assert collect(reader, 1) == [BadgeRead("04A1B2C3", 10.0)]
    stats = reader.stats.lines
    assert (stats.garbage, stats.too_long, stats.uids) == (2, 1, 1)
    assert len([r for r in caplog.records if "rejected a line" in r.getMessage()]) == 1


def test_reads_beyond_the_queue_drop_the_oldest(port: serial.SerialBase, clock: Clock) -> None:
    r = SerialBadgeReader(
        "loop://", clock=clock, queue_size=4, port_factory=lambda: port, monotonic=clock
    )
    r.start()
    try:
        port.write(b"".join(f"{i:08X}\r\n".encode() for i in range(10)))
        assert wait_until(lambda: r.stats.lines.uids == 10)
        assert [x.uid for x in r.reads()] == [f"{i:08X}" for i in range(6, 10)]
        assert r.stats.reads_dropped == 6
    finally:
        r.stop()
