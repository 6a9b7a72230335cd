"""SerialBadgeReader <-> BadgeSim over a real pseudo-terminal, including unplug/replug."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial

from evaluator.badge_sim import BadgeSim
from hal.badge.base import BadgeRead
from hal.badge.serial_badge import SerialBadgeReader
from hal.pty import PtyPair

DEADLINE_S = 5.0


def collect(reader: SerialBadgeReader, n: int) -> list[BadgeRead]:
    got: list[BadgeRead] = []
    deadline = time.monotonic() + DEADLINE_S
    while len(got) < n:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"only {got}"
        reader.wait_for_read(remaining)
        got += reader.reads()
    return got


def wait_for(predicate: Callable[[], bool], reader: SerialBadgeReader) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        assert time.monotonic() < deadline
        reader.wait_for_read(0.01)


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[PtyPair]:
    with PtyPair(tmp_path / "badge") as pair:
        yield pair


@pytest.fixture
def reader(pty: PtyPair) -> Iterator[SerialBadgeReader]:
    r = SerialBadgeReader(pty.path, clock=lambda: 7.0, reconnect_s=0.02)
    r.start()
    wait_for(lambda: r.is_open, r)
    yield r
    r.stop()


def test_taps_over_a_pty(pty: PtyPair, reader: SerialBadgeReader) -> None:
    badge = BadgeSim.over_fd(pty.master_fd)
    badge.tap("04:a1:b2:c3")
    badge.send_raw(b"\x02not a badge\x03\r\n")
    badge.tap("0012345678")
    assert collect(reader, 2) == [BadgeRead("04A1B2C3", 7.0), BadgeRead("0012345678", 7.0)]
    assert reader.stats.lines.garbage == 1


def test_unplug_and_replug(
    pty: PtyPair, reader: SerialBadgeReader, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hal.badge.serial_badge")
    BadgeSim.over_fd(pty.master_fd).tap("AAAA1111")
    assert collect(reader, 1)[0].uid == "AAAA1111"
    pty.unplug()
    wait_for(lambda: reader.stats.link.open_failures >= 3, reader)
    assert not reader.is_open
    pty.replug()
    wait_for(lambda: reader.is_open, reader)
    BadgeSim.over_fd(pty.master_fd).tap("BBBB2222")
    assert collect(reader, 1)[0].uid == "BBBB2222"
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "unavailable" in m]) == 1
    assert len([m for m in messages if "recovered" in m]) == 1


def test_taps_over_loop_url() -> None:
    port = serial.serial_for_url("loop://", timeout=0.02)
    reader = SerialBadgeReader("loop://", clock=lambda: 1.0, port_factory=lambda: port)
    reader.start()
    try:
        port.write(b"04A1B2C3\r\n")
        assert collect(reader, 1) == [BadgeRead("04A1B2C3", 1.0)]
    finally:
        reader.stop()
