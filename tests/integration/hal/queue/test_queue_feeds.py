"""Queue feeds against their simulators: serial lines over a real pty, HTTP on loopback."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from evaluator.queue_sim import QueueLineSim
from evaluator.queue_sim_http import QueueHttpSim
from hal.pty import PtyPair
from hal.queue.base import QueueReading
from hal.queue.http_feed import HttpQueueFeed
from hal.queue.lines import Waiting, encode
from hal.queue.serial_feed import SerialQueueFeed

DEADLINE_S = 5.0


def collect(feed: SerialQueueFeed | HttpQueueFeed,
            until: Callable[[list[QueueReading]], bool]) -> list[QueueReading]:
    got: list[QueueReading] = []
    deadline = time.monotonic() + DEADLINE_S
    while not until(got):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"deadline passed; readings so far: {got}"
        feed.wait_for_reading(remaining)
        got += feed.readings()
    return got


def calls(rs: list[QueueReading]) -> list[tuple[str, str]]:
    return [(r.ticket, r.counter) for r in rs if r.kind == "called"]


def waits(rs: list[QueueReading]) -> list[tuple[str, int]]:
    return [(r.service, r.waiting) for r in rs if r.kind == "waiting"]


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[PtyPair]:
    with PtyPair(tmp_path / "queue") as pair:
        yield pair


@pytest.fixture
def feed(pty: PtyPair) -> Iterator[SerialQueueFeed]:
    f = SerialQueueFeed(pty.path, clock=time.monotonic, reconnect_s=0.02)
    f.start()
    deadline = time.monotonic() + DEADLINE_S
    while f.link_stats.opens < 1:  # lines sent before the port opens are flushed by open()
        assert time.monotonic() < deadline
        f.wait_for_reading(0.01)
    yield f
    f.stop()


def test_serial_waiting_calls_and_heartbeats(pty: PtyPair, feed: SerialQueueFeed) -> None:
    with QueueLineSim.over_fd(pty.master_fd, heartbeat_s=0.05, repeat_s=None) as sim:
        collect(feed, lambda rs: any(r.kind == "alive" for r in rs))  # the port is open
        sim.set_waiting("A", 7)
        sim.call("A031", "3")
        got = collect(feed, lambda rs: bool(calls(rs)) and any(r.kind == "alive" for r in rs))
    assert waits(got) == [("A", 7)] and calls(got) == [("A031", "3")]
    assert feed.problem == ""


def test_serial_garbage_floods_and_bad_checksums_invent_nothing(
        pty: PtyPair, feed: SerialQueueFeed, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hal.queue.serial_feed")
    bad = bytearray(encode(Waiting("A", 99)))
    bad[4] ^= 0x01  # "$Q A 99" -> "$Q A 89": its CRC no longer matches
    rng = random.Random(5)
    with QueueLineSim.over_fd(pty.master_fd, heartbeat_s=None, repeat_s=None) as sim:
        sim.send_raw(rng.randbytes(64 * 1024) + b"\n" + bytes(bad) + b"x" * 5000 + b"\n"
                     + b"$Q A 5*0000\r\n" * 200)
        sim.set_waiting("B", 2)
        got = collect(feed, lambda rs: bool(waits(rs)))
    assert waits(got) == [("B", 2)]
    stats = feed.parser_stats
    assert stats.rejected.get("bad_checksum", 0) >= 201 and stats.rejected.get("overlong", 0) >= 1
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "rejected a line" in warnings[0].getMessage()


def test_serial_unplug_and_replug(pty: PtyPair, feed: SerialQueueFeed) -> None:
    with QueueLineSim.over_fd(pty.master_fd, heartbeat_s=None, repeat_s=None) as sim:
        sim.set_waiting("A", 1)
        collect(feed, lambda rs: bool(waits(rs)))
    pty.unplug()
    deadline = time.monotonic() + DEADLINE_S
    while feed.link_stats.open_failures < 2:
        assert time.monotonic() < deadline
        feed.wait_for_reading(0.01)
    assert "read failed" in feed.problem
    pty.replug()
    with QueueLineSim.over_fd(pty.master_fd, heartbeat_s=None, repeat_s=None) as sim:
        deadline = time.monotonic() + DEADLINE_S
        while feed.link_stats.opens < 2:
            assert time.monotonic() < deadline
            feed.wait_for_reading(0.01)
        sim.set_waiting("A", 4)
        assert waits(collect(feed, lambda rs: bool(waits(rs)))) == [("A", 4)]


# ---- HTTP ----------------------------------------------------------------------------


@pytest.fixture
def http_sim() -> Iterator[QueueHttpSim]:
    with QueueHttpSim() as sim:
        yield sim


def test_http_poll_reads_the_board(http_sim: QueueHttpSim) -> None:
    http_sim.board.set_waiting("A", 7)
    http_sim.board.set_waiting("B", 0)
    http_sim.board.call("A030", "2")
    http_sim.board.call("A031", "3")
    http_sim.board.call("A032", "3")
    feed = HttpQueueFeed(http_sim.url, clock=time.monotonic, poll_s=3600)
    assert feed.poll_once()
    first = feed.readings()
    # Baseline: only what each counter shows now.
    assert waits(first) == [("A", 7), ("B", 0)]
    assert calls(first) == [("A030", "2"), ("A032", "3")]
    http_sim.board.call("A033", "3")
    http_sim.board.call("B001", "1")
    assert feed.poll_once()
    assert calls(feed.readings()) == [("A033", "3"), ("B001", "1")]
    assert feed.poll_once()
    again = feed.readings()
    assert calls(again) == [] and [r.kind for r in again][-1] == "alive"
    http_sim.board.renumber()
    http_sim.board.call("C001", "3")
    assert feed.poll_once()
    assert calls(feed.readings()) == [("C001", "3")] and feed.stats.renumbered == 1


@pytest.mark.parametrize("fault", ["500", "garbage", "bad_shape", "huge"])
def test_http_faults_are_refused_whole(http_sim: QueueHttpSim, fault: str) -> None:
    http_sim.board.set_waiting("A", 7)
    http_sim.fault = fault  # type: ignore[assignment]
    feed = HttpQueueFeed(http_sim.url, clock=time.monotonic, poll_s=3600, max_bytes=64 * 1024)
    assert not feed.poll_once()
    assert feed.readings() == [] and feed.problem
    http_sim.fault = "none"
    assert feed.poll_once() and waits(feed.readings()) == [("A", 7)]
    assert feed.problem == ""


def test_http_nobody_listening_and_the_poller_thread(http_sim: QueueHttpSim) -> None:
    dead = QueueHttpSim()
    url = dead.url
    dead.stop()
    feed = HttpQueueFeed(url, clock=time.monotonic, poll_s=3600, timeout_s=1)
    assert not feed.poll_once() and "poll failed" in feed.problem
    http_sim.board.set_waiting("Z", 3)
    live = HttpQueueFeed(http_sim.url, clock=time.monotonic, poll_s=0.05)
    live.start()
    try:
        got = collect(live, lambda rs: sum(r.kind == "alive" for r in rs) >= 3)
    finally:
        live.stop()
    assert ("Z", 3) in waits(got) and http_sim.requests >= 3
