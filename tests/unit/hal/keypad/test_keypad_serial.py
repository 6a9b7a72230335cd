"""SerialKeypad over pyserial's loop:// transport: events, ACKs, duplicates, floods, link state."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import serial

from hal.badge.base import BadgeReader
from hal.badge.serial_badge import SerialBadgeReader
from hal.keypad.base import Keypad, KeypadEvent, StaffCard
from hal.keypad.protocol import (
    Ack,
    FrameParser,
    Heartbeat,
    Key,
    Message,
    ParseError,
    Ping,
    PromptRating,
    ProtocolError,
    ShowStaff,
    encode,
)
from hal.keypad.serial_keypad import SerialKeypad

DEADLINE_S = 5.0


class SharedLoop:
    """A loop:// port shared by the test (device side) and the keypad under test.

    loop:// queues bytes one at a time, so two threads writing at once could interleave
    frames; writes go through one lock. The keypad's writes are recorded.
    """

    def __init__(self) -> None:
        self._port = serial.serial_for_url("loop://", timeout=0.02)
        self._lock = threading.Lock()
        self.written: list[bytes] = []
        self.fail_reads = False

    @property
    def in_waiting(self) -> int:
        return int(self._port.in_waiting)

    def read(self, size: int = 1) -> bytes:
        if self.fail_reads:
            raise serial.SerialException("device reports readiness to read but returned no data")
        data: bytes = self._port.read(size)
        return data

    def write(self, data: bytes, /) -> int | None:
        with self._lock:
            self.written.append(bytes(data))
            return int(self._port.write(data))

    def device_write(self, data: bytes) -> None:
        with self._lock:
            self._port.write(data)

    def close(self) -> None:
        self._port.close()

    def sent(self) -> list[Message]:
        """Messages the keypad wrote."""
        items = FrameParser().feed(b"".join(self.written))
        return [m for m in items if not isinstance(m, ParseError)]


def wait_until(predicate: Callable[[], bool], timeout_s: float = DEADLINE_S) -> bool:
    """Re-check ``predicate`` until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    done = threading.Event()
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        done.wait(0.005)
    return True


def collect(
    kp: SerialKeypad, until: Callable[[list[KeypadEvent]], bool], timeout_s: float = DEADLINE_S
) -> list[KeypadEvent]:
    """Drain events until ``until(all events so far)`` holds; fail at the deadline."""
    got: list[KeypadEvent] = []
    deadline = time.monotonic() + timeout_s
    while not until(got):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"deadline passed; events so far: {got}"
        kp.wait_for_event(remaining)
        got += kp.events()
    return got


def has_key(seq: int) -> Callable[[list[KeypadEvent]], bool]:
    return lambda evs: any(e.kind == "key" and e.seq == seq for e in evs)


@pytest.fixture
def loop() -> SharedLoop:
    return SharedLoop()


@pytest.fixture
def keypad(loop: SharedLoop) -> Iterator[SerialKeypad]:
    kp = SerialKeypad("loop://", clock=lambda: 42.5, port_factory=lambda: loop)
    kp.start()
    yield kp
    kp.stop()


def test_key_frame_becomes_an_event_on_the_callers_clock_and_is_acked(
    keypad: SerialKeypad, loop: SharedLoop
) -> None:
    loop.device_write(encode(Key(4, seq=9)))
    events = collect(keypad, has_key(9))
    assert events[0] == KeypadEvent("link", 42.5, up=True)
    assert KeypadEvent("key", 42.5, key=4, seq=9) in events
    assert wait_until(lambda: Ack(9, seq=1) in loop.sent())  # seq 0 was the opening PING


def test_a_retransmitted_press_counts_once_but_is_acked_twice(
    keypad: SerialKeypad, loop: SharedLoop
) -> None:
    frame = encode(Key(4, seq=9))
    loop.device_write(frame + frame + encode(Key(4, seq=10)))
    events = collect(keypad, has_key(10))
    assert [e.seq for e in events if e.kind == "key"] == [9, 10]
    assert keypad.stats.duplicates == 1
    assert wait_until(
        lambda: [m.acked_seq for m in loop.sent() if isinstance(m, Ack)] == [9, 9, 10]
    )


def test_frames_of_the_other_direction_are_counted_not_reported(
    keypad: SerialKeypad, loop: SharedLoop
) -> None:
    keypad.show_staff(StaffCard("张三", "A001", "p1"))  # echoed back by loop://
    loop.device_write(encode(PromptRating(100)) + encode(Key(1, seq=3)))
    events = collect(keypad, has_key(3))
    assert {e.kind for e in events} == {"link", "key"}
    assert keypad.stats.unexpected >= 2


def test_a_flood_of_events_drops_the_oldest_and_counts(loop: SharedLoop) -> None:
    kp = SerialKeypad("loop://", clock=time.monotonic, queue_size=8, port_factory=lambda: loop)
    kp.start()
    try:
        loop.device_write(b"".join(encode(Key(i % 5 + 1, seq=i)) for i in range(40)))
        assert wait_until(lambda: kp.stats.parser.frames_ok >= 40)
        events = kp.events()
        assert [e.seq for e in events] == list(range(32, 40))
        assert kp.stats.events_dropped == 41 - 8  # 40 keys + the link-up event
    finally:
        kp.stop()


def test_a_garbage_flood_does_not_block_the_next_frame(
    keypad: SerialKeypad, loop: SharedLoop
) -> None:
    noise = random.Random(7).randbytes(64 * 1024)
    loop.device_write(noise + encode(Key(2, seq=200)))
    events = collect(keypad, has_key(200))
    assert [e.key for e in events if e.kind == "key"] == [2]
    stats = keypad.stats.parser
    assert stats.discarded_bytes + stats.pending >= len(noise) - 64
    assert stats.bytes_in == stats.bytes_ok + stats.discarded_bytes + stats.pending


def test_silence_takes_the_link_down_once_and_a_frame_brings_it_back(
    loop: SharedLoop, caplog: pytest.LogCaptureFixture
) -> None:
    now = [100.0]
    kp = SerialKeypad(
        "loop://",
        clock=lambda: now[0],
        link_timeout_s=5.0,
        port_factory=lambda: loop,
        monotonic=lambda: now[0],
    )
    caplog.set_level(logging.INFO, logger="hal.keypad.serial_keypad")
    kp.start()
    try:
        loop.device_write(encode(Heartbeat(1, seq=1)))
        collect(kp, lambda evs: any(e.kind == "heartbeat" for e in evs))
        now[0] = 106.0
        down = collect(kp, lambda evs: any(e.kind == "link" for e in evs))
        assert down == [KeypadEvent("link", 106.0, up=False, detail="no frame for 5 s")]
        now[0] = 120.0  # still silent: no second report
        loop.device_write(encode(Heartbeat(21, seq=2)))
        back = collect(kp, lambda evs: any(e.kind == "heartbeat" for e in evs))
        assert [e.up for e in back if e.kind == "link"] == [True]
    finally:
        kp.stop()
    downs = [r for r in caplog.records if "link down" in r.getMessage()]
    ups = [r for r in caplog.records if "link recovered" in r.getMessage()]
    assert len(downs) == 1 and downs[0].levelno == logging.WARNING
    assert len(ups) == 1


def test_a_port_that_will_not_open_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    def absent() -> SharedLoop:
        raise serial.SerialException("could not open port /dev/ttyUSB9: No such file")

    kp = SerialKeypad("/dev/ttyUSB9", clock=lambda: 1.0, reconnect_s=0.001, port_factory=absent)
    kp.start()
    try:
        assert wait_until(lambda: kp.stats.link.open_failures >= 5)
        assert kp.events() == [
            KeypadEvent(
                "link",
                1.0,
                up=False,
                detail="cannot open: could not open port /dev/ttyUSB9: No such file",
            )
        ]
        assert kp.link_up is False
    finally:
        kp.stop()
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


def test_after_a_reopen_the_staff_card_is_sent_again() -> None:
    first, second = SharedLoop(), SharedLoop()
    ports = iter([first, second])
    kp = SerialKeypad(
        "loop://", clock=lambda: 0.0, reconnect_s=0.001, port_factory=lambda: next(ports)
    )
    card = StaffCard("李四", "B002", "photo-2")
    kp.start()
    try:
        kp.show_staff(card)
        first.device_write(encode(Key(1, seq=1)))
        collect(kp, has_key(1))
        first.fail_reads = True  # unplugged
        collect(kp, lambda evs: any(e.kind == "link" and e.up is False for e in evs))
        second.device_write(encode(Heartbeat(0, seq=0)))
        collect(kp, lambda evs: any(e.kind == "link" and e.up for e in evs))
        assert wait_until(lambda: len(second.sent()) >= 2)
        resent = second.sent()
        assert resent[0] == ShowStaff("李四", "B002", "photo-2", seq=resent[0].seq)
        assert isinstance(resent[1], Ping)
    finally:
        kp.stop()


def test_commands_while_the_port_is_closed_are_counted() -> None:
    kp = SerialKeypad("loop://", clock=lambda: 0.0, port_factory=SharedLoop)
    kp.prompt_rating(10)  # not started: nothing to write to
    kp.thank_you()
    assert kp.stats.tx_dropped == 2


@pytest.mark.parametrize("timeout_s", [0.0, -1.0, 7000.0, float("inf"), float("nan")])
def test_prompt_timeout_out_of_range_is_a_clear_error(timeout_s: float) -> None:
    kp = SerialKeypad("loop://", clock=lambda: 0.0, port_factory=SharedLoop)
    with pytest.raises(ProtocolError, match="timeout_ds"):
        kp.prompt_rating(timeout_s)


def test_display_text_is_cut_to_the_protocol_limits(keypad: SerialKeypad, loop: SharedLoop) -> None:
    keypad.show_staff(StaffCard("名" * 50, "N" * 40, "p"))
    keypad.show_message("长" * 100)
    keypad.prompt_rating(10)
    assert wait_until(lambda: len(loop.sent()) >= 4)
    sent = loop.sent()
    staff = next(m for m in sent if isinstance(m, ShowStaff))
    assert staff.name == "名" * 32 and staff.staff_number == "N" * 32
    assert PromptRating(100, seq=3) in sent


def test_serial_back_ends_satisfy_the_hal_interfaces() -> None:
    # Checked by mypy (structural typing) as much as at run time.
    keypad: Keypad = SerialKeypad("loop://", clock=lambda: 0.0, port_factory=SharedLoop)
    badge: BadgeReader = SerialBadgeReader("loop://", clock=lambda: 0.0, port_factory=SharedLoop)
    assert keypad.events() == [] and badge.reads() == []
