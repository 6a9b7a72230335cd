"""SerialKeypad <-> KeypadSim over a real pseudo-terminal."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Unpack

import pytest
import serial

from evaluator.sim import DisplayState, KeypadSim, SimOptions
from hal.keypad.base import KeypadEvent, StaffCard
from hal.keypad.protocol import FrameParser, Key, Message, ParseError, encode
from hal.keypad.serial_keypad import SerialKeypad
from hal.pty import PtyPair

DEADLINE_S = 5.0
CARD = StaffCard("王小明", "A00123", "photo-0123")


def collect(
    kp: SerialKeypad, until: Callable[[list[KeypadEvent]], bool], timeout_s: float = DEADLINE_S
) -> list[KeypadEvent]:
    got: list[KeypadEvent] = []
    deadline = time.monotonic() + timeout_s
    while not until(got):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"deadline passed; events so far: {got}"
        kp.wait_for_event(remaining)
        got += kp.events()
    return got


def keys(events: list[KeypadEvent]) -> list[int | None]:
    return [e.key for e in events if e.kind == "key"]


def link_changes(events: list[KeypadEvent]) -> list[bool | None]:
    return [e.up for e in events if e.kind == "link"]


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[PtyPair]:
    with PtyPair(tmp_path / "keypad") as pair:
        yield pair


@pytest.fixture
def keypad(pty: PtyPair) -> Iterator[SerialKeypad]:
    kp = SerialKeypad(pty.path, clock=time.monotonic, reconnect_s=0.02)
    kp.start()
    yield kp
    kp.stop()


def start_sim(pty: PtyPair, **kwargs: Unpack[SimOptions]) -> KeypadSim:
    options: SimOptions = {"heartbeat_s": 0.2, "ack_timeout_s": 0.5}
    options.update(kwargs)
    sim = KeypadSim.over_fd(pty.master_fd, **options)
    sim.start()
    return sim


@pytest.fixture
def sim(pty: PtyPair, keypad: SerialKeypad) -> Iterator[KeypadSim]:
    """A simulator the keypad is already talking to (commands sent before the port is
    open are dropped by design, except the staff card which is re-sent on open)."""
    s = start_sim(pty)
    collect(keypad, lambda evs: True in link_changes(evs))
    yield s
    s.stop()


def test_staff_card_arrives_on_the_simulator(keypad: SerialKeypad, sim: KeypadSim) -> None:
    keypad.show_staff(CARD)
    assert sim.wait_for(lambda s: s.display.staff is not None, DEADLINE_S)
    assert sim.display.staff == ("王小明", "A00123", "photo-0123")
    keypad.show_staff(None)
    assert sim.wait_for(lambda s: s.display.staff is None, DEADLINE_S)


def test_prompt_is_answered_by_the_scripted_key(pty: PtyPair, keypad: SerialKeypad) -> None:
    sim = start_sim(pty, auto_rate=[5, None, 1], auto_rate_delay_s=0.05)
    try:
        collect(keypad, lambda evs: True in link_changes(evs))
        keypad.prompt_rating(10.0)
        assert sim.wait_for(lambda s: s.display.prompt_timeout_s == 10.0, DEADLINE_S)
        first = collect(keypad, lambda evs: bool(keys(evs)))
        keypad.thank_you()
        assert sim.wait_for(lambda s: s.display.thank_you, DEADLINE_S)
        keypad.prompt_rating(10.0)  # the script lets this one time out
        keypad.prompt_rating(10.0)
        second = collect(keypad, lambda evs: bool(keys(evs)))
        assert keys(first) == [5] and keys(second) == [1]
        assert [(a.kind, a.key) for a in sim.actions] == [
            ("key", 5),
            ("auto_skip", None),
            ("key", 1),
        ]
        assert sim.wait_for(lambda s: s.done, DEADLINE_S)
    finally:
        sim.stop()


def test_a_double_press_arrives_as_two_events(keypad: SerialKeypad, sim: KeypadSim) -> None:
    first, second = sim.press(4), sim.press(4)
    events = collect(keypad, lambda evs: len(keys(evs)) == 2)
    assert [(e.key, e.seq) for e in events if e.kind == "key"] == [(4, first), (4, second)]
    assert sim.wait_for(lambda s: s.unacked == 0, DEADLINE_S)
    assert keypad.stats.duplicates == 0


def test_staff_keys_arrive_as_their_own_events(keypad: SerialKeypad, sim: KeypadSim) -> None:
    sim.please_rate()
    sim.manual_record()
    sim.fault(3, "key stuck")
    events = collect(keypad, lambda evs: any(e.kind == "fault" for e in evs))
    staff = [e for e in events if e.kind not in ("link", "heartbeat")]
    assert [e.kind for e in staff] == ["please_rate", "manual_record", "fault"]
    assert staff[-1].detail == "3: key stuck"


def test_garbage_on_the_line_does_not_break_the_next_frame(
    keypad: SerialKeypad, sim: KeypadSim
) -> None:
    broken = bytearray(encode(Key(5, seq=99)))
    broken[-1] ^= 0xFF
    sim.send_raw(random.Random(3).randbytes(16 * 1024) + bytes(broken))
    sim.press(2)
    events = collect(keypad, lambda evs: bool(keys(evs)))
    assert keys(events) == [2]  # the broken KEY 5 is not a rating
    stats = keypad.stats.parser
    assert stats.rejected > 0 and stats.garbage_bytes > 8 * 1024
    assert keypad.link_up is True


def test_unplug_and_replug(
    pty: PtyPair, keypad: SerialKeypad, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hal.keypad.serial_keypad")
    sim = start_sim(pty)
    keypad.show_staff(CARD)
    assert sim.wait_for(lambda s: s.display.staff is not None, DEADLINE_S)
    before = collect(keypad, lambda evs: True in link_changes(evs))

    sim.stop()
    pty.unplug()
    down = collect(keypad, lambda evs: False in link_changes(evs))
    failures = keypad.stats.link.open_failures
    deadline = time.monotonic() + DEADLINE_S
    while keypad.stats.link.open_failures < failures + 3:  # several reopen attempts fail
        assert time.monotonic() < deadline
        keypad.wait_for_event(0.02)
    keypad.show_message("offline")  # dropped and counted, not raised

    pty.replug()
    sim2 = start_sim(pty)
    try:
        # The card comes back on the replugged (blank) keypad without anyone re-sending it.
        assert sim2.wait_for(lambda s: s.display.staff is not None, DEADLINE_S)
        seq = sim2.press(3)
        after = collect(keypad, lambda evs: bool(keys(evs)))
    finally:
        sim2.stop()
    assert link_changes(before) == [True]
    assert link_changes(down) == [False]
    assert link_changes(after) == [True]
    assert [(e.key, e.seq) for e in after if e.kind == "key"] == [(3, seq)]
    assert keypad.stats.tx_dropped >= 1
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "link down" in m]) == 1
    assert len([m for m in messages if "link recovered" in m]) == 1


def test_a_silent_keypad_takes_the_link_down(pty: PtyPair) -> None:
    kp = SerialKeypad(pty.path, clock=time.monotonic, reconnect_s=0.02, link_timeout_s=0.3)
    sim = start_sim(pty, heartbeat_s=None)  # answers PING, then never speaks
    kp.start()
    try:
        events = collect(kp, lambda evs: link_changes(evs) == [True, False])
        assert "no frame for 0.3 s" in events[-1].detail
        sim.press(1)
        assert link_changes(collect(kp, lambda evs: bool(keys(evs)))) == [True]
    finally:
        kp.stop()
        sim.stop()


def test_the_simulator_retransmits_an_unacked_press(pty: PtyPair) -> None:
    # No SerialKeypad here: the test reads the unit's side itself and never ACKs.
    sim = KeypadSim.over_fd(pty.master_fd, heartbeat_s=None, ack_timeout_s=0.05, retries=2)
    with serial.serial_for_url(pty.path, timeout=0.05) as unit_side:
        sim.start()
        try:
            seq = sim.press(4)
            assert sim.wait_for(lambda s: s.counters.gave_up == 1, DEADLINE_S)
            received = read_messages(unit_side)
        finally:
            sim.stop()
    assert received == [Key(4, seq=seq)] * 3
    assert sim.counters.retransmissions == 2


def read_messages(port: serial.SerialBase) -> list[Message]:
    parser = FrameParser()
    out: list[Message] = []
    while chunk := port.read(4096):
        out += [m for m in parser.feed(chunk) if not isinstance(m, ParseError)]
    return out


def test_display_state_follows_the_commands(keypad: SerialKeypad, sim: KeypadSim) -> None:
    keypad.show_staff(CARD)
    keypad.show_message("请稍候")
    keypad.set_brightness(70)
    keypad.set_volume(20)
    expected = DisplayState(
        staff=("王小明", "A00123", "photo-0123"), message="请稍候", brightness=70, volume=20
    )
    assert sim.wait_for(lambda s: s.display == expected, DEADLINE_S), sim.display
    keypad.clear()
    assert sim.wait_for(lambda s: s.display.message is None, DEADLINE_S)
    keypad.ping()
    collect(keypad, lambda _: keypad.stats.pongs >= 2)  # heartbeats wake this up
