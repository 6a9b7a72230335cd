"""Turn a keyboard-emulation badge reader's key presses into UIDs. Pure.

A "keyboard wedge" reader types a UID as key presses and ends it with Enter. Each key is
translated to the character it stands for and fed to BadgeLineParser, so a typed UID is
judged exactly like a serial line (normalisation, garbage, over-long lines, counters).

Key codes are the kernel's (linux/input-event-codes.h), as python-evdev reports them; they
are spelled out here so this module needs neither evdev nor a kernel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hal.badge.lines import BadgeLineError, BadgeLineParser, BadgeLineStats

EV_SYN = 0
EV_KEY = 1

KEY_UP = 0
KEY_DOWN = 1
KEY_AUTOREPEAT = 2

KEY_ENTER = 28
KEY_KPENTER = 96
KEY_LEFTSHIFT = 42
KEY_RIGHTSHIFT = 54

# Top-row digits: KEY_1=2 ... KEY_9=10, KEY_0=11.
_TOP_ROW_DIGITS = {2 + i: str(i + 1) for i in range(9)} | {11: "0"}
_KEYPAD_DIGITS = {
    82: "0",
    79: "1",
    80: "2",
    81: "3",
    75: "4",
    76: "5",
    77: "6",
    71: "7",
    72: "8",
    73: "9",
}
# The keyboard's letter codes follow QWERTY positions, not the alphabet.
_HEX_LETTERS = {30: "A", 48: "B", 46: "C", 32: "D", 18: "E", 33: "F"}

KEY_CHARS: dict[int, str] = _TOP_ROW_DIGITS | _KEYPAD_DIGITS | _HEX_LETTERS
"""Key code -> the UID character it types. Shift is irrelevant: the code names the key."""

LINE_END_KEYS = frozenset({KEY_ENTER, KEY_KPENTER})

# Readers type upper-case hex with Shift; some layouts (AZERTY) need Shift for digits too.
# The key code already says which key it is, so Shift is neither a character nor an error.
NEUTRAL_KEYS = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})

# Stands for a key that cannot be part of a UID; normalise_badge_uid rejects it, so the line
# is reported as garbage, and the detail shows where in the line the stray key came.
_NOT_HEX = b"?"


@dataclass(frozen=True, slots=True)
class KeyEvent:
    """One EV_KEY event: ``value`` is 1 (down), 0 (up) or 2 (autorepeat)."""

    code: int
    value: int


class KeyDecoder:
    """Incremental: ``feed(code, value)`` returns the UIDs and rejections a key completed.

    Only key-down counts: key-up carries no character, and autorepeat means a key stuck
    down, which a reader never does on purpose. A line longer than ``max_line`` characters
    is rejected as "too_long"; a line with a key that is not a hex digit as "garbage".
    """

    def __init__(self, max_line: int = 32) -> None:
        self._parser = BadgeLineParser(max_line)

    @property
    def stats(self) -> BadgeLineStats:
        return self._parser.stats

    def feed(self, code: int, value: int) -> list[str | BadgeLineError]:
        if value != KEY_DOWN or code in NEUTRAL_KEYS:
            return []
        if code in LINE_END_KEYS:
            return self._parser.feed(b"\n")
        char = KEY_CHARS.get(code)
        return self._parser.feed(char.encode("ascii") if char is not None else _NOT_HEX)

    def reset(self) -> None:
        """Forget a half-typed line (the device went away mid-UID)."""
        self._parser.reset()


def decode_keys(
    events: Iterable[KeyEvent | tuple[int, int]], max_line: int = 32
) -> list[str | BadgeLineError]:
    """Decode a whole sequence of (code, value) key events; a trailing unfinished line is
    not a UID (no Enter yet) and is left out."""
    decoder = KeyDecoder(max_line)
    out: list[str | BadgeLineError] = []
    for event in events:
        code, value = (event.code, event.value) if isinstance(event, KeyEvent) else event
        out.extend(decoder.feed(code, value))
    return out


def keys_for_text(text: str) -> list[KeyEvent]:
    """The key events a top-row-typing reader sends for ``text`` + Enter (down/up pairs).

    Used by simulators and tests to "tap" a UID; raises ValueError for a character no key
    here types.
    """
    code_of = {char: code for code, char in (_TOP_ROW_DIGITS | _HEX_LETTERS).items()}
    events: list[KeyEvent] = []
    for char in text.upper():
        if char not in code_of:
            raise ValueError(f"no key types {char!r} (want hex digits)")
        events += [KeyEvent(code_of[char], KEY_DOWN), KeyEvent(code_of[char], KEY_UP)]
    return [*events, KeyEvent(KEY_ENTER, KEY_DOWN), KeyEvent(KEY_ENTER, KEY_UP)]
