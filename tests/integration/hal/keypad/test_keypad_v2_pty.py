"""Protocol version 2 between SerialKeypad and KeypadSim over a real pseudo-terminal.

A version-2 simulator moves the link to version 2; while a prompt is open only its
RATING_KEY for that prompt is a "key" event, a late answer to an older prompt is a
"stray_key". A version-1 simulator keeps the link at version 1, keys as before.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evaluator.sim import KeypadSim
from hal.keypad.protocol import VERSION, VERSION_2, RatingKey, encode
from hal.keypad.serial_keypad import SerialKeypad
from hal.pty import PtyPair
from tests.integration.hal.keypad.test_serial_keypad_pty import DEADLINE_S, collect, link_changes


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[PtyPair]:
    with PtyPair(tmp_path / "keypad") as pair:
        yield pair


@pytest.mark.parametrize("protocol", [VERSION, VERSION_2])
def test_the_link_speaks_the_keypads_version_and_gates_ratings(pty: PtyPair,
                                                               protocol: int) -> None:
    kp = SerialKeypad(pty.path, clock=time.monotonic, reconnect_s=0.02)
    kp.start()
    sim = KeypadSim.over_fd(pty.master_fd, heartbeat_s=0.2, ack_timeout_s=0.5,
                            protocol=protocol)
    sim.start()
    try:
        collect(kp, lambda evs: True in link_changes(evs))
        assert kp.stats.version == protocol
        kp.prompt_rating(10.0)
        assert sim.wait_for(lambda s: s.display.prompt_timeout_s == 10.0, DEADLINE_S)
        prompt_seq = sim.received[-1].seq
        if protocol == VERSION_2:
            # A late answer to an older prompt, as a keypad could send it: held back.
            sim.send_raw(encode(RatingKey(2, (prompt_seq - 1) % 256, seq=200), VERSION_2))
            stray = collect(kp, lambda evs: any(e.kind == "stray_key" for e in evs))
            assert [(e.key, e.detail) for e in stray if e.kind == "stray_key"] == [
                (2, "wrong_prompt")]
        sim.press(5)
        got = collect(kp, lambda evs: any(e.kind == "key" for e in evs))
        assert [e.key for e in got if e.kind == "key"] == [5]
        held = kp.stats.gate
        assert (held.admitted, held.wrong_prompt) == (1, int(protocol == VERSION_2))
        assert kp.stats.parser.frames_v2 > 0 if protocol == VERSION_2 else \
            kp.stats.parser.frames_v2 == 0
    finally:
        sim.stop()
        kp.stop()
