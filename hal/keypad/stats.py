"""The serial keypad's counters, as ``SerialKeypad.stats()`` reports them."""

from __future__ import annotations

from dataclasses import dataclass

from hal.keypad.protocol import ParserStats
from hal.keypad.rating_gate import GateStats
from hal.serial_link import LinkStats


@dataclass(frozen=True, slots=True)
class KeypadStats:
    """A snapshot of the keypad link's counters."""

    parser: ParserStats
    link: LinkStats
    events_dropped: int
    duplicates: int
    unexpected: int
    tx_dropped: int
    acks: int
    nacks: int
    pongs: int
    version: int  # the protocol version the link speaks now
    gate: GateStats
    state_keys_v1: int = 0  # WINDOW_STATE_KEY in a version-1 frame: refused, never applied
