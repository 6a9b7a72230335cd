"""The keypad's reports as state machine inputs (firmware/daemon/inputs.py), table-first."""

from __future__ import annotations

import pytest

from firmware.daemon.inputs import keypad_input
from firmware.machine.model import (
    KeyPressed,
    ManualRecordPressed,
    PleaseRatePressed,
    WindowStateRequested,
)
from hal.keypad.base import KeypadEvent

CASES = [
    (KeypadEvent("key", 0.0, key=3, seq=7), KeyPressed(3, 7)),
    (KeypadEvent("key", 0.0), None),  # a key report without its code is not a press
    (KeypadEvent("stray_key", 0.0, key=3, detail="no prompt"), None),
    (KeypadEvent("please_rate", 0.0), PleaseRatePressed()),
    (KeypadEvent("manual_record", 0.0), ManualRecordPressed()),
    (KeypadEvent("window_state", 0.0, state="away"), WindowStateRequested("away", "keypad")),
    (KeypadEvent("window_state", 0.0), None),
    (KeypadEvent("heartbeat", 0.0), None),
    (KeypadEvent("fault", 0.0, detail="E12 paper"), ("keypad_fault", {"detail": "E12 paper"})),
    (KeypadEvent("link", 0.0, up=False, detail="EIO"), ("keypad_link_down", {"detail": "EIO"})),
    (KeypadEvent("link", 0.0, up=True), ("keypad_link_up", {"detail": ""})),
]


@pytest.mark.parametrize(("event", "expected"), CASES)
def test_keypad_input(event: KeypadEvent, expected: object) -> None:
    assert keypad_input(event) == expected
