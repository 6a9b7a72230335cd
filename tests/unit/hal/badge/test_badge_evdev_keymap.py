"""The pure key decoder behind the keyboard-emulation badge reader."""

from __future__ import annotations

import pytest

from hal.badge.keymap import (
    EV_KEY,
    EV_SYN,
    KEY_CHARS,
    KEY_ENTER,
    KEY_KPENTER,
    KEY_LEFTSHIFT,
    KEY_RIGHTSHIFT,
    KeyDecoder,
    KeyEvent,
    decode_keys,
    keys_for_text,
)
from hal.badge.lines import BadgeLineError

# Numbers from linux/input-event-codes.h, written out independently of the module under test.
KEY_1, KEY_2, KEY_3, KEY_4, KEY_0 = 2, 3, 4, 5, 11
KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F = 30, 48, 46, 32, 18, 33
KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP7, KEY_KP9 = 82, 79, 80, 71, 73
KEY_G, KEY_SPACE, KEY_LEFTCTRL = 34, 57, 29


def tap(*codes: int) -> list[tuple[int, int]]:
    """Down then up for each key, as a reader types."""
    return [e for c in codes for e in ((c, 1), (c, 0))]


def shifted(code: int) -> list[tuple[int, int]]:
    return [(KEY_LEFTSHIFT, 1), (code, 1), (code, 0), (KEY_LEFTSHIFT, 0)]


CTRL_C = [(KEY_LEFTCTRL, 1), *tap(KEY_C), (KEY_LEFTCTRL, 0)]


def test_codes_match_the_kernel_header() -> None:
    assert (EV_SYN, EV_KEY, KEY_ENTER, KEY_KPENTER) == (0, 1, 28, 96)
    assert (KEY_LEFTSHIFT, KEY_RIGHTSHIFT) == (42, 54)
    assert {KEY_CHARS[c] for c in range(2, 12)} == set("1234567890")
    assert [KEY_CHARS[c] for c in (71, 72, 73, 75, 76, 77, 79, 80, 81, 82)] == list("7894561230")
    assert [KEY_CHARS[c] for c in (KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F)] == list("ABCDEF")


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        pytest.param(tap(KEY_0, KEY_1, KEY_2, KEY_3, KEY_ENTER), ["0123"], id="top-row digits"),
        pytest.param(
            tap(KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP7, KEY_KP9, KEY_KPENTER),
            ["01279"],
            id="keypad digits + keypad enter",
        ),
        pytest.param(
            [
                *shifted(KEY_A),
                *shifted(KEY_B),
                *tap(KEY_C, KEY_D),
                *shifted(KEY_E),
                (KEY_RIGHTSHIFT, 1),
                *tap(KEY_F),
                (KEY_RIGHTSHIFT, 0),
                *tap(KEY_ENTER),
            ],
            ["ABCDEF"],
            id="hex letters with and without shift",
        ),
        pytest.param(
            [(KEY_1, 1), (KEY_1, 2), (KEY_1, 2), (KEY_1, 0), *tap(KEY_2, KEY_3, KEY_4, KEY_ENTER)],
            ["1234"],
            id="autorepeat and key-up ignored",
        ),
        pytest.param(
            tap(KEY_1, KEY_2, KEY_3, KEY_4, KEY_ENTER, KEY_4, KEY_3, KEY_2, KEY_1, KEY_ENTER),
            ["1234", "4321"],
            id="two taps",
        ),
        pytest.param(tap(KEY_ENTER, KEY_KPENTER), [], id="blank lines are nothing"),
        pytest.param(tap(KEY_1, KEY_2, KEY_3), [], id="no enter yet"),
        pytest.param(
            tap(KEY_1, KEY_2, KEY_ENTER, KEY_1, KEY_2, KEY_3, KEY_4, KEY_ENTER),
            [BadgeLineError("garbage", "not a UID: b'12'"), "1234"],
            id="too short is garbage",
        ),
        pytest.param(
            tap(KEY_1, KEY_2, KEY_G, KEY_3, KEY_4, KEY_ENTER),
            [BadgeLineError("garbage", "not a UID: b'12?34'")],
            id="non-hex letter",
        ),
        pytest.param(
            tap(KEY_1, KEY_2, KEY_SPACE, KEY_3, KEY_4, KEY_ENTER),
            [BadgeLineError("garbage", "not a UID: b'12?34'")],
            id="space",
        ),
        pytest.param(
            [*CTRL_C, *tap(KEY_1, KEY_2, KEY_3, KEY_ENTER)],
            [BadgeLineError("garbage", "not a UID: b'?C123'")],
            id="ctrl is not a shift",
        ),
    ],
)
def test_decode(events: list[tuple[int, int]], expected: list[str | BadgeLineError]) -> None:
    assert decode_keys(events) == expected


@pytest.mark.parametrize(
    ("length", "expected_uids", "expected_too_long"),
    [(31, 1, 0), (32, 1, 0), (33, 0, 1), (200, 0, 1)],
)
def test_line_length_limit(length: int, expected_uids: int, expected_too_long: int) -> None:
    decoder = KeyDecoder(max_line=32)
    out = []
    for code, value in tap(*[KEY_1] * length, KEY_ENTER, KEY_2, KEY_3, KEY_4, KEY_0, KEY_ENTER):
        out += decoder.feed(code, value)
    uids = [x for x in out if isinstance(x, str)]
    assert uids[-1] == "2340"  # the line after an over-long one is read normally
    assert len(uids) == expected_uids + 1
    assert decoder.stats.too_long == expected_too_long
    assert decoder.stats.uids == expected_uids + 1


def test_stats_count_each_kind() -> None:
    decoder = KeyDecoder()
    for code, value in tap(KEY_G, KEY_ENTER, KEY_1, KEY_2, KEY_3, KEY_4, KEY_ENTER):
        decoder.feed(code, value)
    assert (decoder.stats.lines, decoder.stats.uids, decoder.stats.garbage) == (2, 1, 1)


def test_reset_drops_a_half_typed_line() -> None:
    decoder = KeyDecoder()
    for code, value in tap(KEY_G, KEY_1):
        decoder.feed(code, value)
    decoder.reset()
    out = []
    for code, value in tap(KEY_1, KEY_2, KEY_3, KEY_4, KEY_ENTER):
        out += decoder.feed(code, value)
    assert out == ["1234"]


def test_keys_for_text_round_trips() -> None:
    events = keys_for_text("04a1b2c3")
    assert events[-2:] == [KeyEvent(KEY_ENTER, 1), KeyEvent(KEY_ENTER, 0)]
    assert decode_keys(events) == ["04A1B2C3"]
    with pytest.raises(ValueError, match="no key types 'G'"):
        keys_for_text("G123")
