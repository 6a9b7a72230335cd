"""Window state keys and the customer notice between SerialKeypad and KeypadSim over a pty.

Version 2: the simulator's state key becomes a "window_state" event and the unit's
SHOW_WINDOW_STATE is on the simulator's screen. Version 1: the same key is refused (ACK
status 1, counted, no event) and the notice goes out as a plain message.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evaluator.sim import KeypadSim
from evaluator.sim_cli import keypad_main
from hal.keypad.protocol import VERSION, VERSION_2, Ack, AckStatus
from hal.keypad.serial_keypad import SerialKeypad
from hal.pty import PtyPair
from tests.integration.hal.keypad.test_serial_keypad_pty import DEADLINE_S, collect, link_changes


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[PtyPair]:
    with PtyPair(tmp_path / "keypad") as pair:
        yield pair


def _pair(pty: PtyPair, protocol: int) -> tuple[SerialKeypad, KeypadSim]:
    kp = SerialKeypad(pty.path, clock=time.monotonic, reconnect_s=0.02)
    kp.start()
    sim = KeypadSim.over_fd(pty.master_fd, heartbeat_s=0.2, ack_timeout_s=0.5,
                            protocol=protocol)
    sim.start()
    collect(kp, lambda evs: True in link_changes(evs))
    return kp, sim


def test_version_2_state_keys_and_notice(pty: PtyPair) -> None:
    kp, sim = _pair(pty, VERSION_2)
    try:
        assert kp.stats.version == VERSION_2
        seq = sim.window_state("closed")
        got = collect(kp, lambda evs: any(e.kind == "window_state" for e in evs))
        assert [(e.state, e.seq) for e in got if e.kind == "window_state"] == [("closed", seq)]
        assert sim.wait_for(lambda s: s.unacked == 0, DEADLINE_S)
        kp.show_window_state("closed", "暂停服务")
        assert sim.wait_for(lambda s: s.display.window_state == ("closed", "暂停服务"),
                            DEADLINE_S)
        kp.show_window_state("open", "")
        assert sim.wait_for(lambda s: s.display.window_state is None, DEADLINE_S)
    finally:
        sim.stop()
        kp.stop()


def test_version_1_state_key_is_refused_and_the_notice_is_a_message(pty: PtyPair) -> None:
    kp, sim = _pair(pty, VERSION)
    try:
        assert kp.stats.version == VERSION
        seq = sim.window_state("away")
        assert sim.wait_for(lambda s: any(
            isinstance(m, Ack) and m.acked_seq == seq and m.status == AckStatus.UNSUPPORTED
            for m in s.received), DEADLINE_S)
        sim.press(3)  # a later press still arrives: the refusal blocked nothing
        got = collect(kp, lambda evs: any(e.kind == "key" for e in evs))
        assert not [e for e in got if e.kind == "window_state"]
        assert kp.stats.state_keys_v1 == 1
        kp.show_window_state("away", "外出办公")
        assert sim.wait_for(lambda s: s.display.message == "外出办公", DEADLINE_S)
        assert sim.display.window_state is None
    finally:
        sim.stop()
        kp.stop()


def test_keypad_sim_command_line_state_keys(tmp_path: Path) -> None:
    """``counterunit keypad-sim --interactive``: c / a / o press the state keys."""
    link = tmp_path / "keypad-cli"
    kp = SerialKeypad(str(link), clock=time.monotonic, reconnect_s=0.02)
    kp.start()
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r")
    cli = threading.Thread(target=keypad_main, args=(["--port", str(link), "--interactive"],),
                           kwargs={"stdin": stdin})
    cli.start()
    try:
        collect(kp, lambda evs: True in link_changes(evs))
        # Wait for version 2: a state key sent before the link moved would be refused.
        deadline = time.monotonic() + DEADLINE_S
        while kp.stats.version != VERSION_2:
            assert time.monotonic() < deadline, "link never reached version 2"
            kp.wait_for_event(0.05)
        os.write(write_fd, b"c\na\no\n")
        got = collect(kp, lambda evs: len([e for e in evs if e.kind == "window_state"]) == 3)
        os.write(write_fd, b"q\n")
        cli.join(DEADLINE_S)
    finally:
        os.close(write_fd)
        kp.stop()
        stdin.close()
    assert [e.state for e in got if e.kind == "window_state"] == ["closed", "away", "open"]
    assert not cli.is_alive()


def test_the_notice_is_restored_after_a_replug(pty: PtyPair) -> None:
    kp, sim = _pair(pty, VERSION_2)
    try:
        kp.show_window_state("away", "外出办公")
        assert sim.wait_for(lambda s: s.display.window_state == ("away", "外出办公"), DEADLINE_S)
        sim.stop()
        pty.unplug()
        collect(kp, lambda evs: False in link_changes(evs), timeout_s=15)
        pty.open()
        sim = KeypadSim.over_fd(pty.master_fd, heartbeat_s=0.2, ack_timeout_s=0.5)
        sim.start()  # a rebooted keypad: blank screen
        assert sim.wait_for(lambda s: s.display.window_state == ("away", "外出办公"),
                            DEADLINE_S), "notice not restored"
    finally:
        sim.stop()
        kp.stop()
