"""Serial garbage never invents a window state change (docs/keypad-protocol.md, 5.4).

A state change needs a WINDOW_STATE_KEY that passes the CRC-32 of a version-2 frame and
carries a state code 1..3 together with its inverse. Random bytes, and corrupted streams
of real keypad traffic (heartbeats, key presses and state keys), are fed to the unit's
parser as a version-2 link does (version-1 frames refused); every WindowStateKey that
comes out must be one that was sent. A version-1 WINDOW_STATE_KEY that is intact and
CRC-valid is still never a state change: SerialKeypad refuses it (see
tests/integration/hal/keypad/test_window_state_keypad_pty.py), and a version-2 link drops it here.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hal.keypad.protocol import (
    VERSION,
    VERSION_2,
    FrameParser,
    Heartbeat,
    Key,
    Message,
    ParseError,
    WindowStateKey,
    encode,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def v2_parser() -> FrameParser:
    parser = FrameParser()
    parser.min_version = VERSION_2  # what SerialKeypad sets once the keypad spoke version 2
    return parser


def state_keys(data: bytes, cuts: list[int]) -> list[WindowStateKey]:
    parser, items, start = v2_parser(), [], 0
    for cut in [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]:
        items += parser.feed(data[start:cut])
        start = cut
    items += parser.idle()
    return [m for m in items if isinstance(m, WindowStateKey)]


@SETTINGS
@given(st.binary(max_size=4096), st.lists(st.integers(0, 4096), max_size=8))
def test_random_bytes_never_become_a_state_key(data: bytes, cuts: list[int]) -> None:
    assert state_keys(data, cuts) == []


@SETTINGS
@given(st.integers(1, 3), st.integers(0, 255), st.binary(min_size=1, max_size=32))
def test_a_version_1_state_key_is_dropped_on_a_version_2_link(state: int, seq: int,
                                                              noise: bytes) -> None:
    frame = encode(WindowStateKey(state, seq=seq), VERSION)
    assert state_keys(noise + frame + noise, []) == []


def _corrupt(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op, at = rng.randrange(3), rng.randrange(len(buf))
        if op == 0:
            buf[at] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf.insert(at, rng.randrange(256))
        elif len(buf) > 1:
            del buf[at]
    return bytes(buf)


def test_corrupted_traffic_invents_no_state_change() -> None:
    """Deterministic: 30 000 corrupted bursts of real traffic, every state key checked."""
    rng = random.Random(20261207)
    phantom = genuine = corrupted = 0
    for _ in range(30_000):
        sent: list[Message] = [Heartbeat(rng.getrandbits(32), seq=rng.randrange(256)),
                               Key(rng.randint(1, 255), seq=rng.randrange(256)),
                               WindowStateKey(rng.randint(1, 3), seq=rng.randrange(256))]
        frames = [encode(m, VERSION_2) for m in sent]
        hit = rng.randrange(len(frames))
        frames[hit] = _corrupt(rng, frames[hit])
        corrupted += 1
        key = sent[2]
        assert isinstance(key, WindowStateKey)
        for m in state_keys(b"".join(frames), [rng.randrange(64)]):
            # (A corruption that leaves the state key's own bytes whole, e.g. a byte
            # inserted before it, lets the real press through: that is not a phantom.)
            if (m.state, m.seq) == (key.state, key.seq):
                genuine += 1
            else:
                phantom += 1
    assert corrupted == 30_000
    assert genuine > 15_000  # the untouched state keys all came through
    assert phantom == 0


def test_parse_errors_are_counted_not_raised() -> None:
    parser = v2_parser()
    items = parser.feed(encode(WindowStateKey(2, seq=1), VERSION)[:-1] + b"\x00")
    items += parser.idle()
    assert all(isinstance(i, ParseError) for i in items)
